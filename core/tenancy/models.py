"""The platform's own tables: regions, municipalities (tenants) and their departments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow
from core.tenancy.isolation import TenantScoped


class Region(Base):
    """An intergemeentelijk samenwerkingsverband: the municipalities a coordinator steers."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    tenants: Mapped[list[Tenant]] = relationship(back_populates="region", order_by="Tenant.name")


class Tenant(Base):
    """A municipality on the platform, as applied from ``tenants/<slug>.toml``."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    nis_code: Mapped[str] = mapped_column(String(5), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    languages: Mapped[list[str]] = mapped_column(JSON)
    boundary: Mapped[dict[str, Any]] = mapped_column(JSON)
    identity: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    plugins: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON, default=dict)
    case_types: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON, default=dict)
    purposes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    question_days: Mapped[int] = mapped_column(default=30)
    report_anonymise_days: Mapped[int] = mapped_column(default=365)
    archive_days: Mapped[int] = mapped_column(default=3650)  # closed cases are removed after this term
    config_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    region: Mapped[Region] = relationship(back_populates="tenants")

    def has_plugin(self, name: str) -> bool:
        return name in (self.plugins or {})


class Department(TenantScoped, Base):
    """A municipal department (dienst) that cases are routed to and staff work for."""

    __tablename__ = "department"
    __tenant_table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
