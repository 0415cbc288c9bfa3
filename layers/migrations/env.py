"""Alembic's environment: the connection comes from ``layers.migrations``, the target schema is ``layers.schema``."""

from alembic import context

from dialogkarta.layers.migrations import run_environment

run_environment(context)
