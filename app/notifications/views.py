"""Profile → Notifications (the email's timing, whether it quotes messages,
its preview, and "Notify me in this browser"), one-click unsubscribe, and
the browser notifications' service worker."""

import os

from flask import Blueprint, abort, current_app, flash, g, render_template, request, send_from_directory, url_for

from app import letters
from app.auth.sessions import csrf_exempt, login_required
from app.data import subscriptions, users
from app.notifications import browsers, settings
from app.notifications.letters import user_of
from app.notifications.section import context, sample_parts
from app.web import go_to, is_htmx

bp = Blueprint("notifications", __name__)


def section(user, saved=None, status=200):
    return render_template("notifications/_settings_form.html", notifications_saved=saved, **context(user)), status


@bp.post("/profile/notifications")
@login_required
def save():
    choice = request.form.get("email", "")
    if choice not in settings.DELAYS:
        abort(400)
    if current_app.config["MISSED_MESSAGE_TEXT"]:
        users.set_notify(g.user_id, email=choice, text=request.form.get("hide_text") != "1")
    else:  # the box is greyed out, and sends nothing: the person's own choice stays as it was
        users.set_notify(g.user_id, email=choice)
    saved = "Your notification settings are saved."
    if not is_htmx():
        flash(saved)
        return go_to(url_for("people.profile", _anchor="notifications"))
    return section(users.get(g.user_id), saved)


@bp.get("/profile/notifications/preview")
@login_required
def preview():
    """The HTML part of the sample email, framed in Profile."""
    _, _, html = sample_parts(users.get(g.user_id))
    return letters.framed(html)


@bp.post("/profile/notifications/browsers")
@login_required
def add_browser():
    """ "Notify me in this browser": the page script sends its push subscription (JSON)."""
    found = request.get_json(silent=True) or {}
    endpoint, keys = found.get("endpoint"), found.get("keys")
    problem = browsers.subscription_problem(endpoint, keys) if browsers.enabled() else "Web Push is off."
    if problem:
        return render_template("notifications/_browser_status.html", message=problem), 422
    subscriptions.add(g.user_id, endpoint, {"p256dh": keys["p256dh"], "auth": keys["auth"]})
    message = "This browser will notify you of messages you have not seen."
    return render_template("notifications/_browser_status.html", message=message)


@bp.post("/profile/notifications/browsers/remove")
@login_required
def remove_browser():
    found = request.get_json(silent=True) or {}
    if isinstance(found.get("endpoint"), str):
        subscriptions.remove(found["endpoint"], g.user_id)
    message = "This browser will no longer notify you."
    return render_template("notifications/_browser_status.html", message=message)


@bp.get("/notify-worker.js")
def service_worker():
    """The service worker that shows notifications: served from the root, so it may serve every page."""
    response = send_from_directory(os.path.join(current_app.static_folder, "js"), "notify-worker.js", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf_exempt  # the signed token is the authority, and a mail client's one-click POST carries nothing else
def unsubscribe(token):
    """One-click unsubscribe (RFC 8058) from missed-message emails: a POST,
    without signing in, turns them off and changes nothing else. A GET (the
    email's link) asks first, since link scanners follow links."""
    user_id = user_of(token)
    user = user_id and users.get(user_id)
    if not user:
        return render_template("notifications/unsubscribe.html", user=None), 404
    if request.method == "POST":
        users.set_notify(user["_id"], email=settings.NEVER)
    return render_template("notifications/unsubscribe.html", user=user, done=request.method == "POST")
