"""What residents are told, and how: by e-mail, or by letter for those who want no digital contact."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.lifecycle import resolution_label, status_label
from core.cases.models import Case, CaseFollower
from core.outbox.service import enqueue
from core.profiles.models import Profile
from core.profiles.purposes import allows
from core.tenancy.models import Tenant


def kind_label(kind: str) -> str:
    return _("melding") if kind == "melding" else _("vraag")


def follow_url(tenant: Tenant, token: str) -> str:
    return f"{current_app.config['BASE_URL']}/{tenant.slug}/opvolging/{token}"


def reply_route(db: Session, tenant: Tenant, case: Case) -> tuple[str, str] | None:
    """How to reach the reporter: (channel, recipient), or None when no allowed way is known.

    Someone who wants no digital contact gets letters, never e-mail. An e-mail address given for
    this case serves this case; the profile's address is used only while consent allows it.
    """
    profile = None
    if case.profile_id is not None:
        profile = db.scalar(select(Profile).where(Profile.id == case.profile_id))
    name = case.reporter_name or (profile.name if profile else None)
    postal = case.reporter_address or (profile.address if profile else None)
    letter = ("brief", "\n".join(filter(None, [name, postal]))) if postal else None
    if profile is not None and profile.no_digital_contact:
        return letter
    if "brief" in (case.preferred_channel, profile.preferred_channel if profile else None) and letter:
        return letter
    if case.reporter_email:
        return "e-mail", case.reporter_email
    if profile is not None and profile.email and allows(db, tenant, profile, "contact_email"):
        return "e-mail", profile.email
    return None


def _deliver_to_reporter(db: Session, tenant: Tenant, case: Case, subject: str, body: str, at: datetime) -> None:
    route = reply_route(db, tenant, case)
    if route is not None:
        channel, recipient = route
        enqueue(db, channel=channel, recipient=recipient, subject=subject, body=body, at=at,
                language=case.language, case_id=case.id)


def case_received(db: Session, tenant: Tenant, case: Case, token: str, at: datetime) -> None:
    with force_locale(case.language):
        subject = _("Uw %(kind)s %(reference)s is ontvangen", kind=kind_label(case.kind), reference=case.reference)
        body = _("Dag %(name)s,\n\nGemeente %(tenant)s heeft uw %(kind)s goed ontvangen. Het "
                 "referentienummer is %(reference)s.\nU volgt ze op via %(url)s\n\nMet vriendelijke groeten,\n"
                 "Gemeente %(tenant)s",
                 name=case.reporter_name or _("inwoner"), tenant=tenant.name, kind=kind_label(case.kind),
                 reference=case.reference, url=follow_url(tenant, token))
    _deliver_to_reporter(db, tenant, case, subject, body, at)


def _news(tenant: Tenant, case: Case, intro: str | None = None) -> tuple[str, str]:
    """Subject and body announcing ``case``'s state, in the current locale."""
    subject = _("Nieuws over %(reference)s: %(status)s", reference=case.reference, status=status_label(case.status))
    lines = [intro] if intro else []
    lines.append(_("De status van %(reference)s is nu: %(status)s.", reference=case.reference,
                   status=status_label(case.status)))
    if case.resolution:
        lines.append(resolution_label(case.resolution) + (f" — {case.resolution_note}" if case.resolution_note else ""))
    if case.referred_to:
        lines.append(_("Doorverwezen naar: %(who)s", who=case.referred_to))
    return subject, "\n\n".join([*lines, _("Gemeente %(tenant)s", tenant=tenant.name)])


def parent_changed(db: Session, tenant: Tenant, merged: Case, parent: Case, at: datetime) -> None:
    """The reporter of a merged duplicate hears what happened to the report it was merged into."""
    with force_locale(merged.language):
        subject, body = _news(tenant, parent, _(
            "Uw melding %(mine)s werd samengevoegd met %(parent)s, die we nu samen opvolgen.",
            mine=merged.reference, parent=parent.reference))
    _deliver_to_reporter(db, tenant, merged, subject, body, at)


def merged(db: Session, tenant: Tenant, duplicate: Case, parent: Case, at: datetime) -> None:
    """The duplicate's reporter (and followers) learn it is now followed up as ``parent``."""
    with force_locale(duplicate.language):
        intro = _("Uw melding gaat over hetzelfde als %(parent)s. We volgen die samen op en houden u op de "
                  "hoogte.", parent=parent.reference)
    case_changed(db, tenant, duplicate, at, message=intro)


def case_changed(db: Session, tenant: Tenant, case: Case, at: datetime, message: str | None = None) -> None:
    """Tell the reporter and every follower what changed (followers only by e-mail)."""
    with force_locale(case.language):
        subject, body = _news(tenant, case, message)
    _deliver_to_reporter(db, tenant, case, subject, body, at)
    for email in db.scalars(select(CaseFollower.email).where(CaseFollower.case_id == case.id)):
        enqueue(db, channel="e-mail", recipient=email, subject=subject, body=body, at=at,
                language=case.language, case_id=case.id)


def message_to_reporter(db: Session, tenant: Tenant, case: Case, text: str, at: datetime) -> None:
    with force_locale(case.language):
        subject = _("Bericht over %(reference)s", reference=case.reference)
        body = f"{text}\n\n" + _("Gemeente %(tenant)s", tenant=tenant.name)
    _deliver_to_reporter(db, tenant, case, subject, body, at)
