"""Signing in by emailed code, the same for the sign-in pages and the API:
asking for a code (counted against the limits, stored hashed, mailed
through `send-otp`) and trying it. Pages send 6 digits; the API sends 8, as
the original system's clients check."""

from flask import session

from app import broker, letters
from app.auth import codes, throttle
from app.auth.letters import SIGNIN_CODE
from app.data import users

CODE_ERRORS = {
    codes.Outcome.LOCKED: "Too many wrong tries. Ask for a new code with Resend code.",
    codes.Outcome.EXPIRED: "That code has expired. Ask for a new one with Resend code.",
    codes.Outcome.USED: "That code has already been used. Ask for a new one with Resend code.",
}


def code_email(email, code):
    return letters.job(email, SIGNIN_CODE, {"code": code, "minutes": codes.CODE_TTL // 60})


def send_code(email, attempt, digits=codes.DIGITS):
    """Mail a new code for this sign-in attempt. throttle.Refused when a limit
    says no; broker.PublishError when the broker did not take the mail (then
    nothing counted, and no code is kept)."""
    counted = throttle.asking_for_code(email)
    code = codes.new_code(digits)
    codes.store(email, attempt, code)
    try:
        broker.publish(broker.SEND_OTP, code_email(email, code))
    except broker.PublishError:
        codes.discard(email, attempt)
        throttle.give_back(counted)
        raise


def try_code(email, attempt, code):
    """(codes.Outcome, tries left, the user when the code is right: created
    on first sign-in). throttle.Refused when this requester tried too often."""
    throttle.trying_code()
    outcome, tries_left = codes.check(email, attempt, code)
    if outcome is not codes.Outcome.OK:
        return outcome, tries_left, None
    throttle.signed_in(email)  # this browser may ask for the address's codes past strangers' limits
    return outcome, tries_left, users.find_or_create(email)


def code_error(outcome, tries_left):
    """What the person is told of a code that did not sign them in."""
    if outcome is codes.Outcome.WRONG:
        tries = "1 try" if tries_left == 1 else f"{tries_left} tries"
        return f"That code is not right. You have {tries} left."
    return CODE_ERRORS[outcome]


def pending_signin():
    """(email, attempt) of the sign-in this browser session started, or (None, None)."""
    pending = session.get("signin")
    if not isinstance(pending, dict):
        return None, None
    return pending.get("email"), pending.get("attempt")


def signin_attempt(email):
    """The id of this browser session's sign-in attempt for `email`: a new one for another address."""
    pending_email, attempt = pending_signin()
    return attempt if pending_email == email and attempt else codes.new_attempt()


def remember_attempt(email, attempt):
    """A code was sent: the session's attempt is the one it belongs to."""
    session["signin"] = {"email": email, "attempt": attempt}
