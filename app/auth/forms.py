from email_validator import EmailNotValidError, validate_email
from wtforms import EmailField, HiddenField, StringField
from wtforms.validators import DataRequired, Regexp, ValidationError

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
        validators=[DataRequired("Enter your email address.")],
    )
    resend = HiddenField()

    def validate_email(self, field):
        """A deliverable form of the address: the domain in ASCII (IDNA), so
        any mail server takes it. Letters beyond ASCII before the @ need
        SMTPUTF8, which not every server has: those addresses are refused."""
        try:
            found = validate_email(field.data, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError:
            local = field.data.rpartition("@")[0]
            if local and not local.isascii():
                raise ValidationError(
                    "Parley can't send a code to an address with accents or other scripts before the @ yet. "
                    "Use another address."
                ) from None
            raise ValidationError("Enter an email address like name@example.com.") from None
        field.data = found.ascii_email


class VerifyForm(Form):
    code = StringField(
        "Verification code",
        filters=[digits_only],
        validators=[
            DataRequired("Enter the 6-digit code from your email."),
            Regexp(r"^[0-9]{6}$", message="The code is 6 digits, numbers only, like 123456."),
        ],
    )
