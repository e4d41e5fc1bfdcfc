"""Flask extensions, created here and bound to the app in create_app."""

from flask_compress import Compress
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_sock import Sock
from flask_wtf.csrf import CSRFProtect

compress = Compress()
csrf = CSRFProtect()
jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address)
mail = Mail()
sock = Sock()
