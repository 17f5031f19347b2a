"""Following a report instead of filing a duplicate: double opt-in, and a way out in every mail.

Anyone can type an address on the follow step, so an address is followed only once its owner says
so (GDPR: consent by the data subject, as easy to withdraw as to give):

- :func:`follow_case` stores an unconfirmed follower with a fresh token (only its SHA-256 is kept)
  and mails one confirmation link ``/<slug>/volgen/<token>``. Asking again while unconfirmed mails
  a new link at most once per :data:`RESEND_AFTER` (no mail bombing a stranger; only the newest link
  works); for a confirmed address nothing is sent.
- Only confirmed followers hear news (:func:`core.cases.notify.case_changed`). The plain token is
  never stored, so news mails cannot repeat it; each carries instead an unsubscribe value
  ``<follower id>-<HMAC>`` (:func:`core.cases.notify.unsubscribe_value`), keyed from the instance's
  SECRET_KEY and covering the tenant, the id and the row's token hash: not guessable, and dead with
  its row. Stateless, so no table holds a usable link and a leaked outbox row does not grow.
- Both links go to the same route: it only trades the link for a session entry and redirects to the
  token-free ``/<slug>/volgen``, which says what the link is for; confirming and unsubscribing are
  POSTs there (no action on GET: mail scanners follow links). A link works while its follower row
  lives; an unconfirmed request only for :data:`CONFIRM_WITHIN`.
- Unsubscribing deletes the row and what the outbox still holds for that address about that case;
  the retention run does the same for requests never confirmed (:func:`forget_unconfirmed_followers`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.cases import notify
from core.cases.intake import EMAIL_PATTERN, IntakeError, token_hash
from core.cases.models import Case, CaseFollower
from core.clock import as_utc
from core.outbox.models import OutboxMessage
from core.tenancy.models import Tenant

CONFIRM_WITHIN = timedelta(days=7)
RESEND_AFTER = timedelta(hours=1)
MAX_EMAIL = 254
_SIGNED = re.compile(r"\d{1,18}-[A-Za-z0-9_-]{43}")

Outcome = Literal["sent", "waiting", "following"]


@dataclass
class FollowResult:
    """``sent``: a confirmation link went out now; ``waiting``: one went out within the hour;
    ``following``: this address confirmed before."""

    follower: CaseFollower
    outcome: Outcome


def follow_case(db: Session, tenant: Tenant, case: Case, email: str, at: datetime) -> FollowResult:
    """Ask the address's owner to confirm following ``case``; raises :class:`IntakeError` (nothing
    stored) for an invalid address. The caller commits."""
    email = (email or "").strip().lower()  # one row per mailbox, whatever the capitals
    if len(email) > MAX_EMAIL or not EMAIL_PATTERN.match(email):
        raise IntakeError({"email": [_("Dit e-mailadres is niet geldig.")]})
    follower = db.scalar(select(CaseFollower).where(CaseFollower.case_id == case.id, CaseFollower.email == email))
    if follower is not None and follower.confirmed_at is not None:
        return FollowResult(follower, "following")
    if follower is not None and at - as_utc(follower.created_at) < RESEND_AFTER:
        return FollowResult(follower, "waiting")
    token = secrets.token_urlsafe(24)
    if follower is None:
        try:
            with db.begin_nested():
                follower = CaseFollower(case_id=case.id, email=email, token_hash=token_hash(token), created_at=at)
                db.add(follower)
        except IntegrityError:  # the same address asked at the same moment: that request mails
            existing = db.scalar(select(CaseFollower).where(CaseFollower.case_id == case.id,
                                                            CaseFollower.email == email))
            assert existing is not None
            return FollowResult(existing, "waiting")
    else:
        follower.token_hash, follower.created_at = token_hash(token), at
    notify.follow_confirmation(db, tenant, case, email, token, at)
    db.flush()
    return FollowResult(follower, "sent")


def _live(follower: CaseFollower | None, at: datetime) -> CaseFollower | None:
    if follower is None or follower.confirmed_at is not None:
        return follower
    return follower if at - as_utc(follower.created_at) < CONFIRM_WITHIN else None


def follower_by_link(db: Session, value: str, at: datetime) -> CaseFollower | None:
    """The follower a mailed link names, in this municipality: a confirmation token or a signed
    unsubscribe value. None for anything unknown, tampered with or expired."""
    if not value or len(value) > 100:
        return None
    follower = db.scalar(select(CaseFollower).where(CaseFollower.token_hash == token_hash(value)))
    if follower is None and _SIGNED.fullmatch(value):
        candidate = follower_by_id(db, int(value.split("-", 1)[0]), at)
        if candidate is not None and secrets.compare_digest(notify.unsubscribe_value(candidate), value):
            follower = candidate
    return _live(follower, at)


def follower_by_id(db: Session, follower_id: int, at: datetime) -> CaseFollower | None:
    """A follower of this municipality that a link brought into the session, while it still counts."""
    return _live(db.scalar(select(CaseFollower).where(CaseFollower.id == follower_id)), at)


def confirm(follower: CaseFollower, at: datetime) -> None:
    """The address's owner agrees: from now on they hear when the case changes."""
    if follower.confirmed_at is None:
        follower.confirmed_at = at


def _forget(db: Session, followers: list[CaseFollower]) -> None:
    """Delete these followers and what the outbox holds for them about their case: waiting mails go,
    delivered ones are emptied (as retention does). Mails to the same address as the case's reporter stay."""
    for follower in followers:
        reporter = db.scalar(select(Case.reporter_email).where(Case.id == follower.case_id))
        if (reporter or "").strip().lower() != follower.email:
            theirs = (OutboxMessage.case_id == follower.case_id, OutboxMessage.recipient == follower.email)
            db.execute(delete(OutboxMessage).where(*theirs, OutboxMessage.status.in_(("pending", "failed"))),
                       execution_options={"synchronize_session": False})
            db.execute(update(OutboxMessage).where(*theirs, OutboxMessage.status == "sent")
                       .values(recipient="", body=""), execution_options={"synchronize_session": False})
        db.delete(follower)
    db.flush()


def unsubscribe(db: Session, follower: CaseFollower) -> None:
    """Withdraw: the follower row goes, and no mail still waiting reaches the address."""
    _forget(db, [follower])


def forget_unconfirmed_followers(db: Session, at: datetime) -> int:
    """Requests to follow that were not confirmed within :data:`CONFIRM_WITHIN` are deleted (with
    their confirmation mails); returns how many. For the retention run, inside ``across_tenants``."""
    stale = list(db.scalars(select(CaseFollower).where(CaseFollower.confirmed_at.is_(None),
                                                       CaseFollower.created_at <= at - CONFIRM_WITHIN)))
    _forget(db, stale)
    return len(stale)


def move_followers(db: Session, duplicate: Case, parent: Case) -> None:
    """At a merge, whoever follows the duplicate follows the parent, confirmed or not as before.

    An address that already follows the parent keeps that row (confirmed if either was).
    """
    on_parent = {f.email: f for f in db.scalars(select(CaseFollower).where(CaseFollower.case_id == parent.id))}
    for follower in list(db.scalars(select(CaseFollower).where(CaseFollower.case_id == duplicate.id))):
        known = on_parent.get(follower.email)
        if known is None:
            follower.case_id = parent.id
            continue
        if known.confirmed_at is None:
            known.confirmed_at = follower.confirmed_at
        db.delete(follower)
    db.flush()
