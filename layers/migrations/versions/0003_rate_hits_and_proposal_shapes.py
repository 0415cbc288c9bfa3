"""Rate limits shared by every app server (rate_hits) and proposals drawn as lines or areas (proposal_shapes).

Revision ID: 0003
Revises: 0002

Both tables were added on main before the migrations came; a development store made then already
has them, hence ``if_not_exists``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_hits",
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("period_ms", sa.Integer, primary_key=True),
        sa.Column("allowance_until", sa.Float, nullable=False),
        if_not_exists=True,
    )
    op.create_index("ix_rate_hits_allowance_until", "rate_hits", ["allowance_until"], if_not_exists=True)
    op.create_table(
        "proposal_shapes",
        sa.Column("proposal_id", sa.Integer, sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("geometry", sa.Text, nullable=False),
        sa.Column("length_m", sa.Float),
        sa.Column("area_m2", sa.Float),
        sa.Column("joins", sa.Text, nullable=False),
        sa.Column("repair", sa.String(200)),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("proposal_shapes")
    op.drop_index("ix_rate_hits_allowance_until", table_name="rate_hits")
    op.drop_table("rate_hits")
