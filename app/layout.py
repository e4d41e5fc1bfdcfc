"""The signed-in layout: every such page carries the Chats navigation."""

from flask import g, render_template

from app.chats import present
from app.web import is_htmx


def render_signed_in(page, fragment=None, status=200, **context):
    """Render `page` with the Chats navigation, or only `fragment` for htmx."""
    if fragment and is_htmx():
        return render_template(fragment, **context), status
    return render_template(page, chat_list=present.navigation(g.user_id), **context), status
