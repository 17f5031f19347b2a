"""A municipality's record of a person, and what the person decided about it.

A profile belongs to one municipality (each is a separate data controller); an account links a
person's profiles across municipalities for the /mijn overview. Consent records, preference
changes and access-log rows are append-only: the service layer never updates or deletes them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.tenancy.isolation import TenantScoped, tenant_foreign_key

CONTACT_CHANNELS = ("e-mail", "sms", "brief", "telefoon", "balie", "app")
LANGUAGES = ("nl", "fr", "en")
ACTOR_KINDS = ("inwoner", "medewerker")


class Profile(TenantScoped, Base):
    """One municipality's record of a person; ``account_id`` is empty for a desk-made profile."""

    __tablename__ = "profile"
    __tenant_table_args__ = (
        UniqueConstraint("tenant_id", "account_id"),
        Index("ix_profile_national_number", "tenant_id", "national_number_hash"),
        Index("ix_profile_email", "tenant_id", "email"),
        Index("ix_profile_phone", "tenant_id", "phone_key"),
        Index("ix_profile_name", "tenant_id", "name_key", "birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    name_key: Mapped[str] = mapped_column(String(200), default="")  # lower-case, accents folded: for search
    birth_date: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    phone_key: Mapped[str] = mapped_column(String(40), default="")  # digits in national form: for search
    language: Mapped[str] = mapped_column(String(5), default="nl")
    preferred_channel: Mapped[str | None] = mapped_column(String(10))
    no_digital_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    assistance_needs: Mapped[str] = mapped_column(Text, default="")
    national_number_hash: Mapped[str | None] = mapped_column(String(64))  # HMAC keyed per municipality
    created_by: Mapped[str] = mapped_column(String(20))  # inwoner | medewerker
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    linked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PreferenceChange(TenantScoped, Base):
    """Which preferences changed, when, through which channel and by whom (never the values)."""

    __tablename__ = "preference_change"
    __tenant_table_args__ = (
        tenant_foreign_key("profile_id", "profile"),
        tenant_foreign_key("staff_id", "staff_member"),
        Index("ix_preference_change_profile", "tenant_id", "profile_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list[str]] = mapped_column(JSON)
    channel: Mapped[str] = mapped_column(String(10))
    actor_kind: Mapped[str] = mapped_column(String(20))
    staff_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsentRecord(TenantScoped, Base):
    """One consent decision for one version of a purpose; the latest per purpose counts."""

    __tablename__ = "consent_record"
    __tenant_table_args__ = (
        tenant_foreign_key("profile_id", "profile"),
        tenant_foreign_key("staff_id", "staff_member"),
        Index("ix_consent_profile", "tenant_id", "profile_id", "purpose_code", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[str] = mapped_column(String(36), unique=True)
    profile_id: Mapped[int] = mapped_column(Integer)
    purpose_code: Mapped[str] = mapped_column(String(60))
    purpose_version: Mapped[int] = mapped_column(Integer)
    granted: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(10))
    actor_kind: Mapped[str] = mapped_column(String(20))
    staff_id: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccessLogEntry(TenantScoped, Base):
    """Who looked at a profile (or a share), when, why and what was shown; hash-chained per tenant."""

    __tablename__ = "access_log_entry"
    __tenant_table_args__ = (
        UniqueConstraint("tenant_id", "seq"),
        Index("ix_access_log_profile", "tenant_id", "profile_id", "id"),
        Index("ix_access_log_share", "tenant_id", "share_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    profile_id: Mapped[int] = mapped_column(Integer)  # no foreign key: the log outlives an erased profile
    actor_kind: Mapped[str] = mapped_column(String(20))  # medewerker | deellink
    actor_label: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(300))
    shown: Mapped[list[str]] = mapped_column(JSON)
    share_id: Mapped[int | None] = mapped_column(Integer)  # the share whose view this was, if any
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AccessLogHead(TenantScoped, Base):
    """The end of a municipality's chain, locked while a row is appended; shows a cut-off tail."""

    __tablename__ = "access_log_head"
    __tenant_table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class Share(TenantScoped, Base):
    """A temporary QR share: chosen fields and cases, for a recipient, a window and a number of views."""

    __tablename__ = "profile_share"
    __tenant_table_args__ = (
        tenant_foreign_key("profile_id", "profile"),
        Index("ix_share_profile", "tenant_id", "profile_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    fields: Mapped[list[str]] = mapped_column(JSON)
    case_ids: Mapped[list[int]] = mapped_column(JSON)
    recipient_tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"))  # None: whoever is shown
    purpose: Mapped[str] = mapped_column(String(200))
    max_views: Mapped[int] = mapped_column(Integer, default=1)
    views: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ErasureRequest(TenantScoped, Base):
    """A resident's request to erase what consent-based purposes hold; carried out by the municipality."""

    __tablename__ = "erasure_request"
    __tenant_table_args__ = (
        tenant_foreign_key("profile_id", "profile"),
        tenant_foreign_key("handled_by_id", "staff_member"),
        Index("ix_erasure_status", "tenant_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(Integer)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | uitgevoerd | geweigerd
    explanation: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_by_id: Mapped[int | None] = mapped_column(Integer)


class ProfileExport(Base):
    """A resident's GDPR art. 15 copy across municipalities: built by the worker, fetched once.

    A platform row, like the account it belongs to: it gathers the person's data from every
    municipality where they have a profile.
    """

    __tablename__ = "profile_export"
    __table_args__ = (Index("ix_profile_export_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="wachtend")  # wachtend|bezig|klaar|verlopen|mislukt
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    language: Mapped[str] = mapped_column(String(5), default="nl")
    json_key: Mapped[str | None] = mapped_column(String(200))
    pdf_key: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    json_fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pdf_fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
