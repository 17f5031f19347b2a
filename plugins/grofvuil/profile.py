"""Grofvuil and the resident's rights: what it shows in a profile, exports, and erases.

A reservation ties a resident's pickup request (a case, with their address) to a zone and a day.
Upcoming pickups serve the public task of collecting the waste (``dossierbehandeling``). After
the day has passed, a reservation is kept only as the resident's pickup history, with their
consent (``grofvuil_historiek``): without it, the retention run removes it :data:`GRACE` after the
pickup (time enough for a complaint about the collection). Erasing that purpose deletes the past
reservations at once and leaves the upcoming ones, which the collection still needs. When the core
removes a closed case after the archive term, its reservation goes first.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session, selectinload

from core.toolkit import Case, Profile, Tenant, allows, gettext, hookimpl, utcnow
from plugins.grofvuil.models import Reservation, Round

HISTORY = "grofvuil_historiek"
GRACE = timedelta(days=30)
PUBLIC_TASK = "dossierbehandeling"

HISTORY_PURPOSE: dict[str, Any] = {
    "code": HISTORY, "legal_basis": "toestemming", "version": 1,
    "title": {"nl": "Uw vorige grofvuilophalingen bijhouden", "fr": "Conserver vos enlèvements d’encombrants passés",
              "en": "Keeping your past bulky waste pickups"},
    "explanation": {
        "nl": "Na de ophaling bewaart de gemeente op welke dag en in welke zone uw grofvuil werd opgehaald, "
              "zodat u en de medewerkers aan de balie uw vorige ophalingen zien.",
        "fr": "Après l’enlèvement, la commune conserve le jour et la zone de vos enlèvements, pour que vous et "
              "les agents au guichet voyiez vos enlèvements passés.",
        "en": "After the pickup the municipality keeps the day and zone of your pickups, so you and the desk "
              "staff can see your past pickups."},
    "retention": {"nl": "Tot u uw toestemming intrekt.", "fr": "Jusqu’au retrait de votre consentement.",
                  "en": "Until you withdraw your consent."},
    "refusal": {"nl": "Zonder toestemming ziet u uw vorige ophalingen niet meer; uw geplande ophalingen blijven.",
                "fr": "Sans consentement, vous ne voyez plus vos enlèvements passés ; ceux qui sont prévus restent.",
                "en": "Without consent you no longer see your past pickups; your planned pickups stay."},
    "data_categories": ["ophaalafspraken"],
}


def reservations_of(session: Session, profile: Profile) -> list[tuple[Reservation, str]]:
    """The profile's reservations with their case reference, by day (the session is scoped to one municipality)."""
    rows = session.execute(
        select(Reservation, Case.reference)
        .join(Case, and_(Case.tenant_id == Reservation.tenant_id, Case.id == Reservation.case_id))
        .where(Case.profile_id == profile.id)
        .options(selectinload(Reservation.round).selectinload(Round.zone))
        .order_by(Reservation.id)
    ).all()
    return sorted(((row.Reservation, row.reference) for row in rows), key=lambda pair: pair[0].round.day)


def _row(reservation: Reservation, reference: str) -> tuple[str, str]:
    return (reservation.round.day.strftime("%d/%m/%Y"),
            gettext("Zone %(zone)s (%(reference)s)", zone=reservation.round.zone.name, reference=reference))


@hookimpl
def fygitaal_consent_purposes(tenant: Tenant) -> list[dict[str, Any]]:
    return [HISTORY_PURPOSE]


@hookimpl
def fygitaal_profile_sections(session: Session, tenant: Tenant, profile: Profile, viewer: Any) -> list[dict[str, Any]]:
    today = utcnow().date()
    reservations = reservations_of(session, profile)
    planned = [_row(r, ref) for r, ref in reservations if r.round.day >= today]
    past = [_row(r, ref) for r, ref in reservations if r.round.day < today]
    sections = []
    if planned:
        sections.append({"key": "grofvuil.gepland", "purpose": PUBLIC_TASK, "rows": planned,
                         "title": {"nl": "Geplande grofvuilophalingen", "fr": "Enlèvements d’encombrants prévus",
                                   "en": "Planned bulky waste pickups"}})
    if past:
        sections.append({"key": "grofvuil.historiek", "purpose": HISTORY, "rows": past,
                         "title": {"nl": "Vorige grofvuilophalingen", "fr": "Enlèvements d’encombrants passés",
                                   "en": "Past bulky waste pickups"}})
    return sections


@hookimpl
def fygitaal_export_sections(session: Session, tenant: Tenant, profile: Profile) -> list[dict[str, Any]]:
    reservations = reservations_of(session, profile)
    if not reservations:
        return []
    return [{"key": "grofvuil.reservaties",
             "title": {"nl": "Grofvuilophalingen", "fr": "Enlèvements d’encombrants", "en": "Bulky waste pickups"},
             "content": [{"melding": reference, "zone": r.round.zone.name, "ophaaldag": r.round.day.isoformat(),
                          "gereserveerd_op": r.created_at.isoformat()} for r, reference in reservations]}]


def erase_history(session: Session, profile: Profile, today: date) -> int:
    """Delete the profile's reservations for days before ``today``; planned pickups stay."""
    past = [r.id for r, _reference in reservations_of(session, profile) if r.round.day < today]
    if past:
        session.execute(delete(Reservation).where(Reservation.id.in_(past)))
    return len(past)


@hookimpl
def fygitaal_erase_profile(session: Session, tenant: Tenant, profile: Profile, purposes: list[str]) -> None:
    if HISTORY in purposes:
        erase_history(session, profile, utcnow().date())


@hookimpl
def fygitaal_retention(session: Session, tenant: Tenant, at: datetime) -> int:
    """Past pickups older than :data:`GRACE` go, except for residents who consented to a history."""
    cutoff = (at - GRACE).date()
    rows = session.execute(
        select(Reservation.id, Case.profile_id)
        .join(Case, and_(Case.tenant_id == Reservation.tenant_id, Case.id == Reservation.case_id))
        .join(Round, and_(Round.tenant_id == Reservation.tenant_id, Round.id == Reservation.round_id))
        .where(Round.day < cutoff)
    ).all()
    keep: dict[int, bool] = {}
    for profile_id in {row.profile_id for row in rows if row.profile_id is not None}:
        profile = session.scalar(select(Profile).where(Profile.id == profile_id))
        keep[profile_id] = profile is not None and allows(session, tenant, profile, HISTORY)
    expired = [row.id for row in rows if not keep.get(row.profile_id, False)]
    if expired:
        session.execute(delete(Reservation).where(Reservation.id.in_(expired)))
    return len(expired)


@hookimpl
def fygitaal_cases_removed(session: Session, tenant: Tenant, case_ids: list[int]) -> None:
    """The core removes these cases after the archive term: their reservations go first."""
    session.execute(delete(Reservation).where(Reservation.case_id.in_(case_ids)))
