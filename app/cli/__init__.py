"""Operator commands (`flask --app wsgi COMMAND`): the release step, dead
letters, and a person's data."""


def init_app(app):
    from app.cli import dead_letters, release, users

    for command in (release.release, dead_letters.group, users.group):
        app.cli.add_command(command)
