from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.data.users import MAX_NAME
from app.forms import Form, strip


class ProfileForm(Form):
    name = StringField(
        "Name",
        filters=[strip],
        validators=[
            DataRequired("Enter the name people will see."),
            Length(max=MAX_NAME, message=f"Your name can be at most {MAX_NAME} characters."),
        ],
    )
