"""What the chat partials show: a message as one person sees it, and an entry
of the Chats navigation. Pages and pushes both build them here and render
them with the same partials, so a pushed fragment equals the page's.

A message knows the one before it in its chat (`previous`: a message, or a
chat's latest_message summary), which decides whether it starts a day (and
carries that day's separator) and whether it continues its sender's group
(then it has no heading with their name, and its time is for screen readers). Times are in the
reader's time zone (`tz`, None for UTC until theirs is known)."""

import hashlib
from datetime import timedelta

from flask import render_template

from app import clock, formatting
from app.chats.sending import change
from app.data import chats, messages, users
from app.realtime import presence
from app.realtime.push import as_json

STATUSES = ("Sending", "Sent", "Seen")  # a message only ever moves forward
NOT_SENT = "Not sent"  # the broker may not have it: the person can send it again, harmlessly
NOT_DELIVERED = "Not delivered"  # the chat worker would not deliver it (a block): final
DELETED = "Message deleted"  # what a deleted message leaves, for both people
PREVIEW_LENGTH = 80  # characters, then the preview ends at a word
GROUP_GAP = timedelta(minutes=5)  # consecutive messages from one person within this read as one group
IMAGE_BOX = 320  # CSS px: images show at most this wide and tall, their full size a click away
AVATAR_COLOURS = 8
CHATS_SHOWN = 100  # the Chats navigation shows a person's most recent chats, this many
FLOOR_SLACK = 20  # see shown_chats: each chat read beyond CHATS_SHOWN cost about 0.14 ms
ACTIVE_FOR = timedelta(minutes=15)  # a page load or a send this recent reads "Active N min ago"


def _at(message):
    return message.get("created_at") or message.get("at")


def image_view(image, alt):
    """The image as the log shows it: its thumbnail when there is one, sized to fit IMAGE_BOX."""
    shown = image.get("thumb") or image
    width, height = shown.get("width") or image["width"], shown.get("height") or image["height"]
    scale = min(1, IMAGE_BOX / max(width, 1), IMAGE_BOX / max(height, 1))
    return {
        "url": image["url"],
        "src": shown["url"],
        "width": max(1, round(width * scale)),
        "height": max(1, round(height * scale)),
        "alt": alt,
    }


def message(doc, viewer_id, sender_name, previous=None, tz=None, now=None):
    """`doc` is a saved message, or a pending one (no seq yet); `previous` the one before it, if any."""
    mine = doc["sender_id"] == viewer_id
    saved = "seq" in doc
    state = 2 if doc.get("seen_at") else 1 if saved else 0
    at = doc["created_at"]
    image = doc.get("image")
    if image:
        who = "you sent" if mine else f"from {sender_name}"
        image = image_view(image, image.get("alt") or f"Image {who}, no description")
    new_day = previous is None or not formatting.same_day(_at(previous), at, tz)
    continued = (
        not new_day
        and previous["sender_id"] == doc["sender_id"]
        and timedelta(0) <= at - _at(previous) <= GROUP_GAP
    )
    deleted = bool(doc.get("deleted_at"))
    revision = doc.get("revision", 0)
    return {
        "chat_id": doc["chat_id"],
        "client_id": doc["client_id"],
        "mine": mine,
        "sender": "You" if mine else sender_name,
        "text": doc.get("text") or "",
        "deleted": deleted,
        "edits": [
            {"text": earlier["text"], "at": earlier["at"], "time": formatting.full_label(earlier["at"], tz, now)}
            for earlier in doc.get("edits") or ()
        ],
        # Your own saved messages can be deleted, and edited for a while (change.EDIT_WINDOW).
        "deletable": mine and saved and not deleted,
        "editable": mine and saved and change.editable(doc, now),
        "image": image,
        "at": at,
        "time": formatting.clock_time(at, tz),
        "day": formatting.day_label(at, tz, now) if new_day else None,
        "continued": continued,
        "key": f"{doc['seq']:012d}" if saved else None,
        "seq": doc["seq"] if saved else None,
        # Only the sender sees the state move on; each edit or delete moves both people's on.
        "version": 3 * revision + (state if mine else 1),
        "status": (NOT_SENT if doc.get("unconfirmed") else STATUSES[state]) if mine else None,
        "reply": doc.get("reply_to") and quoted(doc["reply_to"], viewer_id),
    }


def quoted(quote, viewer_id):
    """A reply's quote of the message it answers (see replies.quote), as `viewer_id` reads it."""
    return {
        "client_id": quote["client_id"],
        "seq": quote["seq"],
        "sender": "You" if quote["sender_id"] == viewer_id else quote["name"],
        "text": DELETED if quote.get("deleted") else quote["text"] or ("Image" if quote["image"] else ""),
    }


