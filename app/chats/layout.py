"""The signed-in layout: every such page carries the Chats navigation and
the live connection that keeps it (and the page) up to date."""

import uuid

from flask import g, render_template

from app.chats import live, present
from app.data import users
from app.realtime import presence, push
from app.web import is_htmx


def render_signed_in(page, fragment=None, status=200, viewer=None, **context):
    """Render `page` with the Chats navigation, or only `fragment` for htmx.
    `viewer` is the signed-in user's document, if the view has read it already."""
    if fragment and is_htmx():
        return render_template(fragment, **context), status
    # Read before the page's data: a push after this id is replayed, not missed.
    if "stream_id" not in context:  # (setdefault read it even for pages that had)
        context["stream_id"] = push.last_id(g.user_id)
    viewer = viewer or users.get(g.user_id)
    live.active(g.user_id)
    presence.expect(g.user_id)  # its page connects in a moment: changes of presence wait for it
    zone = present.zone_of(viewer)
    chat_list = present.navigation(viewer, zone)
    return render_template(
        page,
        zone=zone,
        chat_list=chat_list,
        unread_total=sum(entry["unread"] for entry in chat_list),
        viewer=viewer,
        page_id=uuid.uuid4().hex,
        **context,
    ), status
