"""identity: accounts, sessions, staff roles, API clients

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 23:45:21.051952
"""

import sqlalchemy as sa
from alembic import op

from core.tenancy.rls import disable_tenant_rls, enable_tenant_rls

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('national_number_hash', sa.String(length=64), nullable=True),
    sa.Column('is_operator', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_account_issuer_subject'))
    )
    op.create_table('region_coordinator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_region_coordinator_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_region_coordinator_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_region_coordinator')),
    sa.UniqueConstraint('region_id', 'account_id', name=op.f('uq_region_coordinator_region_id_account_id'))
    )
    op.create_index(op.f('ix_region_coordinator_account_id'), 'region_coordinator', ['account_id'], unique=False)

    op.create_table('user_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_user_session_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_user_session'))
    )
    op.create_index(op.f('ix_user_session_account_id'), 'user_session', ['account_id'], unique=False)
    op.create_index(op.f('ix_user_session_last_seen_at'), 'user_session', ['last_seen_at'], unique=False)

    op.create_table('api_client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('open311_key_hash', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_api_client_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_client')),
    sa.UniqueConstraint('client_id', name=op.f('uq_api_client_client_id')),
    sa.UniqueConstraint('open311_key_hash', name=op.f('uq_api_client_open311_key_hash'))
    )
    op.create_index(op.f('ix_api_client_tenant_id'), 'api_client', ['tenant_id'], unique=False)

    op.create_table('staff_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_staff_member_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_staff_member_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_member')),
    sa.UniqueConstraint('tenant_id', 'account_id', name=op.f('uq_staff_member_tenant_id_account_id')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_staff_member_tenant_id_id'))
    )
    op.create_table('api_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['api_client.id'], name=op.f('fk_api_token_client_id_api_client'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_api_token'))
    )
    op.create_index(op.f('ix_api_token_client_id'), 'api_token', ['client_id'], unique=False)
    op.create_index(op.f('ix_api_token_expires_at'), 'api_token', ['expires_at'], unique=False)

    op.create_table('staff_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'department_id'], ['department.tenant_id', 'department.id'], name=op.f('fk_staff_role_tenant_id_department_id_department')),
    sa.ForeignKeyConstraint(['tenant_id', 'staff_id'], ['staff_member.tenant_id', 'staff_member.id'], name=op.f('fk_staff_role_tenant_id_staff_id_staff_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_staff_role_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_role')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_staff_role_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'staff_id', 'role', 'department_id', name=op.f('uq_staff_role_tenant_id_staff_id_role_department_id'))
    )
    enable_tenant_rls(op, "staff_member")
    enable_tenant_rls(op, "staff_role")


def downgrade() -> None:
    disable_tenant_rls(op, "staff_role")
    disable_tenant_rls(op, "staff_member")
    op.drop_table('staff_role')
    op.drop_index(op.f('ix_api_token_expires_at'), table_name='api_token')
    op.drop_index(op.f('ix_api_token_client_id'), table_name='api_token')

    op.drop_table('api_token')
    op.drop_table('staff_member')
    op.drop_index(op.f('ix_api_client_tenant_id'), table_name='api_client')

    op.drop_table('api_client')
    op.drop_index(op.f('ix_user_session_last_seen_at'), table_name='user_session')
    op.drop_index(op.f('ix_user_session_account_id'), table_name='user_session')

    op.drop_table('user_session')
    op.drop_index(op.f('ix_region_coordinator_account_id'), table_name='region_coordinator')

    op.drop_table('region_coordinator')
    op.drop_table('account')