def refused(doc, reason, tz=None):
    """The sender's view of a message that will not be delivered, in place of
    its "Sending" bubble (a version on, so the page takes it): why, and no Retry."""
    view = message(doc, doc["sender_id"], "You", None, tz)
    return {**view, "day": None, "version": 1, "status": NOT_DELIVERED, "failure": reason}


def conversation(docs, viewer_id, names, tz=None, before=None, now=None):
    """The views of consecutive messages of one chat, oldest first; `before`
    is the message just before the first (None at the start of the chat)."""
    views, previous = [], before
    for doc in docs:
        views.append(message(doc, viewer_id, names.get(doc["sender_id"], "Someone"), previous, tz, now))
        previous = doc
    return views


def message_pushes(saved, before, people, now=None):
    """[(user id, HTML, events)]: newly saved messages (each chat's in order),
    each to its sender and, announced, to its receiver. `before` is {chat id:
    the chat's latest message before these}, `people` {user id: {name, time_zone}}."""
    previous, pushes = dict(before), []
    for doc in saved:
        last = previous.get(doc["chat_id"])
        if last is not None and last["seq"] >= doc["seq"]:  # a redelivery: the chat had moved past it
            last = messages.before(doc["chat_id"], doc["seq"])
        name = people.get(doc["sender_id"], {}).get("name", "Someone")
        events = [as_json(message_event(doc))]  # made once, for both members
        for user_id, announce in ((doc["sender_id"], False), (doc["receiver_id"], True)):
            view = message(doc, user_id, name, last, zone_of(people.get(user_id)), now)
            pushes.append((user_id, message_update(view, announce), events))
        previous[doc["chat_id"]] = doc
    return pushes


# Events: what a push tells API clients (app/api/events.py names them as the
# original system did). Ids and times are text, as they travel as JSON.


def message_event(doc):
    """A saved or pending message: its `id` is its client_id, the same before and after it is saved."""
    image = doc.get("image")
    return [
        "message",
        {
            "id": doc["client_id"],
            "chat_id": str(doc["chat_id"]),
            "sender_id": str(doc["sender_id"]),
            "text": doc.get("text") or "",
            "image": image and {"url": image["url"], "ref": image.get("ref", ""), "alt": image.get("alt") or ""},
            "seen_at": formatting.iso_millis(doc.get("seen_at")),
            "created_at": formatting.iso_millis(doc["created_at"]),
            "saved": "seq" in doc,
        },
    ]


def seen_event(chat_id, seen):
    """The sender's messages in `seen` were seen."""
    return ["seen", {"chat_id": str(chat_id), "ids": [doc["client_id"] for doc in seen]}]


def typing_event(chat_id, user_id, is_typing):
    return ["typing", {"chat_id": str(chat_id), "user_id": str(user_id), "typing": is_typing}]


def presence_event(user_id, is_online):
    return ["presence", {"user_id": str(user_id), "online": is_online}]


def chat_event(chat_id, created_by):
    """A chat was started with the receiver."""
    return ["chat", {"chat_id": str(chat_id), "created_by": str(created_by)}]


def seen_updates(chat_id, seen, sender_id, tz=None):
    """Pushes for `sender_id` of their messages in `seen`, now seen, each
    rendered as the page shows it (knowing the message before it)."""
    ids = {doc["_id"]: doc for doc in seen}
    docs, previous = messages.run(chat_id, min(doc["seq"] for doc in seen), max(doc["seq"] for doc in seen))
    docs = [ids.get(doc["_id"], doc) for doc in docs]
    views = conversation(docs, sender_id, {}, tz, previous)
    return [message_update(view) for view, doc in zip(views, docs) if doc["_id"] in ids]


def pending(chat_id):
    """The empty shape of a message the page is sending, for the page script to fill in."""
    return {
        "chat_id": chat_id,
        "client_id": "pending",
        "mine": True,
        "sender": "You",
        "text": "",
        "image": None,
        "at": clock.now(),
        "time": "",
        "day": None,
        "continued": False,
        "key": None,
        "version": 0,
        "status": "Sending",
        "local": True,
    }


def latest_message(doc):
    """The chat's latest_message summary of a saved message: seq first, then
    revision, as chats.record_messages and chats.message_changed compare
    summaries field by field (an edit's summary beats the message's first)."""
    summary = {
        "seq": doc["seq"],
        "revision": doc.get("revision", 0),
        "client_id": doc["client_id"],
        "sender_id": doc["sender_id"],
        "text": preview(doc.get("text") or ""),
        "has_image": bool(doc.get("image")),
        "at": doc["created_at"],
    }
    if doc.get("deleted_at"):
        summary["deleted"] = True
    return summary


def preview(text):
    """The start of a message for the Chats navigation (see shortened)."""
    return shortened(text, PREVIEW_LENGTH)


