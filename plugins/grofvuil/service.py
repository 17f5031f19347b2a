"""Grofvuil's service functions: plan rounds, list what is coming."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from plugins.grofvuil.models import Round, Zone


def upcoming_rounds(session: Session, today: date) -> list[Round]:
    """Rounds from today on, with their zone, for the session's municipality."""
    return list(
        session.scalars(
            select(Round).where(Round.day >= today).options(selectinload(Round.zone))
            .order_by(Round.day, Round.id)
        )
    )


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
