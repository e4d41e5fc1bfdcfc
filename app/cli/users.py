"""`flask users export EMAIL` and `flask users delete EMAIL` (see app/people/accounts.py)."""

import json
import sys

import click
from flask.cli import AppGroup

from app.cli import printable
from app.data import users
from app.people import accounts


def existing(email):
    found = users.by_email(email.strip().lower())
    if found is None:
        sys.exit(f"No account has the email address {email!r}.")
    return users.get(found["_id"])


@click.group("users", cls=AppGroup)
def group():
    """Export or delete a person's data."""


@group.command("export")
@click.argument("email")
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), help="Where to write (- for stdout).")
def export(email, output):
    """Write a JSON file of the person's profile, chats and messages (image URLs included)."""
    user = existing(email)
    output = output or f"parley-export-{user['_id']}.json"
    data = json.dumps(accounts.export(user), indent=2, ensure_ascii=False)
    with click.open_file(output, "w", encoding="utf-8") as file:
        file.write(data + "\n")
    if output != "-":
        click.echo(f"Wrote {output}.")


@group.command("delete")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(email, yes):
    """Delete the account: the person, their messages and images; sign them out everywhere."""
    user = existing(email)
    if not yes:
        click.confirm(printable(f"Delete {user['email']} ({user['name']}) and everything they wrote?"), abort=True)
    accounts.delete(user)
    click.echo(printable(f"Deleted {user['email']}."))
