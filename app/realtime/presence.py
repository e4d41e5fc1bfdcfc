"""Presence state: who has a live connection (what features tell others of
it is theirs: see app/realtime/hooks.py).

Each connection is recorded twice: in its user's set (as "process
connection") and in its web process's set (as "user connection"). A web
process proves it is alive with one heartbeat every HEARTBEAT seconds,
however many pages it holds; a user is online while any of their
connections belongs to a live process. When the last connection closes, the
user's contacts hear "offline" after a short grace (a reload is not a
departure); when a web process dies, its heartbeat stops, and the next
sweep by any other process removes its connections and reports the users
left with none offline. These keys have no TTL: each lives exactly as long
as the connections it lists, and a dead process's are removed by the sweep.
"""

import secrets
import time

from bson import ObjectId

from app import clock
from app.connections import key, redis_client

PROCESS_TTL = 15  # seconds without a heartbeat before a process counts as gone
# Open pages (sockets and event streams) one person may have, across processes:
# more tabs than anyone uses, few enough that no account can fill a process.
PAGES_PER_PERSON = 20
HEARTBEAT = 5
OFFLINE_GRACE = 2
# A page just rendered connects in a moment: until then (at most this many
# seconds) its person counts as reachable, so a change of presence told now
# is kept for the page to replay when its socket attaches.
EXPECTED_FOR = 30

# A user's live connections: theirs whose process has not missed its heartbeats.
LIVE_COUNT = """
local function live(user_key, now)
  local count = 0
  for _, entry in ipairs(redis.call('SMEMBERS', user_key)) do
    local process = string.match(entry, '^(%S+)')
    local expires = redis.call('ZSCORE', KEYS[1], process)
    if expires and tonumber(expires) > now then count = count + 1 end
  end
  return count
end
"""

ONLINE_SCRIPT = LIVE_COUNT + """
local counts = {}
for n = 2, #KEYS do counts[n - 1] = live(KEYS[n], tonumber(ARGV[1])) end
return counts
"""

# KEYS: the processes (naming the presence slot); ARGV: the prefixes of
# users' sets and "expected" keys, then the user ids. Returns the (1-based)
# places of the users with a connection recorded (a dead process's count
# until the sweep: a push to them is only wasted), and of those with a page
# expected: one command for each user, two for those reached. The keys are
# made here, as the sweep's are: making 2,000 in Python took 10 ms (all share
# the presence slot, see TAG).
REACHABLE_SCRIPT = """
local reached, expected = {}, {}
for n = 3, #ARGV do
  if redis.call('EXISTS', ARGV[1] .. ARGV[n], ARGV[2] .. ARGV[n]) > 0 then
    reached[#reached + 1] = n - 2
    if redis.call('EXISTS', ARGV[2] .. ARGV[n]) == 1 then expected[#expected + 1] = n - 2 end
  end
end
return {reached, expected}
"""

# KEYS: processes, user's set, process's set; ARGV: process, connection, user, now, 'add' or 'remove',
# the most pages a person may have open. Returns the user's live connections
# and, when there are too many, the oldest ones that must close (connection
# ids sort by when they were made).
CONNECTION_SCRIPT = LIVE_COUNT + """
local entry = ARGV[1] .. ' ' .. ARGV[2]
if ARGV[5] == 'add' then
  redis.call('SADD', KEYS[2], entry)
  redis.call('SADD', KEYS[3], ARGV[3] .. ' ' .. ARGV[2])
else
  redis.call('SREM', KEYS[2], entry)
  redis.call('SREM', KEYS[3], ARGV[3] .. ' ' .. ARGV[2])
  return {live(KEYS[2], tonumber(ARGV[4]))}
end
local open = {}
for _, each in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local process, connection = string.match(each, '^(%S+) (%S+)$')
  local expires = redis.call('ZSCORE', KEYS[1], process)
  if expires and tonumber(expires) > tonumber(ARGV[4]) then open[#open + 1] = connection end
end
local answer = {#open}
if #open > tonumber(ARGV[6]) then
  table.sort(open)
  for n = 1, #open - tonumber(ARGV[6]) do answer[#answer + 1] = open[n] end
end
return answer
"""

# Claim one dead process (only one sweeper gets it), remove its connections,
# and return the users it leaves with no live connection.
SWEEP_SCRIPT = LIVE_COUNT + """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return {} end
local process_key = ARGV[3] .. ARGV[1]
local gone = {}
for _, entry in ipairs(redis.call('SMEMBERS', process_key)) do
  local user, connection = string.match(entry, '^(%S+) (%S+)$')
  local user_key = ARGV[4] .. user
  redis.call('SREM', user_key, ARGV[1] .. ' ' .. connection)
  if live(user_key, tonumber(ARGV[2])) == 0 then gone[#gone + 1] = user end
end
redis.call('DEL', process_key)
return gone
"""


# Every presence script reads the processes and some users' and processes'
# sets together, so all presence keys share one hash tag: one slot of a Redis
# Cluster holds them (presence changes only as pages open and close, and one
# heartbeat per web process every HEARTBEAT seconds: no hot spot).
TAG = "{presence}"