def shortened(text, length):
    """The text on one line: whole if short, else its first `length`
    characters or fewer, ending at a word, then "…" (mid-word only when the
    words would leave less than three quarters of it: one very long word)."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    at_word = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return (at_word if len(at_word) >= length * 3 // 4 else cut).rstrip(" ,;:") + "…"


def initials(name):
    """Up to two letters for a decorative avatar: "Bob Okafor" -> "BO"."""
    words = [word for word in name.split() if word[:1].isalnum()] or [name or "?"]
    return "".join(word[0] for word in (words[:1] + words[1:][-1:])).upper()


def avatar(person_id, name):
    """Initials and one of AVATAR_COLOURS (each dark enough for white text), the same for a person everywhere."""
    colour = hashlib.sha256(str(person_id).encode()).digest()[0] % AVATAR_COLOURS
    return {"initials": initials(name), "colour": colour}


def chat_entry(chat, viewer_id, names, online, unread=None, tz=None, now=None):
    """The viewer's entry for `chat` in the Chats navigation. `names` is
    {user id: name} and `online` the user ids online, each covering at least
    the other member; `unread` defaults to the count kept on the chat; times
    are in `tz`, the viewer's zone."""
    other = chats.other_member(chat["members"], viewer_id)
    latest = chat.get("latest_message")
    if latest:
        said = DELETED if latest.get("deleted") else latest["text"] or "Image"
        preview = ("You: " if latest["sender_id"] == viewer_id else "") + said
    else:
        preview = "No messages yet"
    name = names.get(other, "Someone")
    return {
        "chat_id": chat["_id"],
        "other_id": other,
        "name": name,
        "avatar": avatar(other, name),
        "online": other in online and not chat.get("blocked_by"),
        "unread": chats.unread(chat, viewer_id) if unread is None else unread,
        "preview": preview,
        "at": chat["updated_at"],
        "time": formatting.short_label(chat["updated_at"], tz, now),
        "key": f"{int(chat['updated_at'].timestamp() * 1000):015d}",
        # Entries pushed by two workers may arrive out of order: the page keeps the newer.
        "version": latest["seq"] if latest else 0,
    }


def shown_chats(user):
    """The chats the Chats navigation shows: the person's CHATS_SHOWN most
    recently active. A chat's activity only ever moves forward, so every
    chat that can be among them now was active since the last one shown at
    some earlier time (kept as the person's chats_shown_since): reading from
    there reads about CHATS_SHOWN chats however many the person has. When
    blocks leave too few there, all are read again; the mark moves up once
    more than FLOOR_SLACK chats lie above it (and stays put when those are
    ties with the last one shown)."""
    since = user.get("chats_shown_since")
    found = chats.for_member(user["_id"], since)
    read_all = since is None
    if not read_all and len(found) < CHATS_SHOWN:
        found, read_all = chats.for_member(user["_id"]), True
    last_shown = found[CHATS_SHOWN - 1]["updated_at"] if len(found) >= CHATS_SHOWN else None
    if last_shown != since and (read_all or len(found) > CHATS_SHOWN + FLOOR_SLACK):
        users.set_chats_shown_since(user["_id"], last_shown)
    return found[:CHATS_SHOWN]


def navigation(user, tz=None):
    """The Chats navigation of `user` (their document): a bounded read of
    their chats, names and one Redis round trip, whatever the number of
    chats. Names come from the process's minute-long memory (as the pushed
    entries' do): reading 100 took 12 ms of a 45 ms page, for renames that
    show within the minute anyway."""
    shown = shown_chats(user)
    others = [chats.other_member(chat["members"], user["_id"]) for chat in shown]
    names, online = users.recent_names(others), presence.online(others)
    return [chat_entry(chat, user["_id"], names, online, tz=tz) for chat in shown]


def presence_label(person, online, tz=None, now=None):
    """What a chat's header says about the other person: Online (a live
    connection), Active N min ago (pages loaded or messages sent lately, as
    people without JavaScript do), or when they were last about."""
    if online:
        return "Online"
    person = person or {}
    now = now or clock.now()
    active, seen = person.get("active_at"), person.get("last_seen_at")
    if active and (not seen or active > seen) and now - active < ACTIVE_FOR:
        minutes = int((now - active).total_seconds() // 60)
        return "Active just now" if minutes < 1 else f"Active {minutes} min ago"
    latest = max((at for at in (active, seen) if at), default=None)
    if not latest:
        return "Offline"
    day = formatting.day_label(latest, tz, now)
    day = day.lower() if day in ("Today", "Yesterday") else day
    return f"Last seen {day} at {formatting.clock_time(latest, tz)}"


def zone_of(person):
    return formatting.zone((person or {}).get("time_zone"))


def message_update(view, announce=False):
    """Push: put the message in its chat's log (and, for the receiver, announce it)."""
    return render_template("chats/_message_update.html", m=view, announce=announce)


def entry_update(entry):
    """Push: put the entry in its place in the Chats navigation."""
    return render_template("chats/_chat_entry_update.html", entry=entry)
