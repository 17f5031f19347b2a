"""The front office's work on a profile: opening it with a reason, the 360° view, contact moments.

Opening a profile writes one access-log row, which the resident sees in /mijn; the view itself is
built with a fixed number of queries whatever the person's history holds (each timeline kind is one
keyset query of at most a page and one row, merged in Python). Fields whose purpose consent does
not allow are never handed to the template: only the reason they are hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from core.cases.lifecycle import OPEN_STATES
from core.cases.models import Case
from core.clock import as_utc
from core.contact.models import CONTACT_CHANNELS, OUTCOMES, ContactMoment
from core.identity.models import Account, StaffMember
from core.profiles.access_log import record_access
from core.profiles.models import ConsentRecord, PreferenceChange, Profile
from core.profiles.purposes import PROFILE_FIELDS, Consents, consents_for
from core.tenancy.models import Tenant

PAGE_SIZE = 25
MAX_TOPIC = 200
MAX_SUMMARY = 4000
MAX_OTHER_REASON = 200
MAX_REFERENCE = 40
RECENT_CASES = 50  # the linked-case choices and the open questions knowledge is suggested for
REASONS = ("balie", "telefoon", "zaak", "post", "andere")
TIMELINE_KINDS = ("contact", "toestemming", "voorkeur", "zaak")
# What every opening shows besides the profile fields (codes the resident's access-log page names).
ALWAYS_SHOWN = ("toestemmingen", "meldingen", "contactmomenten")


class ContactError(ValueError):
    """Input that cannot be stored; ``errors`` maps each form field to what to fix. Nothing changed."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


# --- Opening a profile ----------------------------------------------------------------------


def _profile_case_id(db: Session, profile: Profile, reference: str) -> int | None:
    """The id of one of the profile's own cases by its reference, or None."""
    if not reference or len(reference) > MAX_REFERENCE:
        return None
    return db.scalar(select(Case.id).where(Case.profile_id == profile.id, Case.reference == reference.upper()))


def opening_reason(db: Session, profile: Profile, code: str, reference: str = "", other: str = "") -> str:
    """The reason as the access log keeps it; raises :class:`ContactError` (in the employee's language).

    The log is hash-chained evidence, so the reason is stored in one language, Dutch, whoever opened.
    """
    reference, other = reference.strip(), other.strip()
    if code not in REASONS:
        raise ContactError({"reden": [_("Kies waarom u dit profiel opent.")]})
    if code == "zaak" and _profile_case_id(db, profile, reference) is None:
        raise ContactError({"referentie": [_("Geef de referentie van een zaak van deze persoon.")]})
    if code == "andere" and not other:
        raise ContactError({"andere": [_("Beschrijf de reden.")]})
    if code == "andere" and len(other) > MAX_OTHER_REASON:
        raise ContactError({"andere": [_("Hoogstens %(n)s tekens.", n=MAX_OTHER_REASON)]})
    with force_locale("nl"):
        reasons = {"balie": _("aan de balie"), "telefoon": _("aan de telefoon"),
                   "post": _("brief/e-mail van de inwoner"),
                   "zaak": _("behandeling van zaak %(reference)s", reference=reference.upper()),
                   "andere": _("andere: %(reason)s", reason=other)}
    return reasons[code]


@dataclass(frozen=True)
class StaffViewer:
    """Who looks at a profile in the 360° view (handed to ``fygitaal_profile_sections`` as ``viewer``)."""

    staff_id: int
    label: str
    reason: str


def shown_sections(consents: Consents, plugin_sections: list[str]) -> list[str]:
    """What an opening shows: the profile fields consent allows, consents, the timeline, plugin sections."""
    fields = [name for name in PROFILE_FIELDS if consents.field_allowed(name)]
    return [*fields, *ALWAYS_SHOWN, *plugin_sections]


def open_profile(db: Session, tenant: Tenant, profile: Profile, *, instance_secret: str, staff_label: str,
                 reason: str, shown: list[str], at: datetime) -> None:
    """Write the one access-log row of this opening (the caller commits)."""
    record_access(db, instance_secret=instance_secret, tenant_id=tenant.id, profile_id=profile.id,
                  actor_kind="medewerker", actor_label=staff_label, reason=reason, shown=shown, at=at)


