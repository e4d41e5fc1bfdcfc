from wtforms import EmailField, HiddenField, StringField
from wtforms.validators import DataRequired, Email, Regexp

from app.forms import Form, strip


def lower(value):
    return value.lower() if isinstance(value, str) else value


def digits_only(value):
    """People paste codes as "123 456" or "123-456"."""
    return "".join(value.split()).replace("-", "") if isinstance(value, str) else value


class SignInForm(Form):
    email = EmailField(
        "Email",
        filters=[strip, lower],
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter an email address like name@example.com."),
        ],
    )
    resend = HiddenField()


class VerifyForm(Form):
    code = StringField(
        "Verification code",
        filters=[digits_only],
        validators=[
            DataRequired("Enter the 6-digit code from your email."),
            Regexp(r"^[0-9]{6}$", message="The code is 6 digits, numbers only, like 123456."),
        ],
    )
