"""Chats and messages: the original's chat service, on Parley's chats and
its one sending path (kept pending, queued on chat:messages, delivered by
the chat worker, pushed to pages and sockets alike)."""

import hashlib
import uuid

from flask import g, request

from app.api import Blueprint, from_allowed_origin, origins, refuse, schemas, shapes, signed_in
from app.chats import actions, present, receipts
from app.chats.sending import pending
from app.chats.sending.job import text_problem
from app.data import chats, messages, users

bp = Blueprint("conversations", __name__, description="Chats and messages")
bp.before_request(from_allowed_origin)


def member_chat(chat_id):
    """The chat's id and members if you are one of them; else 404, the same as for no such chat."""
    members = chats.membership(chat_id, g.user_id)
    if not members:
        refuse(404, "Chat not found")
    return chats.parse_id(chat_id), members


def other_user(members):
    other_id = chats.other_member(members, g.user_id)
    person = users.profiles([other_id]).get(other_id) or users.as_seen_by_others(other_id)
    return shapes.user(person, g.user_id)


def client_id():
    """The message's client id: from the client's Idempotency-Key, so that a
    send repeated with the same key is the same message, else a new one."""
    key = request.headers.get("Idempotency-Key", "")[:255]
    if not key:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{g.user_id}\n{key}".encode()).hexdigest()[:32]


@bp.post("/chat/new")
@bp.arguments(schemas.NewChat)
@bp.response(200, schemas.ChatStarted)
@bp.alt_response(400, schema=schemas.Error)
@bp.alt_response(401, schema=schemas.Error)
@bp.alt_response(404, schema=schemas.Error)
@signed_in
def start(fields):
    """Open the one chat with that person, creating it (their sockets hear `chat:new`). The answer for a
    chat that existed spells `messaeg` as the original did."""
    other_id = chats.parse_id(fields["otherUserId"])
    try:
        chat, created = actions.start(g.user_id, other_id)
    except actions.Refused as refusal:
        refuse(refusal.status, refusal.message)
    if created:
        return {"message": "New Chat Created", "chatId": str(chat["_id"])}
    return {"messaeg": "Chat already exists", "chatId": str(chat["_id"])}


@bp.get("/chat/all")
@bp.response(200, schemas.Chats)
@bp.alt_response(401, schema=schemas.Error)
@signed_in
def every_chat():
    """Your chats, latest activity first (your 100 most recent), each with the other person."""
    shown = present.shown_chats(users.get(g.user_id))
    others = [chats.other_member(chat["members"], g.user_id) for chat in shown]
    people = users.profiles(others)
    return {
        "chats": [
            {
                "user": shapes.user(people.get(other) or users.as_seen_by_others(other), g.user_id),
                "chat": shapes.chat(chat, g.user_id),
            }
            for chat, other in zip(shown, others)
        ]
    }


def page_of(chat_id, members, before=None):
    """(messages oldest first, with your own still on their way after those
    saved; the cursor of the page before, or None)."""
    history, previous = messages.page(chats.get(chat_id), before)
    if before is None:
        shown = {doc["client_id"] for doc in history}
        history += [doc for doc in on_their_way(chat_id, members) if doc["client_id"] not in shown]
    cursor = str(history[0]["seq"]) if previous and history else None
    return [shapes.message_of(doc, request.host_url) for doc in history], cursor


def on_their_way(chat_id, members):
    """Your messages in the chat that the chat worker has not saved yet, oldest first."""
    waiting = pending.messages(chat_id, g.user_id, chats.other_member(members, g.user_id))
    return sorted(waiting, key=lambda doc: doc["created_at"])


@bp.post("/message")
@bp.arguments(schemas.Send, location="form")
@bp.arguments(schemas.Upload, location="files")
@bp.response(201, schemas.Sent)
@bp.alt_response(400, schema=schemas.Error)
@bp.alt_response(401, schema=schemas.Error)
@bp.alt_response(403, schema=schemas.Error)
@bp.alt_response(404, schema=schemas.Error)
@bp.alt_response(503, schema=schemas.Error)
@bp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 255}}])
@signed_in
def send(fields, files):
    """Send a text or an image (JPEG, PNG, GIF or WebP) to a chat of yours. 201 means it is queued for
    delivery (503 if it could not be): it reaches both of you as `message:new`. `messages` is what the
    send added (GET /message/{chat_id} has the history), `chat` the chat as the send left it, read from
    nothing (as the original's, without `unseenCount`). An Idempotency-Key header makes a repeated send
    the same message."""
    chat_id, members = member_chat(fields["chatId"])
    text, upload = fields["text"].strip(), files.get("image")
    if upload is not None and not upload.filename:
        upload = None
    problem = text_problem(text, upload is not None)
    if problem:
        refuse(400, problem)
    try:
        job = actions.send(chat_id, members, g.user_id, client_id(), text, upload, fields["alt"].strip()[:300])
    except actions.Refused as refusal:
        refuse(400 if refusal.status == 422 else refusal.status, refusal.message)
    message = shapes.message_of(job.message(chats.other_member(members, g.user_id)), request.host_url)
    return {"message": message, "messages": [message], "chat": shapes.sent_chat(job), "sender": str(g.user_id)}, 201


@bp.get("/message/<chat_id>")
@bp.arguments(schemas.History, location="query")
@bp.response(200, schemas.Messages)
@bp.alt_response(400, schema=schemas.Error)
@bp.alt_response(401, schema=schemas.Error)
@bp.alt_response(404, schema=schemas.Error)
@signed_in
def history(fields, chat_id):
    """The chat's newest 50 messages, oldest first (then `cursor` = `nextCursor` for the 50 before, until
    it is null). Reading the newest marks what was sent to you seen, as the original did, unless another
    site's page asked."""
    chat_id, members = member_chat(chat_id)
    before = fields.get("cursor")
    if before is not None:
        if not (before.isascii() and before.isdigit() and 0 < int(before) <= messages.MAX_SEQ):
            refuse(400, "cursor is not one this API gave.")
        before = int(before)
    elif origins.trusted():
        receipts.mark_seen(chats.get(chat_id), g.user_id)
    listed, cursor = page_of(chat_id, members, before)
    return {"messages": listed, "user": other_user(members), "nextCursor": cursor}
