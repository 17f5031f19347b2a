"""core tables: region, tenant, department

Revision ID: 0001
Revises:
Create Date: 2026-11-28 23:37:29
"""

import sqlalchemy as sa
from alembic import op

from core.tenancy.rls import disable_tenant_rls, enable_tenant_rls

revision = "0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "region",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region")),
        sa.UniqueConstraint("slug", name=op.f("uq_region_slug")),
    )
    op.create_table(
        "tenant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("nis_code", sa.String(length=5), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("boundary", sa.JSON(), nullable=False),
        sa.Column("identity", sa.JSON(), nullable=False),
        sa.Column("plugins", sa.JSON(), nullable=False),
        sa.Column("config_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_tenant_region_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant")),
        sa.UniqueConstraint("nis_code", name=op.f("uq_tenant_nis_code")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenant_slug")),
    )
    op.create_index(op.f("ix_tenant_region_id"), "tenant", ["region_id"], unique=False)
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_department_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_department_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_department_tenant_id_id")),
    )
    enable_tenant_rls(op, "department")


def downgrade() -> None:
    disable_tenant_rls(op, "department")
    op.drop_table("department")
    op.drop_index(op.f("ix_tenant_region_id"), table_name="tenant")
    op.drop_table("tenant")
    op.drop_table("region")
