"""What happens to a case after intake, for staff and for the resident alike.

Staff assign, write internal notes, message the resident, change the state through the
transition table and merge duplicates; the resident adds information, asks to reopen and says
whether they are satisfied. Every step is an event; residents hear of what concerns them.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.cases import following, notify
from core.cases.lifecycle import CLOSED_STATES, OPEN_STATES, change_status, record
from core.cases.models import Case
from core.identity.models import StaffMember
from core.tenancy.models import Tenant

MAX_TEXT = 4000


class HandlingError(ValueError):
    """An action that cannot be done; the message says why. Nothing is changed."""


def _not_purged(case: Case) -> None:
    """A purged case keeps only anonymous metadata: nothing personal may be added to it again."""
    if case.purged_at is not None:
        raise HandlingError(_("Dit dossier is gearchiveerd zonder persoonsgegevens en kan niet meer "
                              "gewijzigd worden. Dien een nieuwe melding of vraag in."))


def _text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise HandlingError(_("Schrijf eerst een tekst."))
    if len(text) > MAX_TEXT:
        raise HandlingError(_("Een tekst mag hoogstens %(n)s tekens lang zijn.", n=MAX_TEXT))
    return text


def assign(db: Session, case: Case, staff_id: int | None, *, actor: str, at: datetime) -> None:
    """Give the case to a staff member of this municipality (or to nobody)."""
    if staff_id is not None:
        staff = db.get(StaffMember, staff_id)
        if staff is None or not staff.active:
            raise HandlingError(_("Deze medewerker bestaat niet of is niet actief."))
    case.assignee_id = staff_id
    record(db, case, "assigned", actor, at, body=str(staff_id) if staff_id else None)


def add_note(db: Session, case: Case, text: str, *, actor: str, at: datetime) -> None:
    """An internal note: never shown to the resident."""
    record(db, case, "note", actor, at, body=_text(text), visible=False)


def message_resident(db: Session, tenant: Tenant, case: Case, text: str, *, actor: str, at: datetime) -> None:
    """A message the resident sees on the follow-up page and receives on their channel."""
    _not_purged(case)
    body = _text(text)
    record(db, case, "message_to_citizen", actor, at, body=body, visible=True)
    notify.message_to_reporter(db, tenant, case, body, at)


def change_state(db: Session, tenant: Tenant, case: Case, new_status: str, *, actor: str, at: datetime,
                 resolution: str | None = None, note: str | None = None, referred_to: str | None = None) -> None:
    """Move the case through the transition table and tell the reporter and followers."""
    if new_status == "samengevoegd":
        raise HandlingError(_("Samenvoegen doet u met ‘samenvoegen’, niet met een statuswijziging."))
    _not_purged(case)
    change_status(db, case, new_status, actor=actor, at=at, resolution=resolution, note=note,
                  referred_to=referred_to)
    notify.case_changed(db, tenant, case, at)
    for merged in db.scalars(select(Case).where(Case.merged_into_id == case.id)):
        notify.parent_changed(db, tenant, merged, case, at)


def merge(db: Session, tenant: Tenant, duplicate: Case, parent: Case, *, actor: str, at: datetime) -> None:
    """A real merge: the duplicate closes as ‘samengevoegd’, its reporter follows the parent."""
    if duplicate.id == parent.id:
        raise HandlingError(_("Een melding kan niet met zichzelf samengevoegd worden."))
    if duplicate.status not in OPEN_STATES or parent.status not in OPEN_STATES:
        raise HandlingError(_("Alleen openstaande meldingen kunnen samengevoegd worden."))
    if duplicate.kind != parent.kind:
        raise HandlingError(_("Een melding en een vraag kunnen niet samengevoegd worden."))
    old = duplicate.status
    duplicate.status, duplicate.merged_into_id, duplicate.closed_at = "samengevoegd", parent.id, at
    record(db, duplicate, "merged", actor, at, visible=True, from_status=old, to_status="samengevoegd",
           body=parent.reference)
    record(db, parent, "merged_in", actor, at, body=duplicate.reference)
    notify.merged(db, tenant, duplicate, parent, at)
    # Whoever followed the duplicate, or was merged into it before, now hears about the parent.
    db.execute(update(Case).where(Case.merged_into_id == duplicate.id).values(merged_into_id=parent.id))
    following.move_followers(db, duplicate, parent)


# --- The resident's side -------------------------------------------------------------------


def add_information(db: Session, case: Case, text: str, *, at: datetime) -> None:
    """The resident adds information; a case waiting for them goes back to the handler."""
    _not_purged(case)
    if case.status not in OPEN_STATES:
        raise HandlingError(_("Dit dossier is afgesloten. Vraag om het te heropenen."))
    record(db, case, "message_from_citizen", "burger", at, body=_text(text), visible=True)
    if case.status == "wacht_op_burger":
        change_status(db, case, "in_behandeling", actor="burger", at=at)


def request_reopen(db: Session, case: Case, reason: str, *, at: datetime) -> None:
    """A closed case the resident does not consider done goes back into the queue."""
    _not_purged(case)
    if case.status not in CLOSED_STATES or case.status == "samengevoegd":
        raise HandlingError(_("Alleen een afgesloten dossier kan heropend worden."))
    text = _text(reason)
    record(db, case, "message_from_citizen", "burger", at, body=text, visible=True)
    change_status(db, case, "heropend", actor="burger", at=at)


def give_satisfaction(db: Session, case: Case, satisfied: bool, *, at: datetime) -> None:
    """After closure: was the resident satisfied? (‘Not satisfied’ then offers to reopen.)"""
    if case.status not in CLOSED_STATES or case.status == "samengevoegd":
        raise HandlingError(_("U kunt pas zeggen of u tevreden bent als het dossier afgesloten is."))
    if case.satisfied is not None:
        raise HandlingError(_("U hebt al gezegd of u tevreden bent. Dank u wel."))
    case.satisfied = satisfied
    record(db, case, "satisfaction", "burger", at, body="tevreden" if satisfied else "niet tevreden",
           visible=True)
