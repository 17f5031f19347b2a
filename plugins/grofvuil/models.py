"""Grofvuil's tables: zones of a municipality and the collection rounds planned in them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.toolkit import Base, TenantScoped, tenant_foreign_key


class Zone(TenantScoped, Base):
    __tablename__ = "grofvuil_zone"
    __tenant_table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))

    rounds: Mapped[list[Round]] = relationship(back_populates="zone", order_by="Round.day")


class Round(TenantScoped, Base):
    __tablename__ = "grofvuil_ronde"
    __tenant_table_args__ = (
        tenant_foreign_key("zone_id", "grofvuil_zone"),
        UniqueConstraint("tenant_id", "zone_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int]
    day: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int]

    zone: Mapped[Zone] = relationship(back_populates="rounds")
