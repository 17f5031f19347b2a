"""QR shares: a resident shows chosen profile fields and cases to one recipient, briefly.

The QR holds only a link with a random token (``secrets.token_urlsafe(32)``, 256 bits); the
database keeps its SHA-256 hash, so a copy of the database cannot open a share. A share for a
municipality opens only for that municipality's active staff; a share for "whoever I show this
to" opens for anyone. Every successful opening counts one view and is written to the resident's
access log (chained per issuing municipality); a refused opening counts nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.models import Case
from core.clock import as_utc
from core.identity.models import Account, StaffMember
from core.profiles.access_log import record_access
from core.profiles.models import AccessLogEntry, Profile, Share
from core.profiles.purposes import PROFILE_FIELDS
from core.tenancy.isolation import across_tenants, set_tenant
from core.tenancy.models import Tenant
from core.tenancy.service import tenant_by_slug

WINDOW_CHOICES = (5, 15, 30, 60, 240, 1440)  # minutes
DEFAULT_WINDOW = 15
MIN_WINDOW, MAX_WINDOW = 5, 24 * 60
MAX_VIEWS = 20
MAX_PURPOSE = 200
MAX_CASES = 50
ANYONE = "iedereen"  # the recipient value for "whoever I show this to"
CASES_ITEM = "zaken"  # what the access log names when cases were shown
# Stored in the (hash-chained) access log, so in one fixed language: the log is evidence, not a page.
ANYONE_LABEL = "Iemand aan wie u de code toonde"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{40,64}$")


class ShareError(ValueError):
    """A share that cannot be made; ``errors`` maps each form field to what to fix. Nothing stored."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class ShareRefused(Exception):
    """The link does not open for this person (wrong or no municipality); no view was counted."""


class ShareGone(Exception):
    """The share is expired, used up or revoked (410); ``state`` says which."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


@dataclass(frozen=True)
class ShareRequest:
    """What the resident chose, as the form sent it (strings are checked by :func:`create_share`)."""

    fields: list[str]
    case_ids: list[str]
    recipient: str  # ANYONE or a municipality's slug
    purpose: str
    window_minutes: str
    max_views: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cases_of(db: Session, profile: Profile) -> list[Case]:
    """The profile's cases in the session's municipality, newest first: what can be shared."""
    return list(db.scalars(select(Case).where(Case.profile_id == profile.id)
                           .order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_CASES)))


def _whole_number(value: str, low: int, high: int) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


def _clean(db: Session, profile: Profile, request: ShareRequest) -> tuple[list[str], list[int], Tenant | None, str,
                                                                          int, int]:
    """Check every choice at once; raise :class:`ShareError` listing every problem."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    fields = list(dict.fromkeys(request.fields))
    if any(name not in PROFILE_FIELDS for name in fields):
        add("velden", _("Kies alleen gegevens uit de lijst."))
    own = {case.id for case in cases_of(db, profile)}
    case_ids: list[int] = []
    for raw in dict.fromkeys(request.case_ids):
        number = _whole_number(raw, 1, 2**63 - 1)
        if number is None or number not in own:
            add("zaken", _("Kies alleen uw eigen meldingen en vragen bij deze gemeente."))
            break
        case_ids.append(number)
    if not fields and not case_ids and "velden" not in errors and "zaken" not in errors:
        add("velden", _("Kies minstens één gegeven of één melding om te delen."))
    recipient: Tenant | None = None
    if request.recipient != ANYONE:
        recipient = tenant_by_slug(db, request.recipient) if request.recipient else None
        if recipient is None:
            add("ontvanger", _("Kies een gemeente uit de lijst, of iedereen aan wie u de code toont."))
    purpose = " ".join(request.purpose.split())
    if not purpose:
        add("doel", _("Zeg waarvoor u deze gegevens deelt."))
    elif len(purpose) > MAX_PURPOSE:
        add("doel", _("Hoogstens %(n)s tekens.", n=MAX_PURPOSE))
    window = _whole_number(request.window_minutes, MIN_WINDOW, MAX_WINDOW)
    if window is None:
        add("duur", _("Kies een duur van minstens 5 minuten en hoogstens 24 uur."))
    views = _whole_number(request.max_views, 1, MAX_VIEWS)
    if views is None:
        add("bekijken", _("Kies hoe vaak de code bekeken mag worden: 1 tot %(n)s keer.", n=MAX_VIEWS))
    if errors or window is None or views is None:
        raise ShareError(errors)
    return fields, case_ids, recipient, purpose, window, views