# --- Contact moments ------------------------------------------------------------------------


def register_contact_moment(db: Session, profile: Profile, *, channel: str, topic: str, summary: str,
                            case_reference: str, outcome: str, staff_id: int | None, at: datetime,
                            case_id: int | None = None) -> ContactMoment:
    """Check everything at once, then store one contact moment; ``case_id`` links a case just filed."""
    errors: dict[str, list[str]] = {}
    topic, summary, case_reference = topic.strip(), summary.strip(), case_reference.strip()
    if channel not in CONTACT_CHANNELS:
        errors["kanaal"] = [_("Kies het kanaal van het contact.")]
    if not topic:
        errors["onderwerp"] = [_("Geef het onderwerp van het contact.")]
    elif len(topic) > MAX_TOPIC:
        errors["onderwerp"] = [_("Het onderwerp mag hoogstens %(n)s tekens lang zijn.", n=MAX_TOPIC)]
    if len(summary) > MAX_SUMMARY:
        errors["samenvatting"] = [_("De samenvatting mag hoogstens %(n)s tekens lang zijn.", n=MAX_SUMMARY)]
    if outcome not in OUTCOMES:
        errors["uitkomst"] = [_("Kies de uitkomst van het contact.")]
    if case_reference and case_id is None:
        case_id = _profile_case_id(db, profile, case_reference)
        if case_id is None:
            errors["zaak"] = [_("%(reference)s is geen zaak van deze persoon.", reference=case_reference[:40])]
    if errors:
        raise ContactError(errors)
    moment = ContactMoment(profile_id=profile.id, channel=channel, topic=topic, summary=summary, case_id=case_id,
                           outcome=outcome, staff_id=staff_id, created_at=at)
    db.add(moment)
    db.flush()
    return moment


# --- The timeline ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the timeline, newest first: (time, kind, id) compared as a tuple."""

    at: datetime
    kind: str
    id: int

    def encode(self) -> str:
        return f"{as_utc(self.at).isoformat()}~{self.kind}~{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ValueError for anything that is not a cursor this module wrote."""
        at, kind, ident = text.split("~")
        if kind not in TIMELINE_KINDS or not ident.isdigit() or len(text) > 80:
            raise ValueError("not a timeline cursor")
        return cls(as_utc(datetime.fromisoformat(at)), kind, int(ident))


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    id: int
    row: Any  # the kind's columns, see :func:`_kind_queries`

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.at, self.kind, self.id)


@dataclass
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: Cursor | None


def _older_than(at: Any, ident: Any, kind: str, cursor: Cursor | None) -> ColumnElement[bool]:
    """``(at, kind, id) < cursor`` for rows of one kind (the kind is a constant within its query)."""
    if cursor is None:
        return true()
    if kind < cursor.kind:
        return at <= cursor.at
    if kind > cursor.kind:
        return at < cursor.at
    return or_(at < cursor.at, and_(at == cursor.at, ident < cursor.id))


