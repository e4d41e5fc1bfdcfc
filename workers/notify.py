"""The notify worker: reaches people who are away. When a person's check
falls due it queues the missed-message email on `send-mail` (the mail
worker sends it) or sends their browsers a notification (see
app/notifications/)."""

from app import create_app_or_exit, letters
from app.broker.consumer import configure_logging
from app.notifications.scheduler import Scheduler


def main():
    configure_logging("notify_worker")
    app = create_app_or_exit()
    with letters.for_public_url(app):  # the links in emails and notifications
        Scheduler(app).run()


if __name__ == "__main__":
    main()
