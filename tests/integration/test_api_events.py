"""The original's Socket.IO events against gunicorn with gevent workers and
the chat worker, where the transport is the point: who a socket is, what it
may hear, and that API clients and pages hear each other."""

import pytest
import socketio

from tests.support.api import API, FRONT_END, Listener
from tests.support.live import SocketPage
from tests.support.people import csrf_token, say, session_cookies, unique_email


@pytest.fixture
def namespace(module_namespace):
    """The module's tests share one namespace: the one its deployment serves."""
    return module_namespace


@pytest.fixture(scope="module")
def deployment(module_processes):
    """One web process (gunicorn, gevent) and the chat worker, with the original
    front end's origin allowed, for the module's tests (each a person of its own)."""
    module_processes.env.update(API_ORIGINS=FRONT_END)
    web = module_processes.web()
    module_processes.worker("chat")
    return web


@pytest.fixture
def people(ns_app):
    """person(name): a new person, signed in (their session's cookies in .cookies)."""

    def make(name):
        user, cookies = session_cookies(ns_app, unique_email(name))
        user["cookies"] = cookies
        return user

    return make


@pytest.fixture
def listeners():
    opened = []

    def listen(*args, **kwargs):
        opened.append(Listener(*args, **kwargs))
        return opened[-1]

    yield listen
    for listener in opened:
        listener.close()


def http(web, user):
    """A requests session of `user`'s, on the web process."""
    import requests

    session = requests.Session()
    session.cookies.update(user["cookies"])
    session.base = web.url + API
    return session


def chat_between(web, alice, bob):
    response = http(web, alice).post(f"{web.url}{API}/chat/new", json={"otherUserId": str(bob["_id"])})
    return response.json()["chatId"]


def send(web, user, chat_id, text):
    response = http(web, user).post(f"{web.url}{API}/message", files={"chatId": (None, chat_id), "text": (None, text)})
    assert response.status_code == 201, response.text
    return response.json()["message"]


def test_hole_1_a_socket_is_who_its_cookie_says_never_the_query(deployment, people, listeners):
    alice, bob = people("alice"), people("bob")
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(deployment.url, query={"userId": str(alice["_id"])})  # no cookie: no socket
    chat_id = chat_between(deployment, alice, bob)
    hers = listeners(deployment.url, alice["cookies"])
    hers.call("join:chat", chat_id)
    his = listeners(deployment.url, bob["cookies"], query={"userId": str(alice["_id"])})  # claims to be Alice
    his.call("join:chat", chat_id)
    his.emit("typing:start", {"chatId": chat_id, "userId": str(alice["_id"])})
    typing = hers.wait("typing:status")
    assert typing == {"chatId": chat_id, "userId": str(bob["_id"]), "isTyping": True}


def test_hole_2_a_stranger_hears_nothing_of_a_chat_and_changes_nothing(deployment, people, listeners):
    alice, bob, mallory = people("alice"), people("bob"), people("mallory")
    chat_id = chat_between(deployment, alice, bob)
    hers = listeners(deployment.url, alice["cookies"])
    hers.call("join:chat", chat_id)
    spy = listeners(deployment.url, mallory["cookies"])
    spy.call("join:chat", chat_id)
    spy.emit("typing:start", {"chatId": chat_id, "userId": str(bob["_id"])})
    sent = send(deployment, bob, chat_id, "for Alice only")
    spy.emit("message:read", {"chatId": chat_id, "messageIds": [sent["_id"]]})
    assert hers.wait("message:new")["message"]["text"] == "for Alice only"
    unread = http(deployment, alice).get(f"{deployment.url}{API}/chat/all").json()["chats"][0]["chat"]["unseenCount"]
    assert unread == 1  # Mallory's message:read marked nothing
    assert spy.never("message:new") and hers.never("typing:status")
    assert "user:joined:room" not in [event for event, _ in hers.heard]


