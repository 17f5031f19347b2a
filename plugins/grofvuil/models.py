"""Grofvuil's tables: zones, the collection rounds planned in them, and reservations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, String, UniqueConstraint
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


class Reservation(TenantScoped, Base):
    """A place in a collection round, reserved for a resident's pickup request (a case)."""

    __tablename__ = "grofvuil_reservering"
    __tenant_table_args__ = (
        tenant_foreign_key("round_id", "grofvuil_ronde"),
        tenant_foreign_key("case_id", "case_file"),
        UniqueConstraint("tenant_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int]
    case_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    round: Mapped[Round] = relationship(
        primaryjoin="and_(Round.tenant_id == Reservation.tenant_id, Round.id == foreign(Reservation.round_id))",
        viewonly=True,
    )
