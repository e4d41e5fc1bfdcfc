from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Regexp, ValidationError

from app.forms import Form, strip

MAX_TEXT = 4000


def trim_ends(value):
    """Drop blank lines and spaces around a message, keep those inside it."""
    return value.strip() if isinstance(value, str) else value


class MessageForm(Form):
    client_id = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9a-f]{32}$")])
    text = TextAreaField("Message", filters=[trim_ends])
    image = FileField("Attach image")
    alt = StringField(
        "Image description",
        filters=[strip],
        validators=[Length(max=300, message="Keep the image description under 300 characters.")],
    )

    def validate_text(self, field):
        if len(field.data or "") > MAX_TEXT:
            raise ValidationError(
                f"A message can be at most {MAX_TEXT:,} characters; this one has {len(field.data):,}."
            )
        if not field.data and not self.image.data:
            raise ValidationError("Write a message or attach an image.")

    def first_error(self):
        if self.client_id.errors:
            return "This form has expired. Reload the page and try again."
        for name in ("text", "alt"):
            if self[name].errors:
                return self[name].errors[0]
        return "We could not read that message."
