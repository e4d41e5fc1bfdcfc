"""What a search finds and how a result reads: the query's words, the
messages that have them all (the last one as a beginning) in the person's
chats with no block, newest first, a page at a time, grouped by chat, each
"NAME, date: text" with the words marked."""

from itertools import groupby

from markupsafe import Markup, escape

from app import formatting
from app.data import chats, search, users
from app.text import search_spans, search_words

PAGE_SIZE = 20
MAX_WORDS = 8  # more words than anyone types into a chat search; each is checked on every result
SNIPPET = 160  # characters of a long message shown around its first match
LEAD = 40  # ...of which this many before it


def query_words(query):
    """The words a query looks for, as search compares them (at most MAX_WORDS)."""
    return search_words(query)[:MAX_WORDS]


def has_words(text, words):
    """Whether `text` has every word but the last, and one beginning with the last."""
    found = set(search_words(text))
    *whole, last = words
    return all(word in found for word in whole) and any(word.startswith(last) for word in found)


def find(person_id, query, before=None):
    """(the newest PAGE_SIZE matches before the message `before`, whether there are older ones)."""
    words = query_words(query)
    if not words:
        return [], False
    last = len(words) - 1
    # The longest key is the rarest: the index reads its range, the other words are checked on the text.
    key = max((search.key_for(word, n == last) for n, word in enumerate(words)), key=len)
    blocked = {}

    def keep(batch):
        """Those with every word, in chats without a block (read once a chat, one query a window)."""
        unknown = {message["chat_id"] for message in batch} - blocked.keys()
        if unknown:
            found = chats.get_many(unknown)
            blocked.update({chat_id: bool(found.get(chat_id, {}).get("blocked_by")) for chat_id in unknown})
        return [m for m in batch if not blocked[m["chat_id"]] and has_words(m.get("text"), words)]

    until = search.cursor(before) if before else None
    found = search.newest(person_id, key, until, PAGE_SIZE + 1, keep)
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


def marked(text, words):
    """`text` escaped, with each matching word in <mark>; a long one cut around its first match."""
    *whole, last = words
    spans = [(start, end) for start, end, word in search_spans(text) if word in whole or word.startswith(last)]
    begin, end = 0, len(text)
    if len(text) > SNIPPET:
        begin = max(0, (spans[0][0] if spans else 0) - LEAD)
        end = min(len(text), begin + SNIPPET)
    parts, done = ["…" if begin else ""], begin
    for start, stop in spans:
        if start < begin or stop > end:
            continue
        parts += [escape(text[done:start]), Markup("<mark>{}</mark>").format(text[start:stop])]
        done = stop
    parts += [escape(text[done:end]), "…" if end < len(text) else ""]
    return Markup("").join(parts)


def when(at, tz):
    """ "Yesterday 18:14", "Monday 23 November 18:14"."""
    return f"{formatting.day_label(at, tz)} {formatting.clock_time(at, tz)}"


def grouped(found, person_id, query, tz):
    """The results under their chats: [{chat_id, name, results: [{url, sender, when, text}]}],
    each chat where its newest result falls, its results newest first."""
    words = query_words(query)
    others = {m["chat_id"]: chats.other_member(chats.members(m["chat_id"]), person_id) for m in found}
    names = users.names(set(others.values()))
    order = {chat_id: n for n, chat_id in reversed(list(enumerate(m["chat_id"] for m in found)))}
    groups = []
    for chat_id, results in groupby(sorted(found, key=lambda m: order[m["chat_id"]]), key=lambda m: m["chat_id"]):
        name = names[others[chat_id]]
        groups.append(
            {
                "chat_id": chat_id,
                "name": name,
                "results": [
                    {
                        "seq": m["seq"],
                        "sender": "You" if m["sender_id"] == person_id else name,
                        "when": when(m["created_at"], tz),
                        "text": marked(m.get("text") or "", words),
                    }
                    for m in results
                ],
            }
        )
    return groups
