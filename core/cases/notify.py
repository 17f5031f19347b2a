"""What residents are told, and how: by e-mail, or by letter for those who want no digital contact.

Followers are told only once they confirmed their address, and every mail to them ends with an
unsubscribe link (see :mod:`core.cases.following` for why it is signed rather than a stored token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.lifecycle import resolution_label, status_label
from core.cases.models import Case, CaseFollower
from core.cases.types import case_types_for
from core.outbox.service import enqueue
from core.profiles.models import Profile
from core.profiles.purposes import allows
from core.tenancy.models import Tenant


def kind_label(kind: str) -> str:
    return _("melding") if kind == "melding" else _("vraag")


def follow_url(tenant: Tenant, token: str) -> str:
    return f"{current_app.config['BASE_URL']}/{tenant.slug}/opvolging/{token}"


def follower_url(tenant: Tenant, value: str) -> str:
    """A follower's link: the confirmation token, or the signed unsubscribe value."""
    return f"{current_app.config['BASE_URL']}/{tenant.slug}/volgen/{value}"


def unsubscribe_value(follower: CaseFollower) -> str:
    """``<id>-<HMAC>``: names one follower row; only the instance secret can make it.

    The MAC also covers the tenant and the row's token hash, so a link outlives no row: a new row
    that happens to get a deleted row's id (SQLite may reuse it) is not reached by the old link.
    """
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"fygitaal:follower-unsubscribe", hashlib.sha256)
    message = f"{follower.tenant_id}:{follower.id}:{follower.token_hash}".encode()
    mac = hmac.new(key.digest(), message, hashlib.sha256).digest()
    return f"{follower.id}-{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


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


def follow_confirmation(db: Session, tenant: Tenant, case: Case, email: str, token: str, at: datetime) -> None:
    """The one mail an address gets before its owner agrees: the confirmation link, and what silence means."""
    case_type = case_types_for(tenant).get(case.type_code)
    with force_locale(case.language):
        subject = _("Bevestig dat u melding %(reference)s wilt volgen", reference=case.reference)
        body = _("Dag,\n\nIemand vroeg om melding %(reference)s (%(type)s) bij gemeente %(tenant)s te volgen met "
                 "dit e-mailadres. Was u dat? Bevestig het via %(url)s\n\nWas u het niet? Dan hoeft u niets te "
                 "doen: zonder bevestiging sturen we u hierover niets meer en wissen we uw adres na 7 dagen.\n\n"
                 "Met vriendelijke groeten,\nGemeente %(tenant)s",
                 reference=case.reference, type=case_type.label(case.language) if case_type else case.type_code,
                 tenant=tenant.name, url=follower_url(tenant, token))
    enqueue(db, channel="e-mail", recipient=email, subject=subject, body=body, at=at, language=case.language,
            case_id=case.id)


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
    """Tell the reporter and every confirmed follower what changed (followers only by e-mail, each
    mail with its own way out)."""
    with force_locale(case.language):
        subject, body = _news(tenant, case, message)
    _deliver_to_reporter(db, tenant, case, subject, body, at)
    confirmed = select(CaseFollower).where(CaseFollower.case_id == case.id, CaseFollower.confirmed_at.is_not(None))
    for follower in db.scalars(confirmed.order_by(CaseFollower.id)):
        with force_locale(case.language):
            way_out = _("U volgt deze melding. Wilt u hierover geen e-mails meer? Schrijf u uit via %(url)s",
                        url=follower_url(tenant, unsubscribe_value(follower)))
        enqueue(db, channel="e-mail", recipient=follower.email, subject=subject, body=f"{body}\n\n{way_out}",
                at=at, language=case.language, case_id=case.id)


def message_to_reporter(db: Session, tenant: Tenant, case: Case, text: str, at: datetime) -> None:
    with force_locale(case.language):
        subject = _("Bericht over %(reference)s", reference=case.reference)
        body = f"{text}\n\n" + _("Gemeente %(tenant)s", tenant=tenant.name)
    _deliver_to_reporter(db, tenant, case, subject, body, at)
