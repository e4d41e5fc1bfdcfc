from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from app import formatting
from app.data.users import MAX_NAME
from app.forms import Form, strip

NO_ZONE = ""


def zone_choices():
    zones = [(name, name.replace("_", " ")) for name in formatting.zone_names()]
    return [(NO_ZONE, "Not set (times show in UTC)"), *zones]


class NameForm(Form):
    name = StringField(
        "Name",
        filters=[strip],
        validators=[
            DataRequired("Enter the name people will see."),
            Length(max=MAX_NAME, message=f"Your name can be at most {MAX_NAME} characters."),
        ],
    )


class ProfileForm(NameForm):
    time_zone = SelectField("Time zone", choices=zone_choices, validate_choice=True)
