"""`flask search backfill`: gives messages saved before search existed their
`search_keys` (app/data/search.py). Safe to repeat, and to run while Parley
runs: a message saved meanwhile has its keys already."""

import click
from flask.cli import AppGroup

from app.data import search


@click.group("search", cls=AppGroup)
def group():
    """Keep message search's index whole."""


@group.command("backfill")
@click.option("--batch", default=500, show_default=True, help="Messages updated per round trip.")
def backfill(batch):
    """Give every message without search keys its keys, from its text."""
    done = search.backfill(batch, progress=lambda count: click.echo(f"{count:,} messages…"))
    click.echo(f"Gave {done:,} messages their search keys.")
