"""The baseline: the tables of release 0.1 (commit ee7348c), as ``baseline_schema.py`` keeps them.

Revision ID: 0001
Revises:
"""

from alembic import op

from dialogkarta.layers.migrations import baseline_schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    baseline_schema.metadata.create_all(op.get_bind())


def downgrade() -> None:
    baseline_schema.metadata.drop_all(op.get_bind())
