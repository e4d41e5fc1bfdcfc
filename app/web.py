"""Answers that work for both plain page loads and htmx requests."""

from urllib.parse import urlsplit

from flask import redirect, render_template, request

MAX_NEXT = 2000


def is_htmx():
    return request.headers.get("HX-Request") == "true"


def go_to(url):
    """Navigate to `url`: a 303 for a plain form post, HX-Redirect for htmx
    (fetch would follow a 303 and swap the whole page into the target)."""
    if is_htmx():
        return "", 204, {"HX-Redirect": url}
    return redirect(url, 303)


def render(page, fragment, status=200, **context):
    """The whole `page` for a plain request, only `fragment` for htmx."""
    return render_template(fragment if is_htmx() else page, **context), status


def same_site_navigation():
    """The person got here from one of our own pages, or by typing or a
    bookmark, never through another site's link (which SameSite=Lax cookies
    let through on a top-level GET). A browser too old to say (no
    Sec-Fetch-Site) counts only with a Referer from here."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    return urlsplit(request.referrer or "").netloc == request.host


def local_path(target):
    """`target` if it is a path on this site ("/chats/...?x=1"), else None: a
    `next` taken from a link must never send someone to another site
    ("//evil.example", "/\\evil.example", "https://...") or carry a header."""
    if not isinstance(target, str) or len(target) > MAX_NEXT or not target.startswith("/"):
        return None
    if target.startswith("//") or any(ord(char) < 32 or char in "\\\x7f" for char in target):
        return None
    parts = urlsplit(target)
    return target if not (parts.scheme or parts.netloc) else None
