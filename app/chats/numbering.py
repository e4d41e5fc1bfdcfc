"""Message numbers: a chat numbers its messages 1, 2, 3… (`seq`), which is how
history pages without reading the whole chat. The counter is in Redis, one
atomic INCRBY per chat per batch of messages; the chat's last_seq in MongoDB
is its durable floor, for when Redis has lost it. Two workers can then hand
out one number twice only after such a loss, and the unique (chat_id, seq)
index turns that into a retry, never a doubled number."""

from app.connections import key, redis_client
from app.data import chats

COUNTER_TTL = 30 * 24 * 3600

RESERVE_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[2] == '' then return false end
  redis.call('SET', KEYS[1], ARGV[2], 'NX')
end
local last = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return last
"""


def reserve(counts):
    """{chat_id: how many numbers} -> {chat_id: the last number reserved}."""
    reserved = _run(counts, {})
    missing = [chat_id for chat_id, last in reserved.items() if last is None]
    if missing:
        floors = {chat_id: chat.get("last_seq", 0) for chat_id, chat in chats.get_many(missing).items()}
        reserved.update(_run({chat_id: counts[chat_id] for chat_id in missing}, floors))
    return reserved


def _run(counts, floors):
    # EVAL, not a registered Script: in a pipeline a Script costs an extra
    # SCRIPT EXISTS round trip, and Redis caches the compiled script anyway.
    pipe = redis_client().pipeline(transaction=False)
    for chat_id, count in counts.items():
        pipe.eval(RESERVE_SCRIPT, 1, key("seq", chat_id), count, floors.get(chat_id, ""), COUNTER_TTL)
    return dict(zip(counts, pipe.execute()))
