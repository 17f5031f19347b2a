"""knowledge base: regional articles, municipal (own and adopted) articles

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from core.tenancy.rls import disable_tenant_rls, enable_tenant_rls

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('knowledge_region_article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('question', sa.JSON(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_knowledge_region_article_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_region_article')),
    sa.UniqueConstraint('region_id', 'key', name=op.f('uq_knowledge_region_article_region_id_key'))
    )
    op.create_table('knowledge_article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.JSON(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_version', sa.Integer(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['knowledge_region_article.id'],
                            name=op.f('fk_knowledge_article_source_id_knowledge_region_article'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_knowledge_article_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_article')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_knowledge_article_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'source_id', name=op.f('uq_knowledge_article_tenant_id_source_id'))
    )
    if op.get_bind().dialect.name == "postgresql":  # full text; SQLite searches with a plain match
        op.create_index('ix_knowledge_article_search', 'knowledge_article',
                        [sa.text("to_tsvector('dutch', search_text)")], unique=False, postgresql_using='gin')
    enable_tenant_rls(op, "knowledge_article")


def downgrade() -> None:
    disable_tenant_rls(op, "knowledge_article")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_knowledge_article_search', table_name='knowledge_article', postgresql_using='gin')
    op.drop_table('knowledge_article')
    op.drop_table('knowledge_region_article')
