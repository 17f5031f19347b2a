"""cases, attachments, outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 23:59:04.567372
"""

import sqlalchemy as sa
from alembic import op

from core.tenancy.rls import disable_tenant_rls, enable_tenant_rls

TENANT_TABLES = ("reference_counter", "case_file", "idempotency_record", "attachment", "case_event",
                 "case_follower", "outbox_message")

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reference_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_reference_counter_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_counter')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_reference_counter_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'prefix', 'year', name=op.f('uq_reference_counter_tenant_id_prefix_year'))
    )
    op.create_table('case_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('type_code', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('resolution', sa.String(length=20), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('referred_to', sa.String(length=200), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('reporter_account_id', sa.Integer(), nullable=True),
    sa.Column('reporter_name', sa.String(length=200), nullable=True),
    sa.Column('reporter_email', sa.String(length=254), nullable=True),
    sa.Column('reporter_phone', sa.String(length=40), nullable=True),
    sa.Column('reporter_address', sa.String(length=300), nullable=True),
    sa.Column('preferred_channel', sa.String(length=10), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('follow_token_hash', sa.String(length=64), nullable=False),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['reporter_account_id'], ['account.id'], name=op.f('fk_case_file_reporter_account_id_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id', 'assignee_id'], ['staff_member.tenant_id', 'staff_member.id'], name=op.f('fk_case_file_tenant_id_assignee_id_staff_member')),
    sa.ForeignKeyConstraint(['tenant_id', 'department_id'], ['department.tenant_id', 'department.id'], name=op.f('fk_case_file_tenant_id_department_id_department')),
    sa.ForeignKeyConstraint(['tenant_id', 'merged_into_id'], ['case_file.tenant_id', 'case_file.id'], name=op.f('fk_case_file_tenant_id_merged_into_id_case_file')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_case_file_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_file')),
    sa.UniqueConstraint('follow_token_hash', name=op.f('uq_case_file_follow_token_hash')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_case_file_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'reference', name=op.f('uq_case_file_tenant_id_reference'))
    )
    op.create_index('ix_case_activity', 'case_file', ['tenant_id', 'kind', 'status', 'last_activity_at'], unique=False)
    op.create_index('ix_case_merged_into', 'case_file', ['tenant_id', 'merged_into_id'], unique=False)
    op.create_index('ix_case_queue', 'case_file', ['tenant_id', 'department_id', 'status', 'id'], unique=False)
    op.create_index('ix_case_status', 'case_file', ['tenant_id', 'status', 'id'], unique=False)
    op.create_index('ix_case_type_status', 'case_file', ['tenant_id', 'type_code', 'status', 'lat'], unique=False)
    op.create_table('idempotency_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['api_client.id'], name=op.f('fk_idempotency_record_client_id_api_client'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_idempotency_record_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('tenant_id', 'client_id', 'key', name=op.f('uq_idempotency_record_tenant_id_client_id_key')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_idempotency_record_tenant_id_id'))
    )
    op.create_index(op.f('ix_idempotency_record_created_at'), 'idempotency_record', ['created_at'], unique=False)
    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['case_file.tenant_id', 'case_file.id'], name=op.f('fk_attachment_tenant_id_case_id_case_file')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_attachment_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_attachment_storage_key')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_attachment_tenant_id_id'))
    )
    op.create_index('ix_attachment_case', 'attachment', ['tenant_id', 'case_id'], unique=False)
    op.create_table('case_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('visible_to_citizen', sa.Boolean(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['case_file.tenant_id', 'case_file.id'], name=op.f('fk_case_event_tenant_id_case_id_case_file')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_case_event_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_case_event_tenant_id_id'))
    )
    op.create_index('ix_case_event_case', 'case_event', ['tenant_id', 'case_id', 'id'], unique=False)
    op.create_table('case_follower',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['case_file.tenant_id', 'case_file.id'], name=op.f('fk_case_follower_tenant_id_case_id_case_file')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_case_follower_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_follower')),
    sa.UniqueConstraint('tenant_id', 'case_id', 'email', name=op.f('uq_case_follower_tenant_id_case_id_email')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_case_follower_tenant_id_id'))
    )
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=400), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('document_key', sa.String(length=200), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['case_file.tenant_id', 'case_file.id'], name=op.f('fk_outbox_message_tenant_id_case_id_case_file')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_outbox_message_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_outbox_message_tenant_id_id'))
    )
    op.create_index('ix_outbox_due', 'outbox_message', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_outbox_case', 'outbox_message', ['tenant_id', 'case_id'], unique=False)
    # Existing municipalities get the defaults; `tenants apply` sets them from the files.
    op.add_column('tenant', sa.Column('case_types', sa.JSON(), nullable=False, server_default='{}'))
    op.add_column('tenant', sa.Column('question_days', sa.Integer(), nullable=False, server_default='30'))
    op.add_column('tenant', sa.Column('report_anonymise_days', sa.Integer(), nullable=False, server_default='365'))
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    op.drop_column('tenant', 'report_anonymise_days')
    op.drop_column('tenant', 'question_days')
    op.drop_column('tenant', 'case_types')
    op.drop_index('ix_outbox_case', table_name='outbox_message')
    op.drop_index('ix_outbox_due', table_name='outbox_message')
    op.drop_table('outbox_message')
    op.drop_table('case_follower')
    op.drop_index('ix_case_event_case', table_name='case_event')
    op.drop_table('case_event')
    op.drop_index('ix_attachment_case', table_name='attachment')
    op.drop_table('attachment')
    op.drop_index(op.f('ix_idempotency_record_created_at'), table_name='idempotency_record')
    op.drop_table('idempotency_record')
    op.drop_index('ix_case_type_status', table_name='case_file')
    op.drop_index('ix_case_status', table_name='case_file')
    op.drop_index('ix_case_queue', table_name='case_file')
    op.drop_index('ix_case_merged_into', table_name='case_file')
    op.drop_index('ix_case_activity', table_name='case_file')
    op.drop_table('case_file')
    op.drop_table('reference_counter')
