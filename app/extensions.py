"""Flask extensions, created here and bound to the app in create_app."""

from flask_compress import Compress
from flask_jwt_extended import JWTManager
from flask_sock import Sock

from app.mailing import Mail

compress = Compress()
jwt = JWTManager()
mail = Mail()
sock = Sock()
