from flask import Blueprint, current_app, flash, g, render_template, request, url_for

from app import formatting
from app.auth.sessions import login_required
from app.chats.layout import render_signed_in
from app.data import chats, users
from app.notifications import section
from app.people import search
from app.people.forms import NameForm, ProfileForm
from app.web import go_to, is_htmx, local_path

bp = Blueprint("people", __name__)


def saved_message(user, form):
    fields = (("name", form.name, user["name"]), ("time zone", form.time_zone, user.get("time_zone") or ""))
    changed = [what for what, field, before in fields if field.data != before]
    return f"Your {' and '.join(changed or ['profile'])} {'are' if len(changed) > 1 else 'is'} saved."


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user = users.get(g.user_id)
    form = ProfileForm(data={"name": user["name"], "time_zone": user.get("time_zone") or ""})
    saved = None
    if request.method == "POST":
        if not form.validate():
            return render_signed_in(
                "people/profile.html",
                "people/_profile_form.html",
                422,
                viewer=user,
                form=form,
                user=user,
                blocked=blocked_people(),
                **section.context(user),
            )
        saved = saved_message(user, form)
        users.rename(user, form.name.data)
        users.set_time_zone(user["_id"], form.time_zone.data or None)
        if not is_htmx():
            flash(saved)
            return go_to(url_for("people.profile"))
        user = users.get(g.user_id)
    return render_signed_in(
        "people/profile.html",
        "people/_profile_form.html",
        viewer=user,
        form=form,
        user=user,
        saved=saved,
        blocked=blocked_people(),
        **section.context(user),
    )


def blocked_people():
    """Profile's "Blocked people": [{chat_id, name}], by name."""
    blocked = {chat["_id"]: chats.other_member(chat["members"], g.user_id) for chat in chats.blocked_chats(g.user_id)}
    names = users.names(blocked.values())
    people = [{"chat_id": chat_id, "name": names.get(other, "Someone")} for chat_id, other in blocked.items()]
    return sorted(people, key=lambda person: person["name"].lower())


@bp.post("/profile/time-zone")
@login_required
def time_zone():
    """The browser's time zone, sent by the page script when it first runs: kept
    only while the person has none, so a zone chosen in Profile always wins."""
    name = formatting.zone_name(request.form.get("time_zone", ""))
    user = users.get(g.user_id)
    if name is None or user.get("time_zone"):
        return "", 204
    users.set_time_zone(user["_id"], name)
    return "", 204, {"HX-Trigger": "time-zone-set"}


@bp.route("/welcome", methods=["GET", "POST"])
@login_required
def welcome():
    """ "Choose your name": once, after the first sign-in, so that people are not
    shown to others as their email's local part. Skipping keeps that name."""
    user = users.get(g.user_id)
    form = NameForm(data={"name": user["name"]})
    after = local_path(request.args.get("next"))  # where sign-in was taking them
    if request.method == "POST":
        if "skip" in request.form:
            users.keep_name(user["_id"])
            return go_to(after or url_for("chats.home"))
        if form.validate():
            users.rename(user, form.name.data)
            return go_to(after or url_for("chats.home"))
        return render_template("people/welcome.html", form=form, user=user, after=after), 422
    return render_template("people/welcome.html", form=form, user=user, after=after)


@bp.get("/people")
@login_required
def new_chat():
    """ "New chat": find people by name or email, as you type or on submit."""
    query = request.args.get("q", "").strip()[:320]  # the longest an email address can be
    people = search.find(query, g.user_id) if query else []
    return render_signed_in(
        "people/new_chat.html",
        "people/_results.html",
        query=query,
        people=people,
        directory=current_app.config["DIRECTORY"],
    )
