"""Grofvuil's service functions: plan rounds, list what is coming, reserve a place."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from plugins.grofvuil.models import Reservation, Round, Zone


def upcoming_rounds(session: Session, today: date) -> list[Round]:
    """Rounds from today on, with their zone, for the session's municipality."""
    return list(
        session.scalars(
            select(Round).where(Round.day >= today).options(selectinload(Round.zone))
            .order_by(Round.day, Round.id)
        )
    )


def zone_names(session: Session) -> list[str]:
    return list(session.scalars(select(Zone.name).order_by(Zone.name)))


def plan_round(session: Session, zone_name: str, day: date, capacity: int) -> Round:
    """Plan a round in a zone (the zone is created on first use)."""
    zone = session.scalar(select(Zone).where(Zone.name == zone_name))
    if zone is None:
        zone = Zone(name=zone_name)
        session.add(zone)
    collection_round = Round(zone=zone, day=day, capacity=capacity)
    session.add(collection_round)
    session.flush()
    return collection_round


def reserve(session: Session, case_id: int, zone_name: str, at: datetime) -> Round | None:
    """The first round in the zone, after today, with a free place; None when all are full."""
    taken = (select(func.count()).select_from(Reservation)
             .where(Reservation.round_id == Round.id).scalar_subquery())
    candidate = session.scalar(
        select(Round).join(Round.zone)
        .where(Zone.name == zone_name, Round.day > at.date(), taken < Round.capacity)
        .order_by(Round.day).limit(1)
    )
    if candidate is not None:
        session.add(Reservation(round_id=candidate.id, case_id=case_id, created_at=at))
        session.flush()
    return candidate
