from flask import (
    Blueprint,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)

from app import broker, outages
from app.auth import codes, sessions, throttle
from app.auth.forms import SignInForm, VerifyForm
from app.data import users
from app.web import go_to, render

bp = Blueprint("auth", __name__)

CODE_ERRORS = {
    codes.Outcome.LOCKED: "Too many wrong tries. Ask for a new code with Resend code.",
    codes.Outcome.EXPIRED: "That code has expired. Ask for a new one with Resend code.",
    codes.Outcome.USED: "That code has already been used. Ask for a new one with Resend code.",
}


def _code_email(email, code):
    minutes = codes.CODE_TTL // 60
    return {
        "to": email,
        "subject": "Your Parley sign-in code",
        "body": (
            f"Your Parley sign-in code is {code}.\n\n"
            f"It works for {minutes} minutes. If you did not ask for it, you can ignore this email.\n"
        ),
    }


def _send_code_failed(form, message, status):
    """Show `message` where the request came from: the sign-in or the verify page."""
    if form.resend.data:
        return render(
            "auth/verify.html",
            "auth/_verify_panel.html",
            status,
            form=VerifyForm(formdata=None),
            email=form.email.data,
            resend_error=message,
        )
    return render("auth/signin.html", "auth/_signin_panel.html", status, form=form, error=message)


@bp.get("/signin")
def signin():
    if g.user_id:
        return redirect(url_for("chats.home"))
    return render_template("auth/signin.html", form=SignInForm())


@bp.post("/signin")
def send_code():
    form = SignInForm()
    if not form.validate():
        return _send_code_failed(form, None, 422)
    email = form.email.data
    refusal = throttle.refusal(email)
    if refusal:
        return _send_code_failed(form, refusal, 429)
    code = codes.new_code()
    codes.store(email, code)
    try:
        broker.publish(broker.SEND_OTP, _code_email(email, code))
    except broker.PublishError:
        codes.discard(email)
        return _send_code_failed(form, outages.MESSAGE, 503)
    throttle.count(email)
    session["signin_email"] = email
    flash(
        f"We sent a new code to {email}."
        if form.resend.data
        else f"We sent a code to {email}. It works for {codes.CODE_TTL // 60} minutes."
    )
    return go_to(url_for("auth.verify"))


@bp.get("/verify")
def verify():
    email = session.get("signin_email")
    if not email:
        return redirect(url_for("auth.signin"))
    return render_template("auth/verify.html", form=VerifyForm(), email=email)


@bp.post("/verify")
def check_code():
    email = session.get("signin_email")
    if not email:
        flash("Your sign-in timed out. Enter your email again.")
        return go_to(url_for("auth.signin"))
    form = VerifyForm()
    if form.validate():
        outcome, tries_left = codes.check(email, form.code.data)
        if outcome is codes.Outcome.OK:
            user = users.find_or_create(email)
            session.clear()  # signed in, the JWT carries all there is: no session cookie to read per request
            first_time = not user.get("name_chosen", True)
            response = make_response(go_to(url_for("people.welcome" if first_time else "chats.home")))
            sessions.start(response, user["_id"])
            return response
        if outcome is codes.Outcome.WRONG:
            tries = "1 try" if tries_left == 1 else f"{tries_left} tries"
            form.code.errors.append(f"That code is not right. You have {tries} left.")
        else:
            form.code.errors.append(CODE_ERRORS[outcome])
    return render("auth/verify.html", "auth/_verify_panel.html", 422, form=form, email=email)


@bp.post("/signout")
def signout():
    response = make_response(go_to(url_for("auth.signin")))
    sessions.end(response)
    flash("You have signed out.")
    return response
