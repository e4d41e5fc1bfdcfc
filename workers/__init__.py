"""Worker processes: `python -m workers.mail` and `python -m workers.chat`."""
