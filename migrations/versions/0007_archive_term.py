"""tenants set an archive term after which closed cases are removed

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 04:00:00.000000

Existing municipalities get the default term of 3650 days (10 years).
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenant') as batch:
        batch.add_column(sa.Column('archive_days', sa.Integer(), nullable=False, server_default='3650'))


def downgrade() -> None:
    with op.batch_alter_table('tenant') as batch:
        batch.drop_column('archive_days')
