"""When to look at someone who is away: a sorted set of checks, each a
person and a kind ("mail:<user id>", "push:<user id>"), scored by when it
falls due.

The chat worker adds a check for each person it delivered something to
that they have not seen, in the Redis round trip it makes anyway: one
ZADD NX for the batch, so the first unseen message sets the time and the
ones after it wait for the same check. The notify worker claims checks as
they fall due, moving each into `claimed`, scored by when its claim lapses:
a worker that dies mid-check leaves it there, and it falls due again once
the claim lapses. A check added while the same one is claimed waits for
that claim to end.

Redis only says when to look. What is unseen, and what was mailed, is in
MongoDB (app/notifications/mail.py), so a check run twice sends nothing
twice, and a check lost with Redis's data is found again there: every
claim counts up `epoch`, so a worker that sees the count go back knows
Redis lost or rolled back its data, and recovers the checks.
"""

from app import clock
from app.connections import key, redis_client

LEASE = 60  # seconds a claimed check is the claimer's before it falls due again
KINDS = ("mail", "push")

# Claim up to ARGV[3] checks due by ARGV[1], each until ARGV[2]; first put
# back the lapsed claims. Returns the epoch and the checks claimed.
CLAIM_SCRIPT = """
local epoch = redis.call('INCR', KEYS[3])
for _, check in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])) do
  redis.call('ZREM', KEYS[2], check)
  redis.call('ZADD', KEYS[1], 'LT', ARGV[1], check)
end
local claimed = {}
for _, check in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])) do
  local held = redis.call('ZSCORE', KEYS[2], check)
  if held then
    redis.call('ZADD', KEYS[1], held, check)
  else
    redis.call('ZREM', KEYS[1], check)
    redis.call('ZADD', KEYS[2], ARGV[2], check)
    table.insert(claimed, check)
  end
end
return {epoch, claimed}
"""

# The claimer is done with ARGV[1]: due again at ARGV[2] if given (or sooner,
# if a check was added meanwhile), else a check added meanwhile falls due now.
FINISH_SCRIPT = """
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[1], 'LT', ARGV[2], ARGV[1])
else
  redis.call('ZADD', KEYS[1], 'XX', 'LT', ARGV[3], ARGV[1])
end
"""


def due_key():
    return key("{notify}", "due")


def claimed_key():
    return key("{notify}", "claimed")


def epoch_key():
    return key("{notify}", "epoch")


def check(kind, user_id):
    return f"{kind}:{user_id}"


def parse(check):
    """(kind, user id as text) of a check."""
    kind, _, user_id = check.partition(":")
    return kind, user_id


def ask(pipe, due):
    """Queue on `pipe` the checks {check: when} that are not already waiting."""
    if due:
        pipe.zadd(due_key(), due, nx=True)


def claim(limit=50):
    """(epoch, [checks]): the checks due now, now the caller's for LEASE seconds."""
    now = clock.time()
    keys = [due_key(), claimed_key(), epoch_key()]
    epoch, claimed = redis_client().eval(CLAIM_SCRIPT, len(keys), *keys, now, now + LEASE, limit)
    return int(epoch), claimed


def finish(check, again_at=None):
    """The claimer is done with `check`; with `again_at`, look again then."""
    keys = [due_key(), claimed_key()]
    redis_client().eval(FINISH_SCRIPT, len(keys), *keys, check, "" if again_at is None else again_at, clock.time())


def add(checks, at=None):
    """Checks due at `at` (default now), unless already waiting."""
    if checks:
        redis_client().zadd(due_key(), {check: at or clock.time() for check in checks}, nx=True)


def next_due():
    """When the earliest waiting check falls due, or None."""
    found = redis_client().zrange(due_key(), 0, 0, withscores=True)
    return found[0][1] if found else None


def forget(user_id):
    """A deleted account's checks."""
    checks = [check(kind, user_id) for kind in KINDS]
    pipe = redis_client().pipeline(transaction=False)
    pipe.zrem(due_key(), *checks)
    pipe.zrem(claimed_key(), *checks)
    pipe.execute()
