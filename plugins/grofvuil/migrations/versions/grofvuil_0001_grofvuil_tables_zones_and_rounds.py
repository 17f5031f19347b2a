"""grofvuil tables: zones and rounds

Revision ID: grofvuil_0001
Revises:
Create Date: 2026-11-28 23:37:37
"""

import sqlalchemy as sa
from alembic import op

from core.toolkit import disable_tenant_rls, enable_tenant_rls

revision = "grofvuil_0001"
down_revision = None
branch_labels = ("grofvuil",)
depends_on = "0001"


def upgrade() -> None:
    op.create_table(
        "grofvuil_zone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_grofvuil_zone_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grofvuil_zone")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_grofvuil_zone_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_grofvuil_zone_tenant_id_name")),
    )
    op.create_table(
        "grofvuil_ronde",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "zone_id"], ["grofvuil_zone.tenant_id", "grofvuil_zone.id"],
            name=op.f("fk_grofvuil_ronde_tenant_id_zone_id_grofvuil_zone"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_grofvuil_ronde_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grofvuil_ronde")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_grofvuil_ronde_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "zone_id", "day", name=op.f("uq_grofvuil_ronde_tenant_id_zone_id_day")),
    )
    enable_tenant_rls(op, "grofvuil_zone")
    enable_tenant_rls(op, "grofvuil_ronde")


def downgrade() -> None:
    disable_tenant_rls(op, "grofvuil_ronde")
    disable_tenant_rls(op, "grofvuil_zone")
    op.drop_table("grofvuil_ronde")
    op.drop_table("grofvuil_zone")
