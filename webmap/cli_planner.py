"""CLI commands added to the `dialogkarta` group by this module (imported at the end of cli.py)."""
from webmap.cli import cli  # noqa: F401
