"""Accounts, sessions, staff roles and API clients.

Accounts, sessions and API credentials are platform rows: they are looked up before any
municipality is known (a login, a token). Staff membership is tenant-owned, so a municipality's
admins see and change only their own staff.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from core.tenancy.isolation import TenantScoped, tenant_foreign_key
from core.tenancy.models import Department, Tenant

TENANT_ROLES = ("onthaal", "behandelaar", "beheerder")


class Account(Base):
    """A person who logged in (or will): one per (issuer, subject)."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    national_number_hash: Mapped[str | None] = mapped_column(String(64))
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    """A server-side session; the cookie holds a random id, the table only its SHA-256."""

    __tablename__ = "user_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class RegionCoordinator(Base):
    """A regional coordinator: aggregates across the region's municipalities, no personal data."""

    __tablename__ = "region_coordinator"
    __table_args__ = (UniqueConstraint("region_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)


class StaffMember(TenantScoped, Base):
    """A person working for one municipality; deactivation ends their sessions."""

    __tablename__ = "staff_member"
    __tenant_table_args__ = (UniqueConstraint("tenant_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    account: Mapped[Account] = relationship()
    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", order_by="StaffRole.id",
        primaryjoin="and_(StaffMember.tenant_id == StaffRole.tenant_id, "
                    "StaffMember.id == foreign(StaffRole.staff_id))",
    )


class StaffRole(TenantScoped, Base):
    """One role of a staff member; a behandelaar's role names its department."""

    __tablename__ = "staff_role"
    __tenant_table_args__ = (
        tenant_foreign_key("staff_id", "staff_member", ondelete="CASCADE"),
        tenant_foreign_key("department_id", "department"),
        UniqueConstraint("tenant_id", "staff_id", "role", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int]
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None]

    # Joins name only the id column as foreign, so loading or clearing a link never rewrites
    # tenant_id; the composite foreign keys above still make the database refuse a cross link.
    staff: Mapped[StaffMember] = relationship(
        back_populates="roles",
        primaryjoin="and_(StaffMember.tenant_id == StaffRole.tenant_id, "
                    "StaffMember.id == foreign(StaffRole.staff_id))",
    )
    department: Mapped[Department | None] = relationship(
        primaryjoin="and_(Department.tenant_id == StaffRole.tenant_id, "
                    "Department.id == foreign(StaffRole.department_id))",
    )


class ApiClient(Base):
    """A machine client of one municipality (OAuth2 client credentials, optionally Open311)."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    open311_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    tenant: Mapped[Tenant] = relationship()


class ApiToken(Base):
    """An issued bearer token; only its SHA-256 is kept."""

    __tablename__ = "api_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_client.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    client: Mapped[ApiClient] = relationship()
