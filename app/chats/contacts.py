"""A person's contacts (everyone they have a chat with that neither of them
blocked), kept in Redis: telling them of a change of presence read 1,000
chat documents from MongoDB on every connect (118 ms), and their set is one
command. MongoDB stays the truth: a set that is missing is read from there
again, and whatever changes a chat's members or blocks calls changed().

A version number guards the refill: one that read MongoDB before a change
and writes after it would keep a blocked person as a contact, so the set is
written only if the version it read before MongoDB is still current."""

from app.connections import key, redis_client
from app.data import chats

KEEP = 3600  # seconds a set is kept unused (and a version, far longer than any refill)
EMPTY = "-"  # in every set, so that no contacts is told apart from not known

# KEYS: the set, its version; ARGV: the version read before MongoDB, KEEP, then the members.
FILL_SCRIPT = """
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
for first = 3, #ARGV, 1000 do
  redis.call('SADD', KEYS[1], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


def set_key(user_id):
    return key("{contacts:" + str(user_id) + "}", "set")  # one slot for the set and its version


def version_key(user_id):
    return key("{contacts:" + str(user_id) + "}", "version")


def of(user_id, pipe=None):
    """The user's contacts' ids, as text (as Redis keeps them: making 1,000
    ObjectIds took 1.5 ms, for the few a caller needs): from their set, or
    read from MongoDB and kept; with `pipe`, the keeping is queued on it, for
    the caller to send with its own commands (one round trip less)."""
    client = redis_client()
    read = client.pipeline(transaction=False)
    read.smembers(set_key(user_id))
    read.get(version_key(user_id))
    members, version = read.execute()
    if members:
        return [member for member in members if member != EMPTY]
    found = [str(contact) for contact in chats.contacts(user_id)]
    keep = pipe if pipe is not None else client.pipeline(transaction=False)
    # EVAL, as in numbering: no SCRIPT EXISTS round trip before the pipeline.
    keys = [set_key(user_id), version_key(user_id)]
    keep.execute_command("EVAL", FILL_SCRIPT, len(keys), *keys, version or "", KEEP, EMPTY, *found)
    if pipe is None:
        keep.execute()
    return found


def forget(user_id):
    """The account is going: its set and version go too."""
    redis_client().delete(set_key(user_id), version_key(user_id))


def changed(*user_ids):
    """Their chats or blocks changed: read their contacts afresh next time."""
    pipe = redis_client().pipeline(transaction=False)
    for user_id in user_ids:
        pipe.incr(version_key(user_id))
        pipe.expire(version_key(user_id), KEEP)
        pipe.delete(set_key(user_id))
    pipe.execute()
