"""Sign-in limits, as moving windows in Redis: a sorted set per limit,
scored by when each request came. One script checks every limit of a group
and, if none refuses, counts the request in all of them, so parallel
requests cannot slip past a limit together (checking first and counting
after the publish let 25 parallel requests send 25 codes where 1 was due).
A group's keys share a hash tag, so it runs on a Redis Cluster too.

Limits are per requester as well as per address, so that no one can keep
an address's owner from signing in: a requester is the browser that asks (a
signed random cookie, see browser.py) and its IP address.

- Asking for a code, per address and browser: one per SIGNIN_RESEND_COOLDOWN
  seconds and SIGNIN_LIMIT_PER_EMAIL; per IP address, SIGNIN_LIMIT_PER_IP
  over all addresses; per address from everyone, SIGNIN_LIMIT_PER_EMAIL_ALL,
  past which the address only slows down to one code every SLOW_EVERY
  seconds, never locks.
- Trying a code: per browser VERIFY_PER_BROWSER and per IP VERIFY_PER_IP
  tries; each code has its own five (codes.py).

Checked in the sign-in views alone: every other request pays nothing for them.
"""

import math
import secrets
from typing import NamedTuple

from flask import current_app, request

from app import clock
from app.auth import browser, codes
from app.connections import key, redis_client
from config import rate  # one grammar for limits, the settings' (parsed when a process starts)

SLOW_EVERY = 120  # seconds between codes to an address past its cap from everyone
VERIFY_PER_BROWSER = rate("20 per 5 minutes")
VERIFY_PER_IP = rate("100 per 5 minutes")

# KEYS: one sorted set per limit. ARGV: now, this request's member, then
# (count, seconds, slow) per key. A limit with `slow` refuses past its count
# only until `slow` seconds after the newest request. Returns {0, 0}, or
# {n, seconds to wait} for the first limit (n, from 1) that refuses.
TAKE_SCRIPT = """
local now = tonumber(ARGV[1])
for n, name in ipairs(KEYS) do
  local at = 3 * n
  local count, seconds, slow = tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  redis.call('ZREMRANGEBYSCORE', name, '-inf', now - seconds)
  local held = redis.call('ZCARD', name)
  if held >= count then
    local free_at
    if slow > 0 then
      free_at = tonumber(redis.call('ZRANGE', name, -1, -1, 'WITHSCORES')[2]) + slow
    else
      free_at = tonumber(redis.call('ZRANGE', name, held - count, held - count, 'WITHSCORES')[2]) + seconds
    end
    if free_at > now then return {n, math.ceil(free_at - now)} end
  end
end
for n, name in ipairs(KEYS) do
  redis.call('ZADD', name, now, ARGV[2])
  redis.call('EXPIRE', name, tonumber(ARGV[3 * n + 1]) + 1)
end
return {0, 0}
"""


class Limit(NamedTuple):
    key: str
    count: int
    seconds: int
    refusal: str  # what the person is told, with {wait}: "3 minutes"
    slow: int = 0


class Refused(Exception):
    """A limit refuses the request; the message says what to do."""


class Taken(NamedTuple):
    """What a request counted in, to give back if it comes to nothing."""

    keys: tuple
    member: str


def in_words(seconds):
    if seconds <= 90:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes" if minutes <= 90 else f"{math.ceil(minutes / 60)} hours"


def take(*groups):
    """Count the request in every limit of every group (a list of Limits
    whose keys share a hash tag), or in none: Refused names the first that
    refuses. Returns what to `give_back`."""
    member = secrets.token_hex(8)
    taken = []
    script = redis_client().register_script(TAKE_SCRIPT)
    for group in groups:
        args = [clock.time(), member]
        for limit in group:
            args += [limit.count, limit.seconds, limit.slow]
        refused, wait = script(keys=[limit.key for limit in group], args=args)
        if refused:
            give_back(Taken(tuple(taken), member))
            raise Refused(group[refused - 1].refusal.format(wait=in_words(int(wait))))
        taken += [limit.key for limit in group]
    return Taken(tuple(taken), member)


def give_back(taken):
    """The request came to nothing (the code could not be sent): it does not count."""
    if taken.keys:
        pipe = redis_client().pipeline(transaction=False)
        for name in taken.keys:
            pipe.zrem(name, taken.member)
        pipe.execute()


def _ip():
    return request.remote_addr or "unknown"


def asking_for_code(email):
    """Count a request for a code to `email`; Refused if a limit says no."""
    config = current_app.config
    address = codes.address_tag(email)
    per_ip = (
        Limit(
            key("{signin-ip:" + _ip() + "}"),
            *config["SIGNIN_LIMIT_PER_IP"],
            "Too many codes were asked for from your network. Try again in {wait}.",
        ),
    )
    per_address = (
        Limit(
            key(address, "cooldown", browser.browser_id()),
            1,
            config["SIGNIN_RESEND_COOLDOWN"],
            "We just sent you a code. You can ask for another in {wait}.",
        ),
        Limit(
            key(address, "browser", browser.browser_id()),
            *config["SIGNIN_LIMIT_PER_EMAIL"],
            "Too many codes were sent to this address. Try again in {wait}.",
        ),
        Limit(
            key(address, "everyone"),
            *config["SIGNIN_LIMIT_PER_EMAIL_ALL"],
            "Many codes were asked for this address just now. You can ask for another in {wait}.",
            slow=SLOW_EVERY,
        ),
    )
    return take(per_ip, per_address)


def trying_code():
    """Count a try at a code; Refused if this browser or network tried too often."""
    refusal = "Too many tries. Wait {wait}, then try again."
    return take(
        (Limit(key("{verify-browser:" + browser.browser_id() + "}"), *VERIFY_PER_BROWSER, refusal),),
        (Limit(key("{verify-ip:" + _ip() + "}"), *VERIFY_PER_IP, refusal),),
    )
