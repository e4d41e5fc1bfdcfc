"""The sign-in code, as a letter (app/letters.py) on `send-otp`."""

import re

from app import broker, letters


def check(values):
    letters.exactly(values, {"code", "minutes"})
    # Six digits from the pages, eight from the API (app/api: the original's clients take eight).
    if not (isinstance(values["code"], str) and re.fullmatch(r"\d{6}|\d{8}", values["code"])):
        raise ValueError("code is not six or eight digits")
    letters.whole(values["minutes"], "minutes", 1, 60)


SIGNIN_CODE = letters.Letter(
    name="signin_code", queue=broker.SEND_OTP, check=check, subject=lambda values: "Your Parley sign-in code"
)
