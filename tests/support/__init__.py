"""What tests share: real services and processes (services.py), signed-in
clients (people.py), a lived-in conversation (conversation.py), queues and
an in-process chat worker (queues.py),
pushes as each person would receive them (pushes.py), live-protocol
clients (live.py) and browser steps (browser.py)."""
