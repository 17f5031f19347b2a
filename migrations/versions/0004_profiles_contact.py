"""profiles, consent, access log, shares, exports, contact moments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 02:05:04.789004
"""

import sqlalchemy as sa
from alembic import op

from core.tenancy.rls import disable_tenant_rls, enable_tenant_rls

TENANT_TABLES = ("profile", "access_log_entry", "access_log_head", "consent_record", "erasure_request",
                 "preference_change", "profile_share", "contact_moment")

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('profile_export',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('json_key', sa.String(length=200), nullable=True),
    sa.Column('pdf_key', sa.String(length=200), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('json_fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pdf_fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_profile_export_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profile_export'))
    )
    op.create_index(op.f('ix_profile_export_account_id'), 'profile_export', ['account_id'], unique=False)
    op.create_index('ix_profile_export_status', 'profile_export', ['status', 'id'], unique=False)
    op.create_table('access_log_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('actor_kind', sa.String(length=20), nullable=False),
    sa.Column('actor_label', sa.String(length=300), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('shown', sa.JSON(), nullable=False),
    sa.Column('share_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_access_log_entry_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log_entry')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_access_log_entry_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'seq', name=op.f('uq_access_log_entry_tenant_id_seq'))
    )
    op.create_index('ix_access_log_profile', 'access_log_entry', ['tenant_id', 'profile_id', 'id'], unique=False)
    op.create_index('ix_access_log_share', 'access_log_entry', ['tenant_id', 'share_id'], unique=False)
    op.create_table('access_log_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_access_log_head_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log_head')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_access_log_head_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_access_log_head_tenant_id'))
    )
    op.create_table('profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('phone_key', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('preferred_channel', sa.String(length=10), nullable=True),
    sa.Column('no_digital_contact', sa.Boolean(), nullable=False),
    sa.Column('assistance_needs', sa.Text(), nullable=False),
    sa.Column('national_number_hash', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_profile_account_id_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_profile_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profile')),
    sa.UniqueConstraint('tenant_id', 'account_id', name=op.f('uq_profile_tenant_id_account_id')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_profile_tenant_id_id'))
    )
    op.create_index(op.f('ix_profile_account_id'), 'profile', ['account_id'], unique=False)
    op.create_index('ix_profile_email', 'profile', ['tenant_id', 'email'], unique=False)
    op.create_index('ix_profile_name', 'profile', ['tenant_id', 'name_key', 'birth_date'], unique=False)
    op.create_index('ix_profile_national_number', 'profile', ['tenant_id', 'national_number_hash'], unique=False)
    op.create_index('ix_profile_phone', 'profile', ['tenant_id', 'phone_key'], unique=False)
    op.create_table('consent_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.String(length=36), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('purpose_code', sa.String(length=60), nullable=False),
    sa.Column('purpose_version', sa.Integer(), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('actor_kind', sa.String(length=20), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'profile_id'], ['profile.tenant_id', 'profile.id'], name=op.f('fk_consent_record_tenant_id_profile_id_profile')),
    sa.ForeignKeyConstraint(['tenant_id', 'staff_id'], ['staff_member.tenant_id', 'staff_member.id'], name=op.f('fk_consent_record_tenant_id_staff_id_staff_member')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_consent_record_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_record')),
    sa.UniqueConstraint('receipt_id', name=op.f('uq_consent_record_receipt_id')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_consent_record_tenant_id_id'))
    )
    op.create_index('ix_consent_profile', 'consent_record', ['tenant_id', 'profile_id', 'purpose_code', 'id'], unique=False)
    op.create_table('erasure_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('purposes', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'handled_by_id'], ['staff_member.tenant_id', 'staff_member.id'], name=op.f('fk_erasure_request_tenant_id_handled_by_id_staff_member')),
    sa.ForeignKeyConstraint(['tenant_id', 'profile_id'], ['profile.tenant_id', 'profile.id'], name=op.f('fk_erasure_request_tenant_id_profile_id_profile')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_erasure_request_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_request')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_erasure_request_tenant_id_id'))
    )
    op.create_index('ix_erasure_status', 'erasure_request', ['tenant_id', 'status', 'id'], unique=False)
    op.create_table('preference_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('actor_kind', sa.String(length=20), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'profile_id'], ['profile.tenant_id', 'profile.id'], name=op.f('fk_preference_change_tenant_id_profile_id_profile')),
    sa.ForeignKeyConstraint(['tenant_id', 'staff_id'], ['staff_member.tenant_id', 'staff_member.id'], name=op.f('fk_preference_change_tenant_id_staff_id_staff_member')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_preference_change_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preference_change')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_preference_change_tenant_id_id'))
    )
    op.create_index('ix_preference_change_profile', 'preference_change', ['tenant_id', 'profile_id', 'id'], unique=False)
    op.create_table('profile_share',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('case_ids', sa.JSON(), nullable=False),
    sa.Column('recipient_tenant_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('max_views', sa.Integer(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['recipient_tenant_id'], ['tenant.id'], name=op.f('fk_profile_share_recipient_tenant_id_tenant')),
    sa.ForeignKeyConstraint(['tenant_id', 'profile_id'], ['profile.tenant_id', 'profile.id'], name=op.f('fk_profile_share_tenant_id_profile_id_profile')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_profile_share_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profile_share')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_profile_share_tenant_id_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_profile_share_token_hash'))
    )
    op.create_index('ix_share_profile', 'profile_share', ['tenant_id', 'profile_id', 'id'], unique=False)
    op.create_table('contact_moment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['case_file.tenant_id', 'case_file.id'], name=op.f('fk_contact_moment_tenant_id_case_id_case_file')),
    sa.ForeignKeyConstraint(['tenant_id', 'profile_id'], ['profile.tenant_id', 'profile.id'], name=op.f('fk_contact_moment_tenant_id_profile_id_profile')),
    sa.ForeignKeyConstraint(['tenant_id', 'staff_id'], ['staff_member.tenant_id', 'staff_member.id'], name=op.f('fk_contact_moment_tenant_id_staff_id_staff_member')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_contact_moment_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_moment')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_contact_moment_tenant_id_id'))
    )
    op.create_index('ix_contact_moment_profile', 'contact_moment', ['tenant_id', 'profile_id', 'created_at', 'id'], unique=False)
    with op.batch_alter_table('case_file') as batch:
        batch.add_column(sa.Column('profile_id', sa.Integer(), nullable=True))
        batch.create_index('ix_case_profile', ['tenant_id', 'profile_id', 'id'], unique=False)
        batch.create_index('ix_case_reporter_account', ['reporter_account_id'], unique=False)
        batch.create_foreign_key(op.f('fk_case_file_tenant_id_profile_id_profile'), 'profile',
                                 ['tenant_id', 'profile_id'], ['tenant_id', 'id'])
    with op.batch_alter_table('tenant') as batch:
        batch.add_column(sa.Column('purposes', sa.JSON(), nullable=False, server_default='[]'))
        batch.alter_column('purposes', server_default=None)
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    with op.batch_alter_table('tenant') as batch:
        batch.drop_column('purposes')
    with op.batch_alter_table('case_file') as batch:
        batch.drop_constraint(op.f('fk_case_file_tenant_id_profile_id_profile'), type_='foreignkey')
        batch.drop_index('ix_case_reporter_account')
        batch.drop_index('ix_case_profile')
        batch.drop_column('profile_id')
    op.drop_index('ix_contact_moment_profile', table_name='contact_moment')
    op.drop_table('contact_moment')
    op.drop_index('ix_share_profile', table_name='profile_share')
    op.drop_table('profile_share')
    op.drop_index('ix_preference_change_profile', table_name='preference_change')
    op.drop_table('preference_change')
    op.drop_index('ix_erasure_status', table_name='erasure_request')
    op.drop_table('erasure_request')
    op.drop_index('ix_consent_profile', table_name='consent_record')
    op.drop_table('consent_record')
    op.drop_index('ix_profile_phone', table_name='profile')
    op.drop_index('ix_profile_national_number', table_name='profile')
    op.drop_index('ix_profile_name', table_name='profile')
    op.drop_index('ix_profile_email', table_name='profile')
    op.drop_index(op.f('ix_profile_account_id'), table_name='profile')
    op.drop_table('profile')
    op.drop_table('access_log_head')
    op.drop_index('ix_access_log_share', table_name='access_log_entry')
    op.drop_index('ix_access_log_profile', table_name='access_log_entry')
    op.drop_table('access_log_entry')
    op.drop_index('ix_profile_export_status', table_name='profile_export')
    op.drop_index(op.f('ix_profile_export_account_id'), table_name='profile_export')
    op.drop_table('profile_export')
