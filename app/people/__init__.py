"""People: your profile, and finding someone to chat with."""
