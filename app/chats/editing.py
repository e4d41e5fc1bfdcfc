"""Edit and Delete on your own messages: the views. With JavaScript the
composer edits in place and a Delete asks in the message (composer.js,
posting here with HX-Request); without it, Edit opens the chat with the
message's text in the composer and Delete a page that asks first. The work
is actions.change_message's, and the chat worker's (sending/changing.py)."""

from flask import Blueprint, flash, g, render_template, request, url_for

from app.auth.sessions import login_required
from app.chats import actions, present
from app.chats.forms import EditForm
from app.chats.layout import render_signed_in
from app.chats.sending import change
from app.chats.views import chat_page, member_chat
from app.data import users
from app.web import go_to, is_htmx

bp = Blueprint("editing", __name__)


def editing_state(chat_id, client_id, text):
    """What the composer needs to edit a message instead of sending one."""
    action = url_for("editing.edit", chat_id=chat_id, client_id=client_id)
    return {"client_id": client_id, "text": text, "action": action}


@bp.route("/chats/<chat_id>/messages/<client_id>/edit", methods=["GET", "POST"])
@login_required
def edit(chat_id, client_id):
    chat_id, members = member_chat(chat_id)
    back = url_for("chats.show", chat_id=chat_id, _anchor=f"m-{client_id}")

    def refused(message, status, text):
        if is_htmx():
            return render_template("chats/_send_failed.html", composer_error=message), status
        return chat_page(
            chat_id, members, editing=editing_state(chat_id, client_id, text), composer_error=message, status=status
        )

    if request.method == "GET":
        try:
            message = actions.own_message(chat_id, members, g.user_id, client_id)
            if not change.editable(message):
                why = "This message was deleted." if message.get("deleted_at") else change.TOO_LATE
                raise actions.Refused(why, 403)
        except actions.Refused as refusal:
            flash(refusal.message)
            return go_to(url_for("chats.show", chat_id=chat_id))
        return chat_page(chat_id, members, editing=editing_state(chat_id, client_id, message.get("text") or ""))
    form = EditForm()
    text = form.text.data or ""
    if not form.validate():
        return refused("This form has expired. Reload the page and try again.", 422, text)
    try:
        actions.change_message("edit", chat_id, members, g.user_id, client_id, text, form.client_id.data)
    except actions.Refused as refusal:
        return refused(refusal.message, refusal.status, text)
    return ("", 204) if is_htmx() else go_to(back)


@bp.route("/chats/<chat_id>/messages/<client_id>/delete", methods=["GET", "POST"])
@login_required
def delete(chat_id, client_id):
    """ "Delete": a page that asks first (a GET), then the delete (a POST)."""
    chat_id, members = member_chat(chat_id)
    back = url_for("chats.show", chat_id=chat_id, _anchor="composer")
    try:
        if request.method == "GET":
            message = actions.own_message(chat_id, members, g.user_id, client_id)
            viewer = users.get(g.user_id)
            view = present.message(message, g.user_id, "You", None, present.zone_of(viewer))
            return render_signed_in("chats/delete.html", chat_id=chat_id, m=view, current_chat_id=chat_id)
        actions.change_message("delete", chat_id, members, g.user_id, client_id)
    except actions.Refused as refusal:
        if is_htmx():
            return render_template("chats/_change_failed.html", message=refusal.message), refusal.status
        flash(refusal.message)
        return go_to(url_for("chats.show", chat_id=chat_id))
    return ("", 204) if is_htmx() else go_to(back)
