"""grofvuil reservations

Revision ID: grofvuil_0002
Revises: grofvuil_0001
Create Date: 2026-11-29 00:04:13.586332
"""

import sqlalchemy as sa
from alembic import op

from core.toolkit import disable_tenant_rls, enable_tenant_rls

revision = 'grofvuil_0002'
down_revision = 'grofvuil_0001'
branch_labels = None
depends_on = '0003'  # case_file


def upgrade() -> None:
    op.create_table('grofvuil_reservering',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['case_file.tenant_id', 'case_file.id'], name=op.f('fk_grofvuil_reservering_tenant_id_case_id_case_file')),
    sa.ForeignKeyConstraint(['tenant_id', 'round_id'], ['grofvuil_ronde.tenant_id', 'grofvuil_ronde.id'], name=op.f('fk_grofvuil_reservering_tenant_id_round_id_grofvuil_ronde')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_grofvuil_reservering_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grofvuil_reservering')),
    sa.UniqueConstraint('tenant_id', 'case_id', name=op.f('uq_grofvuil_reservering_tenant_id_case_id')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_grofvuil_reservering_tenant_id_id'))
    )
    enable_tenant_rls(op, 'grofvuil_reservering')


def downgrade() -> None:
    disable_tenant_rls(op, 'grofvuil_reservering')
    op.drop_table('grofvuil_reservering')
