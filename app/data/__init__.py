"""Thin data-access modules, one per MongoDB collection."""
