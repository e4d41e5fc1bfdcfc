from flask import Blueprint, current_app, flash, g, request, url_for

from app.auth.sessions import login_required
from app.data import chats, users
from app.layout import render_signed_in
from app.people import search
from app.people.forms import ProfileForm
from app.web import go_to, is_htmx

bp = Blueprint("people", __name__)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user = users.get(g.user_id)
    form = ProfileForm(data={"name": user["name"]})
    saved = False
    if request.method == "POST":
        if not form.validate():
            return render_signed_in(
                "people/profile.html", "people/_profile_form.html", 422, form=form, user=user, blocked=blocked_people()
            )
        users.rename(user, form.name.data)
        if not is_htmx():
            flash("Your name is saved.")
            return go_to(url_for("people.profile"))
        saved = True
    return render_signed_in(
        "people/profile.html", "people/_profile_form.html", form=form, user=user, saved=saved, blocked=blocked_people()
    )


def blocked_people():
    """Profile's "Blocked people": [{chat_id, name}], by name."""
    blocked = {chat["_id"]: chats.other_member(chat["members"], g.user_id) for chat in chats.blocked_chats(g.user_id)}
    names = users.names(blocked.values())
    people = [{"chat_id": chat_id, "name": names.get(other, "Someone")} for chat_id, other in blocked.items()]
    return sorted(people, key=lambda person: person["name"].lower())


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
