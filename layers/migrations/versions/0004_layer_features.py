"""Every layer version as rows (layer_features: WKB in WGS84, properties as JSON), so QGIS and every app server read the layers from the store.

Revision ID: 0004
Revises: 0003

On PostGIS, ``layers.qgis_db.install`` adds the generated geometry column, its GiST index, the views
and their styles at every start: they follow the locality and PUBLIC_GRID_M, not only the schema.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "layer_features",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("layer", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("fid", sa.Integer, nullable=False),
        sa.Column("feature_id", sa.String(100)),
        sa.Column("properties", sa.Text, nullable=False),
        sa.Column("wkb", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("layer", "version", "fid", name="uq_layer_feature"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("layer_features")
