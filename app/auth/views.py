from flask import (
    Blueprint,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from app import broker, letters, outages
from app.auth import browser, codes, sessions, throttle
from app.auth.forms import SignInForm, VerifyForm
from app.auth.letters import SIGNIN_CODE
from app.data import users
from app.web import go_to, local_path, render

bp = Blueprint("auth", __name__)
bp.after_request(browser.remember)

CODE_ERRORS = {
    codes.Outcome.LOCKED: "Too many wrong tries. Ask for a new code with Resend code.",
    codes.Outcome.EXPIRED: "That code has expired. Ask for a new one with Resend code.",
    codes.Outcome.USED: "That code has already been used. Ask for a new one with Resend code.",
}


def _code_email(email, code):
    return letters.job(email, SIGNIN_CODE, {"code": code, "minutes": codes.CODE_TTL // 60})


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


def pending_signin():
    """(email, attempt) of the sign-in this browser session started, or (None, None)."""
    pending = session.get("signin")
    if not isinstance(pending, dict):
        return None, None
    return pending.get("email"), pending.get("attempt")


@bp.get("/signin")
def signin():
    """The sign-in page. `next` is where a page that needed a session sent
    the person from (a chat linked in an email, say): they land there after."""
    after = local_path(request.args.get("next"))
    if g.user_id:
        return redirect(after or url_for("chats.home"))
    if after:
        session["next"] = after
    browser.browser_id()  # the browser has its id before it asks for a code
    # "Use a different email" comes here: the address given last is there to correct.
    email, _ = pending_signin()
    return render_template("auth/signin.html", form=SignInForm(data={"email": email or ""}))


@bp.post("/signin")
def send_code():
    form = SignInForm()
    if not form.validate():
        return _send_code_failed(form, None, 422)
    email = form.email.data
    try:
        counted = throttle.asking_for_code(email)
    except throttle.Refused as refusal:
        return _send_code_failed(form, str(refusal), 429)
    pending_email, attempt = pending_signin()
    if pending_email != email or not attempt:
        attempt = codes.new_attempt()
    code = codes.new_code()
    codes.store(email, attempt, code)
    try:
        broker.publish(broker.SEND_OTP, _code_email(email, code))
    except broker.PublishError:
        codes.discard(email, attempt)
        throttle.give_back(counted)
        return _send_code_failed(form, outages.MESSAGE, 503)
    session["signin"] = {"email": email, "attempt": attempt}
    flash(
        f"We sent a new code to {email}."
        if form.resend.data
        else f"We sent a code to {email}. It works for {codes.CODE_TTL // 60} minutes."
    )
    return go_to(url_for("auth.verify"))


@bp.get("/verify")
def verify():
    email, _ = pending_signin()
    if not email:
        return redirect(url_for("auth.signin"))
    return render_template("auth/verify.html", form=VerifyForm(), email=email)


@bp.post("/verify")
def check_code():
    email, attempt = pending_signin()
    if not (email and attempt):
        flash("Your sign-in timed out. Enter your email again.")
        return go_to(url_for("auth.signin"))
    form = VerifyForm()
    if form.validate():
        try:
            throttle.trying_code()
        except throttle.Refused as refusal:
            form.code.errors.append(str(refusal))
            return render("auth/verify.html", "auth/_verify_panel.html", 429, form=form, email=email)
        outcome, tries_left = codes.check(email, attempt, form.code.data)
        if outcome is codes.Outcome.OK:
            throttle.signed_in(email)
            user = users.find_or_create(email)
            after = local_path(session.get("next"))
            session.clear()  # signed in, the JWT carries all there is: no session cookie to read per request
            if not user.get("name_chosen", True):  # first time: their name first, then on
                after = url_for("people.welcome", next=after)
            response = make_response(go_to(after or url_for("chats.home")))
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


@bp.post("/signout/everywhere")
@sessions.login_required
def signout_everywhere():
    """Profile's "Sign out of all devices": every session of the person ends."""
    response = make_response(go_to(url_for("auth.signin")))
    sessions.end_everywhere(response)
    flash("You have signed out on all your devices.")
    return response
