"""What /api/v1 takes and answers, as marshmallow schemas: flask-smorest
checks requests and writes answers through them, and makes the OpenAPI
document from them (/api/v1/openapi.json)."""

from marshmallow import EXCLUDE, Schema, fields, validate

ISO_TIME = {"metadata": {"description": "ISO 8601, UTC", "example": "2026-12-03T13:27:05.120Z"}}


class Input(Schema):
    class Meta:
        unknown = EXCLUDE  # the original's clients send more than is read


class Message(Schema):
    message = fields.String(required=True)


class Error(Message):
    errors = fields.Dict()


class User(Schema):
    id = fields.String(data_key="_id", attribute="_id", required=True)
    name = fields.String(required=True)
    email = fields.String(required=True, metadata={"description": 'your own address; "hidden" for anyone else'})
    createdAt = fields.String(allow_none=True, **ISO_TIME)
    updatedAt = fields.String(allow_none=True, **ISO_TIME)
    v = fields.Integer(data_key="__v", attribute="__v")


class Image(Schema):
    url = fields.String(required=True)
    publicId = fields.String(required=True)
    alt = fields.String(metadata={"description": "the image's description, for people who cannot see it"})


class ChatMessage(Schema):
    id = fields.String(
        data_key="_id", attribute="_id", required=True, metadata={"description": "the message's client id"}
    )
    chatId = fields.String(required=True)
    sender = fields.String(required=True)
    text = fields.String()
    image = fields.Nested(Image)
    messageType = fields.String(required=True, validate=validate.OneOf(["text", "image"]))
    seen = fields.Boolean(required=True)
    seenAt = fields.String(allow_none=True, **ISO_TIME)
    createdAt = fields.String(required=True, **ISO_TIME)
    updatedAt = fields.String(required=True, **ISO_TIME)
    v = fields.Integer(data_key="__v", attribute="__v")


class LatestMessage(Schema):
    text = fields.String(required=True)
    sender = fields.String(required=True)
    senderId = fields.String(required=True, metadata={"description": "the same as sender"})


class SentChat(Schema):
    id = fields.String(data_key="_id", attribute="_id", required=True)
    users = fields.List(fields.String(), required=True)
    latestMessage = fields.Nested(LatestMessage, allow_none=True, required=True)
    updatedAt = fields.String(allow_none=True, **ISO_TIME)
    v = fields.Integer(data_key="__v", attribute="__v")


class Chat(SentChat):
    unseenCount = fields.Integer(required=True, metadata={"description": "messages waiting for you here"})
    createdAt = fields.String(allow_none=True, **ISO_TIME)


# Requests


class Login(Input):
    email = fields.String(required=True, validate=validate.Length(max=320))


class Verify(Login):
    otp = fields.String(required=True, validate=validate.Length(max=64))


class Rename(Input):
    name = fields.String(required=True)


class People(Input):
    search = fields.String(
        validate=validate.Length(max=320),
        metadata={"description": "a name, or a whole email address, as Parley's own people search takes it"},
    )


class NewChat(Input):
    otherUserId = fields.String(required=True)


class Send(Input):
    chatId = fields.String(required=True)
    text = fields.String(load_default="")
    alt = fields.String(load_default="", metadata={"description": "the image's description"})


class Upload(Input):
    image = fields.Raw(metadata={"type": "string", "format": "binary"})


class History(Input):
    cursor = fields.String(
        metadata={"description": "nextCursor of the page before: the messages older than those it had"}
    )


# Answers


class Verified(Message):
    user = fields.Nested(User, required=True)


class Me(Schema):
    user = fields.Nested(User, required=True)


class Renamed(Verified):
    token = fields.String(allow_none=True, metadata={"description": "always null: tokens stay in their cookies"})


class Everyone(Message):
    users = fields.List(fields.Nested(User), required=True)


class OneUser(Schema):
    user = fields.Nested(User)
    message = fields.String()


class ChatStarted(Schema):
    message = fields.String()
    messaeg = fields.String(metadata={"description": "the original's spelling, when the chat already existed"})
    chatId = fields.String(required=True)


class ChatEntry(Schema):
    user = fields.Nested(User, required=True)
    chat = fields.Nested(Chat, required=True)


class Chats(Schema):
    chats = fields.List(fields.Nested(ChatEntry), required=True)


class Sent(Schema):
    message = fields.Nested(ChatMessage, required=True)
    messages = fields.List(fields.Nested(ChatMessage), required=True)
    chat = fields.Nested(SentChat, required=True)
    sender = fields.String(required=True)


class Messages(Schema):
    messages = fields.List(fields.Nested(ChatMessage), required=True)
    user = fields.Nested(User, required=True)
    nextCursor = fields.String(allow_none=True, required=True)
