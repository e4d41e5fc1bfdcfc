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

from app import broker, outages
from app.auth import browser, codes, otp, sessions, throttle
from app.auth.forms import SignInForm, VerifyForm
from app.web import go_to, local_path, render

bp = Blueprint("auth", __name__)
bp.after_request(browser.remember)


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
    """The sign-in page. `next` is where a page that needed a session sent
    the person from (a chat linked in an email, say): they land there after."""
    after = local_path(request.args.get("next"))
    if g.user_id:
        return redirect(after or url_for("chats.home"))
    if after:
        session["next"] = after
    browser.browser_id()  # the browser has its id before it asks for a code
    # "Use a different email" comes here: the address given last is there to correct.
    email, _ = otp.pending_signin()
    return render_template("auth/signin.html", form=SignInForm(data={"email": email or ""}))


@bp.post("/signin")
def send_code():
    form = SignInForm()
    if not form.validate():
        return _send_code_failed(form, None, 422)
    email = form.email.data
    attempt = otp.signin_attempt(email)
    try:
        otp.send_code(email, attempt)
    except throttle.Refused as refusal:
        return _send_code_failed(form, str(refusal), 429)
    except broker.PublishError:
        return _send_code_failed(form, outages.MESSAGE, 503)
    otp.remember_attempt(email, attempt)
    flash(
        f"We sent a new code to {email}."
        if form.resend.data
        else f"We sent a code to {email}. It works for {codes.CODE_TTL // 60} minutes."
    )
    return go_to(url_for("auth.verify"))


@bp.get("/verify")
def verify():
    email, _ = otp.pending_signin()
    if not email:
        return redirect(url_for("auth.signin"))
    return render_template("auth/verify.html", form=VerifyForm(), email=email)


@bp.post("/verify")
def check_code():
    email, attempt = otp.pending_signin()
    if not (email and attempt):
        flash("Your sign-in timed out. Enter your email again.")
        return go_to(url_for("auth.signin"))
    form = VerifyForm()
    if form.validate():
        try:
            outcome, tries_left, user = otp.try_code(email, attempt, form.code.data)
        except throttle.Refused as refusal:
            form.code.errors.append(str(refusal))
            return render("auth/verify.html", "auth/_verify_panel.html", 429, form=form, email=email)
        if outcome is codes.Outcome.OK:
            after = local_path(session.get("next"))
            session.clear()  # signed in, the JWT carries all there is: no session cookie to read per request
            if not user.get("name_chosen", True):  # first time: their name first, then on
                after = url_for("people.welcome", next=after)
            response = make_response(go_to(after or url_for("chats.home")))
            sessions.start(response, user["_id"])
            return response
        form.code.errors.append(otp.code_error(outcome, tries_left))
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
