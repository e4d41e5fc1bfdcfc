"""Form base: every POST's CSRF token is checked before any view runs (see
app/auth/sessions.py), so forms do not check it a second time."""

from flask_wtf import FlaskForm


def strip(value):
    return value.strip() if isinstance(value, str) else value


class Form(FlaskForm):
    class Meta:
        csrf = False


def field_attributes(field, hint=None, **attributes):
    """ARIA wiring for a field: its hint and error are read with it, and an
    invalid field takes focus, after a page load or an htmx swap alike."""
    described = []
    if hint:
        described.append(f"{field.id}-hint")
    if field.errors:
        described.append(f"{field.id}-error")
        attributes.update({"aria-invalid": "true", "autofocus": True})
    if described:
        attributes["aria-describedby"] = " ".join(described)
    return attributes
