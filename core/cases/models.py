"""The case tables: cases, their append-only history, followers, attachments, reference counters
and the idempotency records of API POSTs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.tenancy.isolation import TenantScoped, tenant_foreign_key
from core.tenancy.models import Department

KINDS = ("melding", "vraag")
CHANNELS = ("web", "app", "api", "open311", "e-mail", "telefoon", "balie", "brief")


def _same_tenant(child: str, column: str, parent: str) -> str:
    """A join on a composite key that names only the id column as foreign (tenant_id is shared)."""
    return f"and_({child}.tenant_id == {parent}.tenant_id, foreign({child}.{column}) == {parent}.id)"


class Case(TenantScoped, Base):
    """A melding or vraag; field names follow OSLO Melding where it has a term."""

    __tablename__ = "case_file"
    __tenant_table_args__ = (
        UniqueConstraint("tenant_id", "reference"),
        tenant_foreign_key("department_id", "department"),
        tenant_foreign_key("assignee_id", "staff_member"),
        tenant_foreign_key("merged_into_id", "case_file"),
        Index("ix_case_queue", "tenant_id", "department_id", "status", "id"),
        Index("ix_case_status", "tenant_id", "status", "id"),
        Index("ix_case_type_status", "tenant_id", "type_code", "status", "lat"),
        Index("ix_case_activity", "tenant_id", "kind", "status", "last_activity_at"),
        Index("ix_case_merged_into", "tenant_id", "merged_into_id"),
        tenant_foreign_key("profile_id", "profile"),
        Index("ix_case_profile", "tenant_id", "profile_id", "id"),
        # /mijn and the export find a person's cases in every municipality, so not tenant-first.
        Index("ix_case_reporter_account", "reporter_account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40))
    type_code: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="nieuw")
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    referred_to: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    department_id: Mapped[int | None] = mapped_column(Integer)
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    merged_into_id: Mapped[int | None] = mapped_column(Integer)
    reporter_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    profile_id: Mapped[int | None] = mapped_column(Integer)  # the reporter's profile in this municipality
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    reporter_phone: Mapped[str | None] = mapped_column(String(40))
    reporter_address: Mapped[str | None] = mapped_column(String(300))
    preferred_channel: Mapped[str | None] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    follow_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    department: Mapped[Department | None] = relationship(
        primaryjoin=_same_tenant("Case", "department_id", "Department"), viewonly=True)
    events: Mapped[list[CaseEvent]] = relationship(
        primaryjoin=_same_tenant("CaseEvent", "case_id", "Case"), order_by="CaseEvent.id", viewonly=True)
    attachments: Mapped[list[Attachment]] = relationship(
        primaryjoin=_same_tenant("Attachment", "case_id", "Case"), order_by="Attachment.id", viewonly=True)

    @property
    def is_open(self) -> bool:
        from core.cases.lifecycle import OPEN_STATES

        return self.status in OPEN_STATES


class CaseEvent(TenantScoped, Base):
    """One step in a case's history (append-only): a state change, a message, a note, …"""

    __tablename__ = "case_event"
    __tenant_table_args__ = (
        tenant_foreign_key("case_id", "case_file"),
        Index("ix_case_event_case", "tenant_id", "case_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    visible_to_citizen: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str | None] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseFollower(TenantScoped, Base):
    """Someone who follows a report instead of filing a duplicate; told when it changes, once the
    address's owner confirmed through the link mailed to it (double opt-in, see core/cases/following.py)."""

    __tablename__ = "case_follower"
    __tenant_table_args__ = (
        tenant_foreign_key("case_id", "case_file"),
        UniqueConstraint("tenant_id", "case_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the confirmation link's token
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the address last asked to follow: a confirmation mail re-sent restarts its 7 days.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Attachment(TenantScoped, Base):
    """A photo, re-encoded without metadata; the bytes live in the storage backend."""

    __tablename__ = "attachment"
    __tenant_table_args__ = (
        tenant_foreign_key("case_id", "case_file"),
        Index("ix_attachment_case", "tenant_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReferenceCounter(TenantScoped, Base):
    """The last sequence number per municipality, type code and year (``<CODE>-<YYYY>-<seq>``)."""

    __tablename__ = "reference_counter"
    __tenant_table_args__ = (UniqueConstraint("tenant_id", "prefix", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyRecord(TenantScoped, Base):
    """An API POST with an ``Idempotency-Key``: same key and payload replay the stored answer."""

    __tablename__ = "idempotency_record"
    __tenant_table_args__ = (UniqueConstraint("tenant_id", "client_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_client.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
