"""Message numbers: a chat numbers its messages 1, 2, 3… (`seq`), which is how
history pages without reading the whole chat. The counter is in Redis, one
atomic INCRBY per chat per batch of messages; MongoDB holds its floor.

A counter can be lost with Redis, or go back when Redis is restored from an
older snapshot. A lost one starts again above every number stored for its
chat. One that went back hands out a number already taken: the unique
(chat_id, seq) index refuses it, and the counter is raised above what is
stored before numbering again. So a number is never given twice, and the
usual batch costs no MongoDB read at all."""

from app.connections import key, redis_client
from app.data import chats, messages

COUNTER_TTL = 30 * 24 * 3600

# KEYS: the counter; ARGV: how many, the floor ('' for none), the TTL.
# Without a floor, a missing counter answers nil: the caller finds the floor.
RESERVE_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]))
if ARGV[2] ~= '' then
  local floor = tonumber(ARGV[2])
  if not current or current < floor then redis.call('SET', KEYS[1], floor) end
elseif not current then
  return false
end
local last = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return last
"""


def reserve(counts):
    """{chat_id: how many numbers} -> {chat_id: the last number reserved}."""
    pipe = redis_client().pipeline(transaction=False)
    return ask_reserve(pipe, counts)(pipe.execute())


def ask_reserve(pipe, counts):
    """reserve, queued on `pipe` with the caller's other commands: returns
    what reads the answer from the pipeline's replies (and reserves again,
    above what is stored, for the chats whose counters Redis lost)."""
    start = len(pipe)
    _queue(pipe, counts, {})

    def read(replies):
        reserved = dict(zip(counts, replies[start:]))
        missing = [chat_id for chat_id, last in reserved.items() if last is None]
        if missing:
            reserved.update(again({chat_id: counts[chat_id] for chat_id in missing}))
        return reserved

    return read


def again(counts):
    """Reserve with each counter first raised above the numbers stored for
    its chat: for a counter Redis lost, or one that handed out a taken number."""
    return _run(counts, {chat_id: _stored_floor(chat) for chat_id, chat in chats.get_many(counts).items()})


def _stored_floor(chat):
    """The highest number stored in the chat. The chat's last_seq is kept
    after its messages are saved, so only a few can be above it."""
    return messages.highest_seq(chat["_id"], above=chat.get("last_seq", 0))


def _run(counts, floors):
    pipe = redis_client().pipeline(transaction=False)
    _queue(pipe, counts, floors)
    return dict(zip(counts, pipe.execute()))


def _queue(pipe, counts, floors):
    # EVAL, not a registered Script: in a pipeline a Script costs an extra
    # SCRIPT EXISTS round trip, and Redis caches the compiled script anyway.
    # As a command: a Redis Cluster pipeline has no eval() method, but routes EVAL by its key.
    for chat_id, count in counts.items():
        floor = floors.get(chat_id, "")
        pipe.execute_command("EVAL", RESERVE_SCRIPT, 1, key("seq", chat_id), count, floor, COUNTER_TTL)