def test_messages_typing_and_receipts_reach_both_kinds_of_client(deployment, people, listeners, ns_app):
    """Alice uses the original's client, Bob Parley's pages: neither notices."""
    alice, bob = people("alice"), people("bob")
    chat_id = chat_between(deployment, alice, bob)
    hers = listeners(deployment.url, alice["cookies"])
    hers.call("join:chat", chat_id)
    page = SocketPage(deployment.url, bob["cookies"], chat=chat_id, visible=False)
    page.wait_until_attached()
    # Her send arrives on his page, live; his page not in front of him, she hears nothing yet.
    sent = send(deployment, alice, chat_id, "from the API")
    page.wait_for_text(f'id="m-{sent["_id"]}"')
    new = hers.wait("message:new")
    assert new["message"]["_id"] == sent["_id"] and new["senderId"] == str(alice["_id"])
    # His typing, on his page, shows in her client; hers on his page.
    page.tell(type="typing", typing=True)
    assert hers.wait("typing:status") == {"chatId": chat_id, "userId": str(bob["_id"]), "isTyping": True}
    hers.emit("typing:start", {"chatId": chat_id, "userId": str(alice["_id"])})
    page.wait_for_text("is typing")
    # He looks at the chat: she hears message:read.
    page.tell(type="viewing", visible=True)
    read = hers.wait("message:read")
    assert read == {"chatId": chat_id, "messageIds": [sent["_id"]]}
    # His send from the page reaches her client as message:new.
    pages = ns_app.test_client()
    for name, value in bob["cookies"].items():
        pages.set_cookie(name, value)
    pages.token, pages.chat_url = csrf_token(pages, "/profile"), f"/chats/{chat_id}"
    say(pages, "from the page")
    new = hers.wait("message:new", lambda new: new["message"]["text"] == "from the page")
    assert new["senderId"] == str(bob["_id"])
    page.close()


def test_chat_refresh_and_chat_new_go_to_the_person_not_the_room(deployment, people, listeners):
    alice, bob = people("alice"), people("bob")
    his = listeners(deployment.url, bob["cookies"])
    chat_id = chat_between(deployment, alice, bob)
    assert his.wait("chat:new") == {"chatId": chat_id, "createdBy": str(alice["_id"])}
    sent = send(deployment, alice, chat_id, "are you there?")
    refresh = his.wait("chat:refresh")
    assert refresh["chatId"] == chat_id and refresh["message"]["_id"] == sent["_id"]
    assert his.never("message:new", within=0.5)  # he joined no room


def test_online_users_are_told_from_redis_across_two_web_processes(namespace, processes, people, listeners):
    """Hole 13: the original kept who is online in one process's memory."""
    processes.env.update(namespace, API_ORIGINS=FRONT_END)
    first, second = processes.web(), processes.web()
    processes.worker("chat")
    alice, bob = people("alice"), people("bob")
    chat_id = chat_between(first, alice, bob)
    hers = listeners(first.url, alice["cookies"])
    assert hers.wait("getOnlineUsers") == [str(alice["_id"])]
    hers.call("join:chat", chat_id)
    his = listeners(second.url, bob["cookies"], transports=["polling"])
    assert sorted(his.wait("getOnlineUsers")) == sorted([str(alice["_id"]), str(bob["_id"])])
    hers.wait("getOnlineUsers", lambda users: str(bob["_id"]) in users)
    his.call("join:chat", chat_id)
    send(second, bob, chat_id, "across processes")
    assert hers.wait("message:new")["message"]["text"] == "across processes"
    his.close()
    hers.wait("getOnlineUsers", lambda users: str(bob["_id"]) not in users)


def test_signing_out_through_the_api_closes_the_sockets_and_pages_of_that_session(deployment, people, listeners):
    alice = people("alice")
    hers = listeners(deployment.url, alice["cookies"])
    page = SocketPage(deployment.url, alice["cookies"])
    page.wait_until_attached()
    assert http(deployment, alice).post(f"{deployment.url}{API}/logout").status_code == 200
    while page.receive() is not None:  # pushes before the close
        pass
    assert page.close_code == 4401
    hers.wait("disconnect", timeout=5)
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(deployment.url, alice["cookies"])


def test_a_socket_from_another_site_is_refused(deployment, people):
    alice = people("alice")
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(deployment.url, alice["cookies"], origin="https://evil.example")
    assert Listener(deployment.url, alice["cookies"], origin=FRONT_END).connected



def test_a_member_reading_by_socket_tells_the_sender(deployment, people, listeners):
    alice, bob = people("alice"), people("bob")
    chat_id = chat_between(deployment, alice, bob)
    hers, his = listeners(deployment.url, alice["cookies"]), listeners(deployment.url, bob["cookies"])
    hers.call("join:chat", chat_id)
    sent = send(deployment, alice, chat_id, "read me")
    his.wait("chat:refresh")
    his.call("message:read", {"chatId": chat_id, "messageIds": [sent["_id"]]})
    assert hers.wait("message:read") == {"chatId": chat_id, "messageIds": [sent["_id"]]}
    hers.call("leave:chat", chat_id)
    send(deployment, alice, chat_id, "after leaving")
    his.wait("chat:refresh", lambda refresh: refresh["message"]["text"] == "after leaving")
    assert hers.never("message:new", lambda new: new["message"]["text"] == "after leaving", within=1)
