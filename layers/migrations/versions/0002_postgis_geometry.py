"""On PostgreSQL with PostGIS: proposals carry a geometry(Point, 4326) generated from lon/lat, with a GiST index.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from dialogkarta.layers import postgis

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgis.add_geometry(op.get_bind())  # nothing on SQLite, nor on PostgreSQL without PostGIS


def downgrade() -> None:
    postgis.drop_geometry(op.get_bind())
