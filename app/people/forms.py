from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app import formatting
from app.data.users import MAX_NAME
from app.forms import Form
from app.people import names

NO_ZONE = ""


def zone_choices():
    zones = [(name, name.replace("_", " ")) for name in formatting.zone_names()]
    return [(NO_ZONE, "Not set (times show in UTC)"), *zones]


def shows_as_itself(form, field):
    try:
        names.check(field.data)
    except ValueError as refusal:
        raise ValidationError(str(refusal)) from None


class NameForm(Form):
    name = StringField(
        "Name",
        filters=[names.normal],
        validators=[
            DataRequired("Enter the name people will see."),
            shows_as_itself,
            Length(max=MAX_NAME, message=f"Your name can be at most {MAX_NAME} characters."),
        ],
    )


class ProfileForm(NameForm):
    time_zone = SelectField("Time zone", choices=zone_choices, validate_choice=True)
