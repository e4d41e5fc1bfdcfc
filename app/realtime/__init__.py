"""Real time: pushes to open pages over WebSocket (SSE as the fallback),
presence, typing and viewing state, all shared through Redis."""
