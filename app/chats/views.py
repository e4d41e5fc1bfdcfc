import os
import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from markupsafe import Markup

from app import broker, outages
from app.auth.sessions import login_required
from app.chats import actions, blocks, images, live, present, receipts, replies
from app.chats.forms import MessageForm
from app.chats.layout import render_signed_in
from app.chats.sending import pending
from app.data import chats, messages, users
from app.realtime import presence, push
from app.text import bdi
from app.web import go_to, is_htmx, same_site_navigation

bp = Blueprint("chats", __name__)

UNREAD_CONTEXT = 10  # messages shown above the first unread one, or above one a link opens at
MAX_PAGE = 500  # the most a chat page shows at once, however much is unread
AFTER_AT = 40  # messages shown after one a link opens at, when the newest are further than MAX_PAGE


def older_than(name="older_than"):
    """The `older_than` of a history page (or the `at` of a page opened at a
    message): a message number, or None for the newest page. Anything else
    is a bad request (MongoDB takes no integer over 8 bytes, so an unchecked
    one was a 500)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 16 and 0 < int(raw) <= messages.MAX_SEQ):
        abort(400)
    return int(raw)


def member_chat(chat_id):
    """The chat's id and members if the signed-in user is one of them; else
    404, the same answer as for a chat that does not exist."""
    members = chats.membership(chat_id, g.user_id)
    if not members:
        abort(404)
    return chats.parse_id(chat_id), members


@bp.get("/")
@login_required
def home():
    viewer = users.get(g.user_id)
    return render_signed_in("chats/home.html", viewer=viewer, user=viewer, directory=current_app.config["DIRECTORY"])


@bp.post("/chats")
@login_required
def start():
    """ "Chat with NAME": open the one chat with that person, creating it if needed."""
    try:
        chat, _ = actions.start(g.user_id, chats.parse_id(request.form.get("user_id")))
    except actions.Refused:
        abort(404)
    return go_to(url_for("chats.show", chat_id=chat["_id"]))


def reply_view(chat_id, members, client_id):
    """What the composer says of the message the next one answers ("Replying
    to NAME: first words"): (view, None), or (None, why there is none)."""
    try:
        quote = replies.quote(chat_id, members, client_id, users.recent_names(members))
    except replies.NoSuchMessage as error:
        return None, str(error)
    return present.quoted(quote, g.user_id), None


def chat_page(
    chat_id, members, before=None, draft=None, composer_error=None, status=200, at=None, reply_to=None, editing=None
):
    """The chat: its newest messages (or those before `before`), or, opened
    at message number `at`, that message with UNREAD_CONTEXT before it and
    everything after it, up to MAX_PAGE; when the newest are further on, it
    shows AFTER_AT after it and "Load newer messages" (and pushes of new
    messages wait behind that, see upsert.js). `reply_to`: the composer
    answers that message; `editing` (see editing.py): it edits that one,
    without JavaScript."""
    stream_id = push.last_id(g.user_id)  # first: a push after this is replayed, not missed
    other_id = chats.other_member(members, g.user_id)
    # Pending before the chat: the worker saves a message, updates the chat,
    # then forgets the job, so read in this order it is found in one or the other.
    on_their_way = pending.messages(chat_id, g.user_id, other_id) if before is None else []
    chat = chats.get(chat_id)
    newer_than = None
    if at is not None and chat["last_seq"] - at + 1 + UNREAD_CONTEXT > MAX_PAGE:
        before = at + AFTER_AT + 1
        on_their_way, newer_than = [], at + AFTER_AT
    # Enough history to hold the first unread message, read before it is marked seen.
    unread = chats.unread(chat, g.user_id) if before is None and at is None else 0
    size = min(max(messages.PAGE_SIZE, unread + UNREAD_CONTEXT), MAX_PAGE)
    if at is not None:
        size = min(max(messages.PAGE_SIZE, (before or chat["last_seq"] + 1) - at + UNREAD_CONTEXT), MAX_PAGE)
    history, previous = messages.page(chat, before, size)
    if same_site_navigation():  # a link on another site must not mark anything seen
        receipts.mark_seen(chat, g.user_id)
    new = [message for message in history if message["receiver_id"] == g.user_id and message["seen_at"] is None]
    shown = {message["client_id"] for message in history}
    history += [message for message in on_their_way if message["client_id"] not in shown]
    viewer, other = users.with_other(g.user_id, other_id)
    views = present.conversation(history, g.user_id, {other_id: other["name"]}, present.zone_of(viewer), previous)
    reply = None
    if reply_to:
        reply, problem = reply_view(chat_id, members, reply_to)
        composer_error = composer_error or problem
    blocked = chat.get("blocked_by") or []
    if blocked:  # neither sees the other's presence
        other = {key: value for key, value in other.items() if key not in ("last_seen_at", "active_at")}
    return render_signed_in(
        "chats/show.html",
        status=status,
        viewer=viewer,
        chat_id=chat_id,
        other=other,
        other_avatar=present.avatar(other_id, other["name"]),
        i_blocked=g.user_id in blocked,
        other_online=not blocked and other_id in presence.online([other_id]),
        history=views,
        pending_view=present.pending(chat_id),
        first_unread=new[0]["client_id"] if new else None,
        new_count=len(new),
        earlier_than=history[0]["seq"] if previous else None,
        newer_than=newer_than if newer_than is not None and newer_than < chat["last_seq"] else None,
        focus_id=next((m["client_id"] for m in history if m.get("seq") == at), None),
        client_id=uuid.uuid4().hex,
        draft=draft or {"text": editing["text"] if editing else "", "alt": ""},
        reply=reply,
        editing=editing,
        composer_error=composer_error,
        max_image_bytes=current_app.config["MAX_IMAGE_BYTES"],
        max_image_mb=current_app.config["MAX_IMAGE_BYTES"] // (1024 * 1024),
        stream_id=stream_id,
        current_chat_id=chat_id,
    )


@bp.get("/chats/<chat_id>")
@login_required
def show(chat_id):
    chat_id, members = member_chat(chat_id)
    return chat_page(chat_id, members, before=older_than(), at=older_than("at"), reply_to=request.args.get("reply"))


@bp.get("/chats/<chat_id>/messages/<int:seq>")
@login_required
def message(chat_id, seq):
    """A message's permalink (search results and replies link here): the chat
    opened at that message, in context, at its fragment, which scrolls to it
    and focuses it with or without JavaScript. A number no message has (a gap
    left by a redelivered job) opens at the next one."""
    chat_id, _ = member_chat(chat_id)
    found = messages.at_or_after(chat_id, seq) if seq <= messages.MAX_SEQ else None
    if found is None:
        abort(404)
    return redirect(url_for("chats.show", chat_id=chat_id, at=found["seq"], _anchor=f"m-{found['client_id']}"))


@bp.get("/chats/<chat_id>/replying/<client_id>")
@login_required
def replying(chat_id, client_id):
    """ "Reply" on a message, with the page script: the composer's "Replying
    to NAME: first words". (Without it, Reply opens the chat with that in
    the composer: `show` with `reply`.)"""
    chat_id, members = member_chat(chat_id)
    if not is_htmx():
        return redirect(url_for("chats.show", chat_id=chat_id, reply=client_id, _anchor="composer"))
    reply, problem = reply_view(chat_id, members, client_id)
    return render_template("chats/_replying.html", reply=reply, chat_id=chat_id, composer_error=problem)


@bp.get("/chats/<chat_id>/new")
@login_required
def check(chat_id):
    """ "Check for new messages", without JavaScript: the chat again, at its
    first unread message if there is one, else at its newest. (A link to the
    page's own address with a fragment would only scroll, not reload.)"""
    chat_id, _ = member_chat(chat_id)
    unread = chats.unread(chats.get(chat_id), g.user_id)
    return redirect(url_for("chats.show", chat_id=chat_id, _anchor="unread" if unread else "latest"), 303)


@bp.get("/chats/<chat_id>/messages")
@login_required
def earlier(chat_id):
    """ "Load earlier messages": the page of messages before `before`."""
    chat_id, members = member_chat(chat_id)
    before = older_than()
    if not is_htmx():
        return redirect(url_for("chats.show", chat_id=chat_id, older_than=before))
    chat = chats.get(chat_id)
    viewer = users.get(g.user_id)
    other = users.as_seen_by_others(chats.other_member(members, g.user_id))
    history, previous = messages.page(chat, before)
    views = present.conversation(history, g.user_id, {other["_id"]: other["name"]}, present.zone_of(viewer), previous)
    return render_template(
        "chats/_earlier_messages.html",
        chat_id=chat_id,
        other=other,
        history=views,
        earlier_than=history[0]["seq"] if previous and history else None,
    )


@bp.post("/chats/<chat_id>/messages")
@login_required
def send(chat_id):
    chat_id, members = member_chat(chat_id)
    form = MessageForm()

    def failed(message, status, unblock=False):
        if is_htmx():  # `unblock`: the page offers Unblock with the message it could not send
            return render_template("chats/_send_failed.html", composer_error=message, unblock=unblock), status
        if form.image.data:
            message += " Attach the image again."
        draft = {"text": form.text.data or "", "alt": form.alt.data or ""}
        reply_to = None if form.reply_to.errors else form.reply_to.data
        return chat_page(chat_id, members, draft=draft, composer_error=message, status=status, reply_to=reply_to)

    if not form.validate():
        return failed(form.first_error(), 422)
    try:
        actions.send(
            chat_id,
            members,
            g.user_id,
            form.client_id.data,
            form.text.data,
            form.image.data,
            form.alt.data,
            form.reply_to.data,
        )
    except actions.Refused as refusal:
        return failed(refusal.message, refusal.status, unblock=refusal.unblock)
    if not is_htmx():
        return go_to(url_for("chats.show", chat_id=chat_id, _anchor="composer"))
    # The page already shows the message as Sending (its own bubble); the worker's push replaces it.
    return render_template("chats/_sent.html", client_id=uuid.uuid4().hex)


@bp.post("/chats/<chat_id>/unsent/<client_id>")
@login_required
def unsent(chat_id, client_id):
    """ "Retry" or "Delete" for a message the page shows "Not sent" because
    the broker may not have it: queue it again (the worker saves a client_id
    once), or forget it."""
    chat_id, members = member_chat(chat_id)
    job = pending.unconfirmed(chat_id, g.user_id, client_id)
    back = url_for("chats.show", chat_id=chat_id, _anchor="composer")
    if job is None:  # delivered, or deleted, meanwhile
        return go_to(back)
    if request.form.get("action") == "delete":
        pending.discard(job)
        images.discard(job.image)
        return go_to(back)
    refusal = actions.block_refusal(chat_id, members, g.user_id)
    if refusal:
        flash(refusal.message)  # still "Not sent", and Delete forgets it
        return go_to(back)
    try:
        pending.accept(job)
    except pending.Refused as refused:
        flash(str(refused))
    except broker.PublishError:
        flash(outages.MESSAGE)  # still "Not sent", with Retry
    return go_to(back)


@bp.route("/chats/<chat_id>/block", methods=["GET", "POST"])
@login_required
def block(chat_id):
    """ "Block NAME": a page that asks first (a GET), then the block (a POST),
    after which the person is back in the chat, where it says so."""
    chat_id, members = member_chat(chat_id)
    other = users.get(chats.other_member(members, g.user_id))
    if request.method == "GET":
        return render_signed_in("chats/block.html", chat_id=chat_id, other=other, current_chat_id=chat_id)
    blocks.block(chat_id, g.user_id, members)
    live.block_changed(chat_id, members)
    flash(
        Markup("You blocked {}. They cannot message you, see when you are online or find you.").format(
            bdi(other["name"])
        )
    )
    return go_to(url_for("chats.show", chat_id=chat_id))


@bp.post("/chats/<chat_id>/unblock")
@login_required
def unblock(chat_id):
    """ "Unblock NAME", in the chat (which it returns to) or in Profile."""
    chat_id, members = member_chat(chat_id)
    blocks.unblock(chat_id, g.user_id, members)
    live.block_changed(chat_id, members)
    flash(Markup("You unblocked {}.").format(bdi(users.get(chats.other_member(members, g.user_id))["name"])))
    if request.form.get("back") == "chat":
        return go_to(url_for("chats.show", chat_id=chat_id, _anchor="composer"))
    return go_to(url_for("people.profile"))


@bp.get("/chats/<chat_id>/images/<name>")
@login_required
def image(chat_id, name):
    """A locally stored image, for the chat's members only."""
    chat_id, _ = member_chat(chat_id)
    response = send_from_directory(
        os.path.join(current_app.config["UPLOAD_DIR"], str(chat_id)), name, max_age=365 * 24 * 3600
    )
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@bp.post("/chats/<chat_id>/<any(typing, viewing):signal>")
@login_required
def page_signal(chat_id, signal):
    """The event-stream fallback's way of saying what a socket would: that
    the person is typing (or stopped), or whether the chat is in front of them."""
    chat_id, _ = member_chat(chat_id)
    page = request.form.get("page", "")[:64] or "page"
    field = "typing" if signal == "typing" else "visible"
    live.heard_by_post(chat_id, g.user_id, page, {"type": signal, field: request.form.get(field) == "1"})
    return "", 204
