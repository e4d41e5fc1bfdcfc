"""The chat worker: delivers the messages queued on `chat:messages` (see
app/chats/sending/delivery.py), a batch at a time, acking after the work."""

from app import broker, create_app_or_exit, memory, tracing
from app.broker.consumer import Consumer, configure_logging, in_batches
from app.chats.sending import delivery

# Jobs that arrive together are delivered together: a busy chat costs a few
# round trips per batch rather than per message.
PREFETCH = 100

handle = in_batches(delivery.parse, delivery.deliver)


def main():
    configure_logging("chat_worker")
    tracing.start()
    app = create_app_or_exit()
    with app.test_request_context():  # partials use url_for, which needs a request context
        memory.settle()  # a collection's pause holds up every job in the batch
        Consumer(app, broker.CHAT_MESSAGES, handle, prefetch=PREFETCH).run()


if __name__ == "__main__":
    main()
