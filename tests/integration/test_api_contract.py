"""The contract (seed-api-contract.md) end to end, as the original's clients
use it: gunicorn, the chat and mail workers, a real SMTP server, HTTP through
requests and Socket.IO through python-socketio's client."""

import io

import pytest
import requests

from tests.support.api import API, FRONT_END, Listener, code_in
from tests.support.people import image_bytes, unique_email


@pytest.fixture
def deployment(namespace, processes):
    processes.env.update(namespace, API_ORIGINS=FRONT_END)
    web = processes.web()
    processes.worker("chat")
    processes.worker("mail")
    return web


def sign_in(web, inbox, name):
    """Sign in as the original front end does: /login, the 8-digit code from the email, /verify."""
    client, email = requests.Session(), unique_email(name)
    client.headers["Origin"] = FRONT_END
    client.api = web.url + API
    response = client.post(f"{client.api}/login", json={"email": email})
    assert response.status_code == 200 and response.json() == {"message": "OTP sent successfully"}
    code = code_in(inbox.wait(email).get_body(("plain",)).get_content())
    assert len(code) == 8
    response = client.post(f"{client.api}/verify", json={"email": email, "otp": code})
    assert response.status_code == 200, response.text
    client.user = response.json()["user"]
    assert client.user["email"] == email and {"accessToken", "refreshToken"} <= set(client.cookies.keys())
    return client


def socket_of(web, client):
    return Listener(web.url, dict(client.cookies), query={"userId": client.user["_id"]})


def test_the_original_clients_flow_end_to_end(deployment, inbox):
    alice, bob = sign_in(deployment, inbox, "alice"), sign_in(deployment, inbox, "bob")
    assert alice.get(f"{alice.api}/me").json()["user"] == alice.user
    assert alice.post(f"{alice.api}/user/all").json()["users"] == []  # a private directory: no strangers listed
    found = alice.post(f"{alice.api}/user/all", params={"search": bob.user["email"]}).json()["users"]
    assert [person["_id"] for person in found] == [bob.user["_id"]]

    her_socket, his_socket = socket_of(deployment, alice), socket_of(deployment, bob)
    try:
        started = alice.post(f"{alice.api}/chat/new", json={"otherUserId": bob.user["_id"]}).json()
        chat_id = started["chatId"]
        assert started["message"] == "New Chat Created"
        assert his_socket.wait("chat:new") == {"chatId": chat_id, "createdBy": alice.user["_id"]}
        [entry] = alice.get(f"{alice.api}/chat/all").json()["chats"]
        assert entry["user"]["_id"] == bob.user["_id"] and entry["chat"]["latestMessage"] is None
        for socket in (her_socket, his_socket):
            socket.call("join:chat", chat_id)
        assert her_socket.wait("user:joined:room") == {"chatId": chat_id, "userId": bob.user["_id"]}
        assert bob.user["_id"] in her_socket.wait("getOnlineUsers", lambda users: bob.user["_id"] in users)

        # Text, then an image: both arrive live on the other client.
        sent = alice.post(f"{alice.api}/message", files={"chatId": (None, chat_id), "text": (None, "Hello Bob")})
        assert sent.status_code == 201 and sent.json()["messages"][-1]["text"] == "Hello Bob"
        new = his_socket.wait("message:new")
        assert new["chatId"] == chat_id and new["senderId"] == alice.user["_id"]
        assert new["message"]["text"] == "Hello Bob" and new["message"]["_id"] == sent.json()["message"]["_id"]
        files = {"chatId": (None, chat_id), "text": (None, ""), "image": ("red.png", io.BytesIO(image_bytes()))}
        picture = alice.post(f"{alice.api}/message", files=files)
        assert picture.status_code == 201
        image = his_socket.wait("message:new", lambda new: new["message"]["messageType"] == "image")["message"]
        assert bob.get(image["image"]["url"]).status_code == 200  # a member fetches it; nobody else may

        # Typing, both ways.
        his_socket.emit("typing:start", {"chatId": chat_id, "userId": bob.user["_id"]})
        assert her_socket.wait("typing:status") == {"chatId": chat_id, "userId": bob.user["_id"], "isTyping": True}
        his_socket.emit("typing:stop", {"chatId": chat_id, "userId": bob.user["_id"]})
        her_socket.wait("typing:status", lambda status: status["isTyping"] is False)

        # Bob opens the chat: what he reads is seen, and Alice hears so.
        history = bob.get(f"{bob.api}/message/{chat_id}").json()
        assert [m["text"] for m in history["messages"]] == ["Hello Bob", ""] and history["nextCursor"] is None
        read = her_socket.wait("message:read")
        assert read["chatId"] == chat_id and sent.json()["message"]["_id"] in read["messageIds"]
        his_socket.call("viewing:chat", chat_id)  # while he looks, what arrives is seen at once
        at_once = alice.post(f"{alice.api}/message", files={"chatId": (None, chat_id), "text": (None, "at once")})
        assert his_socket.wait("message:new", lambda new: new["message"]["text"] == "at once")["message"]["seen"]
        her_socket.wait("message:read", lambda read: read["messageIds"] == [at_once.json()["message"]["_id"]])

        # Refresh, then sign out: the session ends for the API and the socket.
        assert alice.get(f"{alice.api}/auth/refresh").json() == {"message": "Access token refreshed"}
        assert alice.get(f"{alice.api}/me").status_code == 200
        assert alice.post(f"{alice.api}/logout").json() == {"message": "Logged out successfully"}
        her_socket.wait("disconnect")
        assert alice.get(f"{alice.api}/me").status_code == 401
        his_socket.wait("getOnlineUsers", lambda users: alice.user["_id"] not in users)
    finally:
        her_socket.close()
        his_socket.close()