def user_key(user_id):
    return key(TAG, "user", user_id)


def process_key(process_id):
    return key(TAG, "process", process_id)


def processes_key():
    """Web processes, scored by when they count as gone unless they beat again."""
    return key(TAG, "processes")


def online(user_ids):
    """The subset of `user_ids` that is online now, in one round trip."""
    pipe = redis_client().pipeline(transaction=False)
    return ask_online(pipe, user_ids)(pipe.execute())


def ask_online(pipe, user_ids):
    """online, queued on `pipe` with the caller's other commands: returns
    what reads the answer from the pipeline's replies."""
    user_ids, start = list(user_ids), len(pipe)
    if not user_ids:
        return lambda replies: set()
    keys = [processes_key(), *(user_key(user_id) for user_id in user_ids)]
    # EVAL, as in numbering: no SCRIPT EXISTS round trip before the pipeline.
    pipe.execute_command("EVAL", ONLINE_SCRIPT, len(keys), *keys, clock.time())
    return lambda replies: {user_id for user_id, count in zip(user_ids, replies[start]) if count}


def expected_key(user_id):
    return key(TAG, "expected", user_id)


def expect(user_id):
    """A page of the user's was rendered and will connect: see EXPECTED_FOR."""
    redis_client().set(expected_key(user_id), 1, ex=EXPECTED_FOR)


def forget(user_id):
    """The account is going: no page of theirs is expected. (Their
    connections go with their pages, which signing them out closed.)"""
    redis_client().delete(expected_key(user_id))


def ask_reachable(pipe, user_ids):
    """Queued on `pipe` with the caller's other commands: what reads, from
    the pipeline's replies, (those of `user_ids` (ids or their text) that a
    push reaches: online, or with a page about to connect; those of them with
    a page about to connect, which must find the push kept)."""
    user_ids, start = list(user_ids), len(pipe)
    if not user_ids:
        return lambda replies: (set(), set())
    args = [user_key(""), expected_key(""), *map(str, user_ids)]
    pipe.execute_command("EVAL", REACHABLE_SCRIPT, 1, processes_key(), *args)  # EVAL: as in ask_online

    def read(replies):
        reached, expected = replies[start]
        return {user_ids[place - 1] for place in reached}, {user_ids[place - 1] for place in expected}

    return read


def _change(process_id, user_id, connection_id, action):
    client = redis_client()
    keys = [processes_key(), user_key(user_id), process_key(process_id)]
    args = [process_id, connection_id, str(user_id), clock.time(), action, PAGES_PER_PERSON]
    return client.register_script(CONNECTION_SCRIPT)(keys=keys, args=args)


_last_made = 0


def connection_id():
    """A new connection's id; ids sort by when they were made (in a process
    strictly, across processes as far as their clocks agree)."""
    global _last_made
    _last_made = max(_last_made + 1, time.time_ns() // 1000)  # microseconds
    return f"{_last_made:016x}{secrets.token_hex(8)}"


def connect(process_id, user_id, connection_id):
    """Record a connection. Returns whether it makes the user online (their
    only live one) and the ids of their oldest connections past
    PAGES_PER_PERSON, which must close."""
    count, *too_many = _change(process_id, user_id, connection_id, "add")
    return count == 1, too_many


def disconnect(process_id, user_id, connection_id):
    """Forget a connection; True if the user has no live connection left."""
    return _change(process_id, user_id, connection_id, "remove")[0] == 0


def still_offline(user_id):
    return user_id not in online([user_id])


def heartbeat(process_id):
    """This process is alive: one command, whatever the number of its
    connections. True if it had been counted gone (or is new), when its
    connections must be recorded again (see reconcile)."""
    return redis_client().zadd(processes_key(), {process_id: clock.time() + PROCESS_TTL}) == 1


def reconcile(process_id, held):
    """Make Redis list exactly the connections this process holds, `held()`
    being {connection id: user id}: records a sweep removed while Redis could
    not hear the heartbeat come back, and records a failed disconnect left go.
    Returns the users this made online, and those it made offline."""
    recorded = {}
    for entry in redis_client().smembers(process_key(process_id)):
        user_id, _, connection_id = entry.partition(" ")
        recorded[connection_id] = ObjectId(user_id)
    holding = held()  # after reading Redis, so a connection opened meanwhile is in both
    came = [user for cid, user in holding.items() if cid not in recorded and connect(process_id, user, cid)[0]]
    gone = [user for cid, user in recorded.items() if cid not in holding and disconnect(process_id, user, cid)]
    return came, gone


def sweep():
    """Users left offline by web processes that stopped beating; each dead
    process is claimed by exactly one sweeping process."""
    client = redis_client()
    now = clock.time()
    script = client.register_script(SWEEP_SCRIPT)
    gone = []
    for process_id in client.zrangebyscore(processes_key(), "-inf", now, start=0, num=20):
        gone += script(
            keys=[processes_key()],
            args=[process_id, now, process_key(""), user_key("")],
        )
    return [ObjectId(user_id) for user_id in gone]
