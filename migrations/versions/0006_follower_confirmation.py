"""case followers confirm their address (double opt-in) and can unsubscribe

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:00:00.000000

Followers that exist already were added before this rule: they count as confirmed (since they
asked), and get a random token hash that no link carries, so the unsubscribe link in their next
mail (signed over the id and this hash) works for them.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _existing_followers_confirmed() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # a data change over every municipality's rows (RLS is forced)
        op.execute("SELECT set_config('app.all_tenants', 'on', true)")
    rows = bind.execute(sa.text("SELECT id, created_at FROM case_follower")).all()
    for row in rows:
        bind.execute(sa.text("UPDATE case_follower SET token_hash = :hash, confirmed_at = :at WHERE id = :id"),
                     {"hash": secrets.token_hex(32), "at": row.created_at, "id": row.id})
    if bind.dialect.name == "postgresql":
        op.execute("SELECT set_config('app.all_tenants', '', true)")


def upgrade() -> None:
    with op.batch_alter_table('case_follower') as batch:
        batch.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
    _existing_followers_confirmed()
    with op.batch_alter_table('case_follower') as batch:
        batch.alter_column('token_hash', existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(op.f('uq_case_follower_token_hash'), ['token_hash'])


def downgrade() -> None:
    with op.batch_alter_table('case_follower') as batch:
        batch.drop_constraint(op.f('uq_case_follower_token_hash'), type_='unique')
        batch.drop_column('confirmed_at')
        batch.drop_column('token_hash')
