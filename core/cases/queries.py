"""Read-only case queries for public machine interfaces (Open311): filters, windows and limits.

They return meldingen only (questions are personal), scoped to the session's municipality by the
tenant filter, with their department loaded in the same round trip.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.cases.lifecycle import CLOSED_STATES, OPEN_STATES
from core.cases.models import Case, CaseEvent

STATUS_EVENTS = ("status", "merged")


def public_reports(db: Session, public_types: Collection[str], *, references: Collection[str] | None = None,
                   type_codes: Collection[str] | None = None, start: datetime | None = None,
                   end: datetime | None = None, open_or_closed: Collection[str] = (),
                   limit: int = 1000) -> list[Case]:
    """Meldingen, newest first. ``references`` overrides every other filter (as Open311 wants).

    ``open_or_closed`` holds ``"open"`` and/or ``"closed"``; empty means both.
    """
    query = (select(Case).where(Case.kind == "melding", Case.type_code.in_(list(public_types)))
             .options(selectinload(Case.department)))
    if references is not None:
        query = query.where(Case.reference.in_(list(references)))
    else:
        if type_codes:
            query = query.where(Case.type_code.in_(list(type_codes)))
        if start is not None:
            query = query.where(Case.created_at >= start)
        if end is not None:
            query = query.where(Case.created_at <= end)
        states = set()
        if "open" in open_or_closed:
            states |= OPEN_STATES
        if "closed" in open_or_closed:
            states |= CLOSED_STATES
        if states:
            query = query.where(Case.status.in_(sorted(states)))
    return list(db.scalars(query.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)))


def public_report(db: Session, public_types: Collection[str], reference: str) -> Case | None:
    """One public melding by its reference."""
    return db.scalar(select(Case).where(Case.kind == "melding", Case.type_code.in_(list(public_types)),
                                        Case.reference == reference)
                     .options(selectinload(Case.department)))


def references_by_id(db: Session, case_ids: Collection[int]) -> dict[int, str]:
    """Public references of cases by id (e.g. the parents merged cases point to), in one query."""
    if not case_ids:
        return {}
    return {case_id: reference for case_id, reference in db.execute(
        select(Case.id, Case.reference).where(Case.id.in_(list(case_ids))))}


def status_updates(db: Session, public_types: Collection[str], start: datetime, end: datetime,
                   limit: int = 1000) -> list[tuple[CaseEvent, Case]]:
    """State changes (and merges) of public meldingen between ``start`` and ``end``, oldest first."""
    query = (
        select(CaseEvent, Case)
        .join(Case, (Case.tenant_id == CaseEvent.tenant_id) & (Case.id == CaseEvent.case_id))
        .where(Case.kind == "melding", Case.type_code.in_(list(public_types)), CaseEvent.kind.in_(STATUS_EVENTS),
               CaseEvent.created_at >= start, CaseEvent.created_at <= end)
        .order_by(CaseEvent.created_at, CaseEvent.id)
        .limit(limit)
    )
    return [(event, case) for event, case in db.execute(query)]
