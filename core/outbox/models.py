"""One row per message to deliver; the worker delivers each row at most once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.tenancy.isolation import TenantScoped, tenant_foreign_key

CHANNELS = ("e-mail", "brief")
STATES = ("pending", "sent", "failed")


class OutboxMessage(TenantScoped, Base):
    __tablename__ = "outbox_message"
    __tenant_table_args__ = (
        tenant_foreign_key("case_id", "case_file"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_case", "tenant_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(400))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), default="nl")
    case_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(300))
    document_key: Mapped[str | None] = mapped_column(String(200))
