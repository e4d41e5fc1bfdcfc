"""The WSGI entry point: `gunicorn wsgi:app`."""

from app import create_app_or_exit, logs

logs.configure("web")
app = create_app_or_exit()
