"""Contact moments: every conversation with a resident, on whatever channel it happened."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.tenancy.isolation import TenantScoped, tenant_foreign_key

CONTACT_CHANNELS = ("balie", "telefoon", "e-mail", "brief", "huisbezoek", "chat")
OUTCOMES = ("beantwoord", "melding_aangemaakt", "doorverwezen", "terugbellen", "afspraak", "geen_antwoord")


class ContactMoment(TenantScoped, Base):
    """One contact with a resident: channel, topic, a short summary, a linked case and the outcome."""

    __tablename__ = "contact_moment"
    __tenant_table_args__ = (
        tenant_foreign_key("profile_id", "profile"),
        tenant_foreign_key("case_id", "case_file"),
        tenant_foreign_key("staff_id", "staff_member"),
        Index("ix_contact_moment_profile", "tenant_id", "profile_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(30))
    staff_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