def _kind_queries(profile_id: int, cursor: Cursor | None, limit: int) -> dict[str, Any]:
    """One statement per kind, each at most ``limit`` rows, newest first."""
    staff_name = and_(StaffMember.tenant_id == ContactMoment.tenant_id, StaffMember.id == ContactMoment.staff_id)
    linked_case = and_(Case.tenant_id == ContactMoment.tenant_id, Case.id == ContactMoment.case_id)
    return {
        "zaak": select(Case.id, Case.created_at.label("at"), Case.reference, Case.kind, Case.type_code,
                       Case.status, Case.channel)
        .where(Case.profile_id == profile_id, _older_than(Case.created_at, Case.id, "zaak", cursor))
        .order_by(Case.created_at.desc(), Case.id.desc()).limit(limit),
        "contact": select(ContactMoment.id, ContactMoment.created_at.label("at"), ContactMoment.channel,
                          ContactMoment.topic, ContactMoment.summary, ContactMoment.outcome,
                          Case.reference, Account.name.label("staff_name"))
        .outerjoin(Case, linked_case).outerjoin(StaffMember, staff_name)
        .outerjoin(Account, Account.id == StaffMember.account_id)
        .where(ContactMoment.profile_id == profile_id,
               _older_than(ContactMoment.created_at, ContactMoment.id, "contact", cursor))
        .order_by(ContactMoment.created_at.desc(), ContactMoment.id.desc()).limit(limit),
        "toestemming": select(ConsentRecord.id, ConsentRecord.created_at.label("at"), ConsentRecord.purpose_code,
                              ConsentRecord.granted, ConsentRecord.channel, ConsentRecord.actor_kind)
        .where(ConsentRecord.profile_id == profile_id,
               _older_than(ConsentRecord.created_at, ConsentRecord.id, "toestemming", cursor))
        .order_by(ConsentRecord.created_at.desc(), ConsentRecord.id.desc()).limit(limit),
        "voorkeur": select(PreferenceChange.id, PreferenceChange.created_at.label("at"), PreferenceChange.fields,
                           PreferenceChange.channel, PreferenceChange.actor_kind)
        .where(PreferenceChange.profile_id == profile_id,
               _older_than(PreferenceChange.created_at, PreferenceChange.id, "voorkeur", cursor))
        .order_by(PreferenceChange.created_at.desc(), PreferenceChange.id.desc()).limit(limit),
    }


def timeline(db: Session, profile: Profile, cursor: Cursor | None = None, page_size: int = PAGE_SIZE) -> TimelinePage:
    """Cases and questions, contact moments, consent and preference changes, newest first.

    Four statements whatever the history holds: each kind gives at most ``page_size + 1`` rows
    older than ``cursor``; the merge keeps the page and knows whether an older one exists.
    """
    items = [TimelineItem(as_utc(row.at), kind, row.id, row)
             for kind, statement in _kind_queries(profile.id, cursor, page_size + 1).items()
             for row in db.execute(statement)]
    items.sort(key=lambda item: item.cursor, reverse=True)
    page = items[:page_size]
    return TimelinePage(page, page[-1].cursor if len(items) > page_size else None)


# --- The 360° view --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldView:
    """One profile field as staff may see it: the value, or why it is hidden."""

    name: str
    value: Any
    hidden_because: str | None  # the title of the purpose that does not allow it


@dataclass
class PersonView:
    profile: Profile
    consents: Consents
    fields: dict[str, FieldView]
    timeline: TimelinePage
    recent_cases: list[Any]
    open_questions: list[Any] = field(default_factory=list)


def field_views(profile: Profile, consents: Consents, language: str) -> dict[str, FieldView]:
    """Every profile field, with the value only where its purpose allows it."""
    views = {}
    for name in PROFILE_FIELDS:
        if consents.field_allowed(name):
            views[name] = FieldView(name, getattr(profile, name), None)
        else:
            purpose = consents.purpose_of_field(name)
            assert purpose is not None  # a field without a purpose is always allowed
            views[name] = FieldView(name, None, purpose.text("title", language))
    return views


def recent_cases(db: Session, profile: Profile) -> list[Any]:
    """The profile's latest cases (for the linked-case choice and the open questions), one statement."""
    return list(db.execute(select(Case.id, Case.reference, Case.kind, Case.status, Case.description,
                                  Case.purged_at)
                           .where(Case.profile_id == profile.id).order_by(Case.id.desc()).limit(RECENT_CASES)))


def person_view(db: Session, tenant: Tenant, profile: Profile, language: str,
                cursor: Cursor | None = None) -> PersonView:
    """Everything the 360° view shows except plugin sections and knowledge suggestions (the view adds
    those): six statements in all, whatever the profile's history holds."""
    consents = consents_for(db, tenant, profile)
    cases = recent_cases(db, profile)
    open_questions = [c for c in cases if c.kind == "vraag" and c.status in OPEN_STATES and c.purged_at is None]
    return PersonView(profile, consents, field_views(profile, consents, language), timeline(db, profile, cursor),
                      cases, open_questions)
