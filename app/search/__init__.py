"""Search: finding words in a person's own chats (docs/architecture.md, "Search")."""
