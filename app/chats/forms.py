from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from app.chats.sending.job import CLIENT_ID, MAX_ALT, text_problem
from app.forms import Form, strip


def trim_ends(value):
    """Drop blank lines and spaces around a message, keep those inside it."""
    return value.strip() if isinstance(value, str) else value


class MessageForm(Form):
    client_id = HiddenField(validators=[InputRequired(), Regexp(CLIENT_ID)])
    text = TextAreaField("Message", filters=[trim_ends])
    reply_to = HiddenField(validators=[Optional(), Regexp(CLIENT_ID)])  # the client_id of the message it answers
    image = FileField("Attach image")
    alt = StringField(
        "Image description",
        filters=[strip],
        validators=[Length(max=MAX_ALT, message=f"Keep the image description under {MAX_ALT} characters.")],
    )

    def validate_text(self, field):
        problem = text_problem(field.data or "", bool(self.image.data))
        if problem:
            raise ValidationError(problem)

    def first_error(self):
        if self.client_id.errors:
            return "This form has expired. Reload the page and try again."
        if self.reply_to.errors:
            return "The message you are replying to is not in this chat. Reply to another one."
        for name in ("text", "alt"):
            if self[name].errors:
                return self[name].errors[0]
        return "We could not read that message."


class EditForm(Form):
    """A message's new text; `client_id` is the edit's own id (the composer's), so a second submit changes nothing."""

    client_id = HiddenField(validators=[InputRequired(), Regexp(CLIENT_ID)])
    text = TextAreaField("Message", filters=[trim_ends])
