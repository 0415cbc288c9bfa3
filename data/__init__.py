"""Bundled locality data (one folder per locality), read with ``importlib.resources``."""
