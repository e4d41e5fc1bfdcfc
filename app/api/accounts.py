"""Signing in and people: the original's user service, on Parley's sign-in
codes (8 digits here), sessions and people search."""

from bson import ObjectId
from flask import current_app, g, make_response, session

from app import broker, outages
from app.api import Blueprint, from_allowed_origin, refuse, schemas, shapes, signed_in
from app.auth import browser, codes, otp, sessions, throttle
from app.auth.forms import SignInForm
from app.chats import contacts
from app.data import chats, users
from app.people import search
from app.people.forms import NameForm

API_DIGITS = 8  # the original's front end takes exactly 8
EVERYONE_SHOWN = 100  # people listed by /user/all in an open directory, besides your contacts

bp = Blueprint("accounts", __name__, description="Signing in, sessions and people")
bp.before_request(from_allowed_origin)
bp.after_request(browser.remember)  # sign-in limits count per browser, as for pages


def first_error(form):
    return next(iter(form.errors.values()))[0]


@bp.post("/login")
@bp.arguments(schemas.Login)
@bp.response(200, schemas.Message)
@bp.alt_response(400, schema=schemas.Error)
@bp.alt_response(429, schema=schemas.Error)
@bp.alt_response(503, schema=schemas.Error)
def login(fields):
    """Mail an 8-digit sign-in code to the address (the answer is the same whether it has an account)."""
    form = SignInForm(formdata=None, data={"email": fields["email"]})
    if not form.validate():
        refuse(400, first_error(form))
    email = form.email.data
    attempt = otp.signin_attempt(email)
    try:
        otp.send_code(email, attempt, API_DIGITS)
    except throttle.Refused as refusal:
        refuse(429, str(refusal))
    except broker.PublishError:
        refuse(503, outages.MESSAGE)
    otp.remember_attempt(email, attempt)
    return {"message": "OTP sent successfully"}


@bp.post("/verify")
@bp.arguments(schemas.Verify)
@bp.response(200, schemas.Verified)
@bp.alt_response(400, schema=schemas.Error)
@bp.alt_response(429, schema=schemas.Error)
def verify(fields):
    """Sign in with the code mailed to the address by /login (asked in this session, its cookies kept):
    sets the accessToken and refreshToken cookies."""
    email, attempt = otp.pending_signin()
    if not (email and attempt) or SignInForm(formdata=None, data={"email": fields["email"]}).email.data != email:
        refuse(400, "Invalid or Expired OTP")
    try:
        outcome, tries_left, user = otp.try_code(email, attempt, "".join(fields["otp"].split()))
    except throttle.Refused as refusal:
        refuse(429, str(refusal))
    if outcome is not codes.Outcome.OK:
        refuse(400, otp.code_error(outcome, tries_left))
    session.clear()
    response = make_response({"message": "User Verified", "user": shapes.user(user, user["_id"])})
    sessions.start(response, user["_id"])
    return response


@bp.get("/auth/refresh")
@bp.response(200, schemas.Message)
@bp.alt_response(401, schema=schemas.Error)
def refresh():
    """New cookies from the refreshToken cookie, which is rotated: one used again after its rotation ends
    its session."""
    if not sessions.renew():
        refuse(401, "Sign in again.")
    return {"message": "Access token refreshed"}


@bp.get("/me")
@bp.response(200, schemas.Me)
@bp.alt_response(401, schema=schemas.Error)
@signed_in
def me():
    """You, with your email."""
    return {"user": shapes.user(users.get(g.user_id), g.user_id)}


@bp.post("/update/user")
@bp.arguments(schemas.Rename)
@bp.response(200, schemas.Renamed)
@bp.alt_response(400, schema=schemas.Error)
@bp.alt_response(401, schema=schemas.Error)
@signed_in
def rename(fields):
    """Change your name. (The original returned the access token here as well; `token` is null.)"""
    form = NameForm(formdata=None, data={"name": fields["name"]})
    if not form.validate():
        refuse(400, first_error(form))
    users.rename(users.get(g.user_id), form.name.data)
    return {"message": "User Updated", "user": shapes.user(users.get(g.user_id), g.user_id), "token": None}


@bp.post("/logout")
@bp.response(200, schemas.Message)
@bp.alt_response(401, schema=schemas.Error)
@signed_in
def logout():
    """End this session everywhere: its cookies stop working, and its open pages and sockets close."""
    response = make_response({"message": "Logged out successfully"})
    sessions.end(response)
    return response


@bp.post("/user/all")
@bp.arguments(schemas.People, location="query")
@bp.response(200, schemas.Everyone)
@bp.alt_response(401, schema=schemas.Error)
@signed_in
def everyone(fields):
    """The people you may start a chat with: with `search`, those Parley's people search finds; else your
    contacts, and in an open directory (DIRECTORY=open) the newest people too. Never their emails."""
    query = fields.get("search", "").strip()
    if query:
        found = search.find(query, g.user_id)
    else:
        ids = [ObjectId(contact) for contact in contacts.of(g.user_id)]
        found = list(users.profiles(ids).values())
        if current_app.config["DIRECTORY"] == "open":
            hidden = chats.blockers_of(g.user_id) | {g.user_id, *ids}
            found += [person for person in users.newest(EVERYONE_SHOWN + len(hidden)) if person["_id"] not in hidden]
    profiles = users.profiles([person["_id"] for person in found])
    shown = [shapes.user(profiles[person["_id"]], g.user_id) for person in found if person["_id"] in profiles]
    return {"message": "fetched all Users successfully", "users": shown}


@bp.get("/user/<user_id>")
@bp.response(200, schemas.OneUser)
@bp.alt_response(401, schema=schemas.Error)
@signed_in
def one(user_id):
    """Someone you may see: yourself, your contacts, or in an open directory anyone who has not blocked
    you. Anyone else is answered as unknown."""
    person_id = chats.parse_id(user_id)
    person = person_id and users.profiles([person_id]).get(person_id)
    if person is None or not may_see(person_id):
        return {"message": "Invalid User "}
    return {"user": shapes.user(person, g.user_id)}


def may_see(person_id):
    if person_id == g.user_id or str(person_id) in contacts.of(g.user_id):
        return True
    return current_app.config["DIRECTORY"] == "open" and person_id not in chats.blockers_of(g.user_id)
