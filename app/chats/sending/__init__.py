"""A message's life, from the send form to the other person's page.

1. `job`: what a message on its way is, the one shape that the send view
   builds, the queue carries and the worker parses, with the rules a message
   keeps (the form's too).
2. `pending` (the web process): the send view `accept`s a job: it is kept as
   pending (so a reloaded page, or one without JavaScript, still shows it
   "Sending") and published to `chat:messages`, where the broker confirms it.
3. `delivery` (the chat worker, see workers/chat.py): each job is `parse`d
   back and checked, and what arrived together is `deliver`ed as one batch:
   number and save the messages (idempotent on client_id), update their
   chats, push the messages and Chats entries to both members, and mark seen
   what a receiver is looking at. Then the worker acks.
"""
