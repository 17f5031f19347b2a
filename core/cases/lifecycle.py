"""The case lifecycle: the explicit transition table and honest closure.

Every change is an append-only event; closing needs a resolution the resident will see
(opgelost, niet opgelost with a reason, niet bevoegd), and a referral names who it went to.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from core.cases.models import Case, CaseEvent

OPEN_STATES = frozenset({"nieuw", "in_behandeling", "wacht_op_burger", "heropend"})
CLOSED_STATES = frozenset({"afgehandeld", "doorverwezen", "geannuleerd", "samengevoegd"})
STATES = ("nieuw", "in_behandeling", "wacht_op_burger", "heropend", "afgehandeld", "doorverwezen",
          "geannuleerd", "samengevoegd")
_WORKING = ("in_behandeling", "wacht_op_burger", "afgehandeld", "doorverwezen", "geannuleerd")
TRANSITIONS: dict[str, frozenset[str]] = {
    "nieuw": frozenset(_WORKING),
    "in_behandeling": frozenset(_WORKING) - {"in_behandeling"},
    "wacht_op_burger": frozenset({"in_behandeling", "afgehandeld", "geannuleerd"}),
    "heropend": frozenset(_WORKING),
    "afgehandeld": frozenset({"heropend"}),
    "doorverwezen": frozenset({"heropend"}),
    "geannuleerd": frozenset({"heropend"}),
    "samengevoegd": frozenset(),
}
RESOLUTIONS = ("opgelost", "niet_opgelost", "niet_bevoegd")  # what staff choose from
# Set by the platform, never offered to staff: a question closed after its term without activity.
SYSTEM_RESOLUTIONS = ("verlopen",)
SYSTEM_ACTOR = "systeem"


class InvalidTransition(ValueError):
    """A state change the table does not allow, or a closure without what it needs."""


# Lazy: each label is translated only when shown (the queue shows fifty per page).
_STATUS_LABELS = {
    "nieuw": _l("Nieuw"), "in_behandeling": _l("In behandeling"),
    "wacht_op_burger": _l("Wacht op uw antwoord"), "heropend": _l("Heropend"),
    "afgehandeld": _l("Afgehandeld"), "doorverwezen": _l("Doorverwezen"),
    "geannuleerd": _l("Geannuleerd"), "samengevoegd": _l("Samengevoegd"),
}
_RESOLUTION_LABELS = {
    "opgelost": _l("Opgelost"), "niet_opgelost": _l("Niet opgelost"),
    "niet_bevoegd": _l("De gemeente is hiervoor niet bevoegd"),
    "verlopen": _l("Afgesloten na een periode zonder nieuwe activiteit"),
}


def status_label(status: str) -> str:
    label = _STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def resolution_label(resolution: str | None) -> str:
    label = _RESOLUTION_LABELS.get(resolution or "")
    return str(label) if label is not None else ""


def record(db: Session, case: Case, kind: str, actor: str, at: datetime, *, body: str | None = None,
           visible: bool = False, from_status: str | None = None, to_status: str | None = None) -> CaseEvent:
    """Append one event to the case's history and mark the case as active."""
    event = CaseEvent(case_id=case.id, tenant_id=case.tenant_id, kind=kind, actor=actor, created_at=at,
                      body=body, visible_to_citizen=visible, from_status=from_status, to_status=to_status)
    db.add(event)
    case.updated_at = case.last_activity_at = at
    return event


def check_transition(case: Case, new_status: str, resolution: str | None, note: str | None,
                     referred_to: str | None, *, system: bool = False) -> None:
    """``system``: the platform itself acts (it alone may use :data:`SYSTEM_RESOLUTIONS`)."""
    if new_status not in TRANSITIONS:
        raise InvalidTransition(_("Onbekende status %(status)s.", status=new_status))
    if new_status not in TRANSITIONS[case.status]:
        raise InvalidTransition(_(
            "Een dossier met status ‘%(old)s’ kan niet naar ‘%(new)s’.",
            old=status_label(case.status), new=status_label(new_status),
        ))
    if new_status == "afgehandeld":
        if resolution not in RESOLUTIONS and not (system and resolution in SYSTEM_RESOLUTIONS):
            raise InvalidTransition(_("Kies hoe het dossier is afgehandeld: opgelost, niet opgelost "
                                      "of niet bevoegd."))
        if resolution == "niet_opgelost" and not (note or "").strip():
            raise InvalidTransition(_("Zeg waarom het niet opgelost is: de melder leest dat."))
    if new_status == "doorverwezen" and not (referred_to or "").strip():
        raise InvalidTransition(_("Zeg naar wie het dossier doorverwezen is."))


def change_status(db: Session, case: Case, new_status: str, *, actor: str, at: datetime,
                  resolution: str | None = None, note: str | None = None,
                  referred_to: str | None = None) -> CaseEvent:
    """Move a case through the table; raises :class:`InvalidTransition` and changes nothing."""
    check_transition(case, new_status, resolution, note, referred_to, system=actor == SYSTEM_ACTOR)
    old = case.status
    case.status = new_status
    if new_status in CLOSED_STATES:
        case.closed_at = at
        case.resolution = resolution if new_status == "afgehandeld" else None
        case.resolution_note = (note or "").strip() or None
        referral = (referred_to or "").strip() or None
        case.referred_to = referral if new_status == "doorverwezen" else None
    else:  # back in the queue: the old outcome no longer holds, and may be asked about again
        case.closed_at = None
        case.resolution = case.resolution_note = case.referred_to = None
        case.satisfied = None
    return record(db, case, "status", actor, at, body=(note or "").strip() or None, visible=True,
                  from_status=old, to_status=new_status)
