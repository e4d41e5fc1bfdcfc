"""/search: the messages of a person's own chats that have the words typed."""

from bson import ObjectId
from bson.errors import InvalidId
from flask import Blueprint, g, request

from app.auth.sessions import login_required
from app.chats import present
from app.chats.layout import render_signed_in
from app.data import users
from app.search import results

bp = Blueprint("search", __name__)

MAX_QUERY = 200  # characters: longer than any search anyone types


def older_than():
    """The `before` of a further page of results: a message id, or None."""
    try:
        return ObjectId(request.args.get("before", ""))
    except (InvalidId, TypeError):
        return None


@bp.get("/search")
@login_required
def page():
    """ "Search messages": a plain GET form; with htmx it answers as the person types."""
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    before = older_than()
    viewer = users.get(g.user_id)
    found, more = results.find(g.user_id, query, before)
    zone = present.zone_of(viewer)
    return render_signed_in(
        "search/page.html",
        "search/_results.html",
        viewer=viewer,
        query=query,
        searched=bool(results.query_words(query)),
        groups=results.grouped(found, g.user_id, query, zone),
        count=len(found),
        more=more,
        first_page=before is None,
        older=str(found[-1]["_id"]) if more else None,
    )
