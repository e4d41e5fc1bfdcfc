"""Viewing: which chat each open page shows, so the chat worker knows when a
receiver is looking at a chat (and marks new messages seen). Each page is a
member of a sorted set per (chat, user), scored by when it expires; open pages
renew it, and a closed tab stops counting after VIEWING_TTL."""

from app import clock
from app.connections import key, redis_client
from app.data import chats

VIEWING_TTL = 45  # seconds; pages renew every 20


def viewing_key(chat_id, user_id):
    return key("viewing", chat_id, user_id)


def start(chat_id, user_id, page_id):
    """Record (or renew) that the page shows the chat; True if it did not already."""
    pipe = redis_client().pipeline(transaction=False)
    pipe.zscore(viewing_key(chat_id, user_id), page_id)
    pipe.zadd(viewing_key(chat_id, user_id), {page_id: clock.time() + VIEWING_TTL})
    pipe.expire(viewing_key(chat_id, user_id), VIEWING_TTL)
    score = pipe.execute()[0]
    return score is None or score < clock.time()


def stop(chat_id, user_id, page_id):
    redis_client().zrem(viewing_key(chat_id, user_id), page_id)


def forget(user_id):
    """The account is going: none of its pages views any chat."""
    names = [viewing_key(chat_id, user_id) for chat_id in chats.ids_of(user_id)]
    if names:
        redis_client().delete(*names)


def who_is_viewing(pairs):
    """The (chat_id, user_id) pairs, of those given, with a page open on that chat."""
    pipe = redis_client().pipeline(transaction=False)
    return ask_who_is_viewing(pipe, pairs)(pipe.execute())


def ask_who_is_viewing(pipe, pairs):
    """who_is_viewing, queued on `pipe` with the caller's other commands:
    returns what reads the answer from the pipeline's replies."""
    pairs, start, now = list(pairs), len(pipe), clock.time()
    for chat_id, user_id in pairs:
        pipe.zcount(viewing_key(chat_id, user_id), now, "+inf")
    return lambda replies: {pair for pair, count in zip(pairs, replies[start:]) if count}
