"""Knowledge articles: the region's shared ones, and each municipality's own and adopted ones.

A regional article is platform data (knowledge is not personal data) with a ``version`` that goes
up on every content change. A municipality's article either stands alone or was adopted from a
regional one: ``source_id`` keeps the link and ``source_version`` the regional version its text was
taken from (or last checked against), so the municipality sees when the source moved on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.tenancy.isolation import TenantScoped

#: The text-search configuration of the full-text index and the queries that must use it.
SEARCH_CONFIG = "dutch"


class RegionalArticle(Base):
    """An article of a region, written by its coordinators for every municipality to adopt."""

    __tablename__ = "knowledge_region_article"
    __table_args__ = (UniqueConstraint("region_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    key: Mapped[str] = mapped_column(String(80))
    question: Mapped[dict[str, str]] = mapped_column(JSON)  # {language: text}
    answer: Mapped[dict[str, str]] = mapped_column(JSON)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KnowledgeArticle(TenantScoped, Base):
    """A municipality's article: its own, or a regional one it adopted and may have adapted."""

    __tablename__ = "knowledge_article"
    __tenant_table_args__ = (
        UniqueConstraint("tenant_id", "source_id"),
        # Full text on PostgreSQL only; SQLite searches with a plain match (core.knowledge.search).
        Index(
            "ix_knowledge_article_search",
            text(f"to_tsvector('{SEARCH_CONFIG}', search_text)"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[dict[str, str]] = mapped_column(JSON)
    answer: Mapped[dict[str, str]] = mapped_column(JSON)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_region_article.id", ondelete="SET NULL"))
    source_version: Mapped[int | None] = mapped_column(Integer)
    search_text: Mapped[str] = mapped_column(Text, default="")  # every language's text, lower-cased
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
