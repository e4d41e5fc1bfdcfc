"""What chats do with live pages: typing, viewing (which makes messages
seen), and presence told to a person's contacts. Registered with realtime as
its hooks (see app/realtime/hooks.py); typing and viewing also come as POSTs
from pages on the event-stream fallback (see views.py)."""

from bson import ObjectId
from cachetools import LRUCache, TTLCache
from flask import render_template

from app import clock
from app.chats import blocks, contacts, present, receipts, viewing
from app.connections import key, redis_client
from app.data import chats, users
from app.realtime import hooks, limits, presence
from app.realtime.push import Outbox, as_json

ACTIVE_EVERY = 60  # seconds: how often a page load or send counts as being about


def init_app(app):
    hooks.use(app, ChatHooks())


class ChatHooks(hooks.Hooks):
    def opened(self, connection, hello):
        chat_id = chats.parse_id(hello.get("chat"))
        if chat_id and chats.membership(chat_id, connection.user_id):
            connection.state["chat_id"] = chat_id
            if hello.get("visible"):
                connection.state.update(viewing=True, viewing_at=clock.time())
                view(chat_id, connection.user_id, connection.page_id, True)
        if not hello.get("fresh"):  # a page that reconnects may have missed who came and went
            connection.tell(presence_snapshot(connection.user_id, connection.state.get("chat_id")))

    def message(self, connection, message):
        chat_id = connection.state.get("chat_id")
        if chat_id is not None:
            heard(connection.state, chat_id, connection.user_id, connection.page_id, message)

    def closed(self, connection):
        chat_id = connection.state.get("chat_id")
        if chat_id:
            viewing.stop(chat_id, connection.user_id, connection.page_id)
            if connection.state.get("typing"):
                typing(chat_id, connection.user_id, False)

    def online(self, user_id):
        tell_contacts(user_id, True)

    def offline(self, user_id):
        users.set_last_seen(user_id)
        tell_contacts(user_id, False)


TYPING_EVERY = 2  # seconds: a page says "typing" at most this often while keys go down
VIEWING_EVERY = 10  # seconds: a page renews "viewing" every 20
BUDGET = 10  # signals a page may send at once, then...
BUDGET_PER_SECOND = 1  # ...this many a second; a page sends far fewer
SIGNALS = {"typing": ("typing", TYPING_EVERY), "viewing": ("visible", VIEWING_EVERY)}  # its field, how often


def heard(state, chat_id, user_id, page_id, message):
    """A page's "typing" or "viewing" signal, acted on only as often as a
    page sends it (10,000 typing signals in a burst were all forwarded).
    `state` is what is kept about the page between its signals."""
    kind = message.get("type")
    if kind not in SIGNALS:
        return
    field, every = SIGNALS[kind]
    on, now = bool(message.get(field)), clock.time()
    if on == state.get(kind, False) and (not on or now - state.get(kind + "_at", 0) < every):
        return  # already said
    if not _spend(state, now):
        return
    state[kind], state[kind + "_at"] = on, now
    if kind == "typing":
        typing(chat_id, user_id, on)
    else:
        view(chat_id, user_id, page_id, on)


def _spend(state, now):
    """Take one signal from the page's budget; False if it is spent."""
    return limits.spend(state.setdefault("budget", {}), now, BUDGET, BUDGET_PER_SECOND)


# (user id, page id) -> what heard() keeps, for pages that signal with POSTs
# (a socket's page keeps it on its connection); the pages heard from least
# lately are forgotten first.
_fallback_pages = LRUCache(maxsize=10_000)


def heard_by_post(chat_id, user_id, page_id, message):
    """The event-stream fallback's signals, kept per page as a socket's are."""
    heard(_fallback_pages.setdefault((user_id, page_id), {}), chat_id, user_id, page_id, message)


def typing(chat_id, user_id, is_typing):
    """Show (or clear) "NAME is typing…" on the other member's page."""
    members = chats.membership(chat_id, user_id)
    if not members or blocks.of(chat_id):  # typing would tell the other of their presence
        return
    name = users.get(user_id)["name"] if is_typing else None  # read when needed, not per connect
    html = render_template("chats/_typing_update.html", chat_id=chat_id, name=name)
    outbox = Outbox()
    event = present.typing_event(chat_id, user_id, is_typing)
    outbox.add(chats.other_member(members, user_id), html, replayable=False, events=[event])
    outbox.send()


