"""One-time sign-in codes: six random digits, kept hashed in Redis for five
minutes, five tries each. A code belongs to one sign-in attempt (the browser
session that asked for it), so wrong tries from anyone else's attempt at the
same address cannot use up its tries, and a code they ask for does not
replace it."""

import enum
import hashlib
import hmac
import secrets

from flask import current_app

from app.connections import key, redis_client

CODE_TTL = 300
MAX_TRIES = 5
DIGITS = 6

# Atomic, so two guesses at once cannot both use the last try and an expiring
# code cannot come back to life without its TTL.
CHECK_SCRIPT = """
local stored = redis.call('HGET', KEYS[1], 'digest')
if not stored then
  if redis.call('GET', KEYS[2]) == ARGV[1] then return {'used', 0} end
  return {'expired', 0}
end
local tries = tonumber(redis.call('HGET', KEYS[1], 'tries'))
if tries >= tonumber(ARGV[2]) then return {'locked', 0} end
if stored == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3])
  return {'ok', 0}
end
local left = tonumber(ARGV[2]) - redis.call('HINCRBY', KEYS[1], 'tries', 1)
if left <= 0 then return {'locked', 0} end
return {'wrong', left}
"""


class Outcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    EXPIRED = "expired"
    USED = "used"


def new_code(digits=DIGITS):
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def digest(email, code):
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{email}\n{code}".encode(), hashlib.sha256).hexdigest()


def new_attempt():
    """An id for one sign-in attempt, kept in the browser's session."""
    return secrets.token_urlsafe(12)


def address_tag(email):
    """The hash tag of every key about signing in as `email`, so one script can use them on a Redis Cluster."""
    return "{signin:" + email + "}"


def code_key(email, attempt):
    return key(address_tag(email), "code", attempt)


def used_key(email, attempt):
    return key(address_tag(email), "used", attempt)


def store(email, attempt, code):
    """Keep the code's digest for CODE_TTL seconds, replacing any earlier code of this attempt."""
    pipe = redis_client().pipeline()
    pipe.delete(used_key(email, attempt))
    pipe.hset(code_key(email, attempt), mapping={"digest": digest(email, code), "tries": 0})
    pipe.expire(code_key(email, attempt), CODE_TTL)
    pipe.execute()


def discard(email, attempt):
    redis_client().delete(code_key(email, attempt))


def check(email, attempt, code):
    """Return (Outcome, tries_left) and use the code up if it is right."""
    script = redis_client().register_script(CHECK_SCRIPT)
    outcome, tries_left = script(
        keys=[code_key(email, attempt), used_key(email, attempt)],
        args=[digest(email, code), MAX_TRIES, CODE_TTL],
    )
    return Outcome(outcome), int(tries_left)
