"""Real time, as transport only: open pages over WebSocket (SSE as the
fallback), the hub that fans pushes out to them, the push frame and streams,
and presence state. What features do with pages lives with the features,
registered through hooks.py."""