def create_share(db: Session, profile: Profile, request: ShareRequest, *, at: datetime) -> tuple[Share, str]:
    """Make a share in the session's municipality; return it with the token (shown once, never stored)."""
    fields, case_ids, recipient, purpose, window, views = _clean(db, profile, request)
    token = secrets.token_urlsafe(32)
    share = Share(profile_id=profile.id, token_hash=hash_token(token), fields=fields, case_ids=case_ids,
                  recipient_tenant_id=recipient.id if recipient else None, purpose=purpose, max_views=views,
                  views=0, created_at=at, expires_at=at + timedelta(minutes=window))
    db.add(share)
    db.flush()
    return share, token


def state_of(share: Share, at: datetime) -> str:
    """actief, ingetrokken, opgebruikt or verlopen (in that order of precedence)."""
    if share.revoked_at is not None:
        return "ingetrokken"
    if share.views >= share.max_views:
        return "opgebruikt"
    if as_utc(share.expires_at) <= at:
        return "verlopen"
    return "actief"


def share_by_token(db: Session, token: str) -> Share | None:
    """The share behind a link, in any municipality (the link names none); None for a wrong token."""
    if not _TOKEN.match(token):
        return None
    with across_tenants(db, "a share link names no municipality: find its share by the token's hash"):
        return db.scalar(select(Share).where(Share.token_hash == hash_token(token)))


def _viewer_label(db: Session, share: Share, account_id: int | None) -> str:
    """Who is opening: the recipient municipality's active staff member, or anyone; else refused."""
    if share.recipient_tenant_id is None:
        return ANYONE_LABEL
    if account_id is None:
        raise ShareRefused
    set_tenant(db, share.recipient_tenant_id)
    staff = db.scalar(select(StaffMember).where(StaffMember.account_id == account_id,
                                                StaffMember.active.is_(True)))
    if staff is None:
        raise ShareRefused
    account = db.get(Account, account_id)
    municipality = db.get(Tenant, share.recipient_tenant_id)
    name = (account.name if account else "") or "Een medewerker"
    return f"{name}, gemeente {municipality.name if municipality else ''}"


def shown_items(share: Share) -> list[str]:
    return [*share.fields, CASES_ITEM] if share.case_ids else list(share.fields)


def open_share(db: Session, share: Share, *, account_id: int | None, instance_secret: str, at: datetime) -> Share:
    """Count one view and log it for the resident; raise :class:`ShareRefused` or :class:`ShareGone`.

    Who may open is checked first: someone a municipality's share is not for learns nothing, not
    even whether it expired.

    Leaves the session scoped to the share's municipality (the caller commits). The row is locked
    while counting, so two scans of a one-view code cannot both get in.
    """
    label = _viewer_label(db, share, account_id)
    set_tenant(db, share.tenant_id)
    locked = db.scalar(select(Share).where(Share.id == share.id).with_for_update()
                       .execution_options(populate_existing=True))
    if locked is None:
        raise ShareRefused
    state = state_of(locked, at)
    if state != "actief":
        raise ShareGone(state)
    locked.views += 1
    record_access(db, instance_secret=instance_secret, tenant_id=locked.tenant_id, profile_id=locked.profile_id,
                  actor_kind="deellink", actor_label=label, reason=locked.purpose, shown=shown_items(locked), at=at,
                  share_id=locked.id)
    return locked


def revoke_share(db: Session, share: Share, at: datetime) -> None:
    """Stop the link from opening again (a second revocation keeps the first time)."""
    if share.revoked_at is None:
        share.revoked_at = at
        db.flush()


def share_of_profile(db: Session, profile: Profile, share_id: int) -> Share | None:
    """One of the profile's shares in the session's municipality; None for anyone else's."""
    return db.scalar(select(Share).where(Share.id == share_id, Share.profile_id == profile.id))


def shares_of(db: Session, profile: Profile, at: datetime, limit: int = 100) -> tuple[list[Share], list[Share]]:
    """The profile's shares, newest first: (still usable, expired/used up/revoked)."""
    shares = list(db.scalars(select(Share).where(Share.profile_id == profile.id)
                             .order_by(Share.id.desc()).limit(limit)))
    active = [s for s in shares if state_of(s, at) == "actief"]
    return active, [s for s in shares if state_of(s, at) != "actief"]


def views_of(db: Session, share: Share) -> list[AccessLogEntry]:
    """The access-log rows of this share's views, oldest first."""
    return list(db.scalars(select(AccessLogEntry).where(AccessLogEntry.share_id == share.id)
                           .order_by(AccessLogEntry.id)))
