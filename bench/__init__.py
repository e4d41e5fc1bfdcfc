"""Parley's benchmark suite: `make bench` (see bench/__main__.py)."""