def view(chat_id, user_id, page_id, visible):
    """The page shows the chat (visible) or not. While shown, what arrives
    there is seen at once, and what was waiting is seen now."""
    if not chats.membership(chat_id, user_id):
        return
    if not visible:
        viewing.stop(chat_id, user_id, page_id)
    elif viewing.start(chat_id, user_id, page_id):  # a renewal finds nothing new: the worker saw to that
        receipts.mark_seen(chats.get(chat_id), user_id)


def tell_contacts(user_id, is_online):
    """Push the new status to the people `user_id` chats with, and nobody
    else: those a push reaches (online, or with a page about to connect),
    rendered in each one's time zone (one rendering per zone)."""
    person = users.get(user_id) if not is_online else {"_id": user_id, "last_seen_at": None}
    pipe = redis_client().pipeline(transaction=False)
    read_reachable = presence.ask_reachable(pipe, contacts.of(user_id, pipe))
    reached, attaching = read_reachable(pipe.execute())
    ids = {contact: ObjectId(contact) for contact in reached}
    people = users.recent_people(ids.values())
    rendered = {}
    events = [as_json(present.presence_event(user_id, is_online))]  # made once for every contact
    outbox = Outbox()
    for contact, contact_id in ids.items():
        tz = present.zone_of(people.get(contact_id))
        if tz not in rendered:
            rendered[tz] = render_template("chats/_presence_update.html", person=person, online=is_online, zone=tz)
        # Kept only for a page about to attach, which replays what came after
        # its render; an attached page that reconnects later is sent a
        # snapshot instead (presence_snapshot), so a presence change is not
        # history to keep (each kept push cost Redis about 20 µs, a published one 1).
        outbox.add(contact_id, rendered[tz], replayable=contact in attaching, events=events)
    outbox.send()


def block_changed(chat_id, members):
    """A block hides each member's presence from the other on the pages they
    have open, at once (as the chat page shows it after a block: "Offline",
    nothing more); an unblock shows it again."""
    blocked = bool(chats.blocked_by(chat_id))
    online = set() if blocked else presence.online(members)
    people = dict(zip(members, users.with_other(*members)))
    outbox = Outbox()
    for viewer, other in (members, members[::-1]):
        shown = {"_id": other} if blocked else people[other]
        html = render_template(
            "chats/_presence_update.html", person=shown, online=other in online, zone=present.zone_of(people[viewer])
        )
        outbox.add(viewer, html)
    outbox.send()


def presence_snapshot(user_id, chat_id=None):
    """The current status of the people a reconnecting page shows: those of
    its Chats navigation and the other member of its chat (`chat_id`, if it
    shows one); never of a chat with a block. Only these, as the page has
    nowhere to show the rest: all of 1,000 contacts took 898 ms (368 KB)."""
    user = users.get(user_id)
    if user is None:  # the account went while the page was away
        return ""
    shown = [chat for chat in present.shown_chats(user) if not chat.get("blocked_by")]
    contacts = [chats.other_member(chat["members"], user_id) for chat in shown]
    members = chat_id and chats.members(chat_id)
    other = members and chats.other_member(members, user_id)
    if other and other not in contacts and not chats.blocked_by(chat_id):
        contacts.append(other)
    live = presence.online(contacts)
    people = users.presence_details([contact for contact in contacts if contact not in live])
    tz = present.zone_of(user)
    return "".join(
        render_template(
            "chats/_presence_update.html",
            person=people.get(contact, {"_id": contact}),
            online=contact in live,
            zone=tz,
        )
        for contact in contacts
    )


# Who this process has noted about in the last ACTIVE_EVERY seconds: the
# Redis key it set lasts as long, so until then asking Redis again (a round
# trip every send and page load) could only be refused.
_noted = TTLCache(maxsize=100_000, ttl=ACTIVE_EVERY, timer=clock.time)


def forget(user_id):
    """The account is going: it is about no more."""
    _noted.pop(user_id, None)
    redis_client().delete(key("active", user_id))


def active(user_id):
    """A page load or a send: at most once a minute, note that they are
    about, and tell their contacts if no live connection already does
    ("Active just now", for people without JavaScript)."""
    if _noted.get(user_id):
        return
    if not redis_client().set(key("active", user_id), 1, nx=True, ex=ACTIVE_EVERY):
        return
    _noted[user_id] = True
    users.set_active(user_id)
    if user_id not in presence.online([user_id]):
        tell_contacts(user_id, False)
