"""Erasure requests (GDPR art. 17): the resident asks, the municipality carries out or refuses.

Only what consent-based purposes hold can be asked for: data under a public task or a legal
obligation stays while that basis lasts. Carrying a request out runs the plugins'
``fygitaal_erase_profile`` and the core's own erasure inside one savepoint, plugins first: a
failing plugin leaves nothing half-done, and the request stays open with a note naming it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.i18n import select_locale
from core.plugins.manager import call_impl
from core.profiles.models import ErasureRequest, Profile
from core.profiles.purposes import Purpose, catalogue_for
from core.profiles.service import Actor, record_consent, update_preferences
from core.tenancy.models import Tenant

log = logging.getLogger(__name__)

OPEN, CARRIED_OUT, REFUSED = "open", "uitgevoerd", "geweigerd"
MAX_EXPLANATION = 2000
# What an erased profile field becomes; the contact language is never erased (language law).
EMPTY_VALUES: dict[str, Any] = {"name": "", "address": "", "email": "", "phone": "", "assistance_needs": "",
                                "birth_date": None, "preferred_channel": None, "no_digital_contact": False}


class ErasureError(ValueError):
    """A request that cannot be made or handled; ``messages`` are for the person asking."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def erasable_purposes(tenant: Tenant) -> list[Purpose]:
    """The purposes a resident may ask to erase: only those based on their consent."""
    return [purpose for purpose in catalogue_for(tenant).values() if purpose.is_choice]


def open_request(db: Session, profile: Profile) -> ErasureRequest | None:
    return db.scalar(select(ErasureRequest).where(ErasureRequest.profile_id == profile.id,
                                                  ErasureRequest.status == OPEN))


def requests_of(db: Session, profile: Profile) -> list[ErasureRequest]:
    """The profile's requests, newest first, with their outcome."""
    return list(db.scalars(select(ErasureRequest).where(ErasureRequest.profile_id == profile.id)
                           .order_by(ErasureRequest.id.desc())))


def open_requests(db: Session) -> list[tuple[ErasureRequest, Profile]]:
    """The municipality's queue (the session is scoped to it), oldest first."""
    return [(row.ErasureRequest, row.Profile) for row in db.execute(
        select(ErasureRequest, Profile).join(Profile, Profile.id == ErasureRequest.profile_id)
        .where(ErasureRequest.status == OPEN).order_by(ErasureRequest.id))]


def request_erasure(db: Session, tenant: Tenant, profile: Profile, purposes: Iterable[str],
                    at: datetime) -> ErasureRequest:
    """Store a request for the given consent purposes; raises :class:`ErasureError` and stores nothing."""
    chosen = list(dict.fromkeys(purposes))
    catalogue = catalogue_for(tenant)
    language = select_locale()
    errors = []
    if not chosen:
        errors.append(_("Kies minstens één doel waarvan u de gegevens wilt laten wissen."))
    for code in chosen:
        purpose = catalogue.get(code)
        if purpose is None:
            errors.append(_("Dit doel bestaat niet bij gemeente %(name)s.", name=tenant.name))
        elif not purpose.is_choice:
            errors.append(_("‘%(title)s’ kunt u niet laten wissen: %(why)s", title=purpose.text("title", language),
                            why=purpose.text("refusal", language)))
    if open_request(db, profile) is not None:
        errors.append(_("U hebt al een verzoek dat de gemeente nog behandelt. Wacht tot het afgehandeld is."))
    if errors:
        raise ErasureError(errors)
    request = ErasureRequest(profile_id=profile.id, purposes=chosen, status=OPEN, created_at=at)
    db.add(request)
    db.flush()
    return request


def _ensure_open(db: Session, request: ErasureRequest) -> None:
    """Re-read the request under a row lock: of two admins handling it at once, only the first acts."""
    db.refresh(request, with_for_update=True)
    if request.status != OPEN:
        raise ErasureError([_("Dit verzoek is al afgehandeld.")])


def _erase_in_core(db: Session, tenant: Tenant, profile: Profile, purposes: list[str], staff_id: int,
                   at: datetime) -> None:
    """Empty the profile fields the purposes cover and record the withdrawal of each consent."""
    catalogue = catalogue_for(tenant)
    fields = {name for code in purposes for name in catalogue[code].profile_fields if name in EMPTY_VALUES}
    actor = Actor.staff(staff_id, "web")
    update_preferences(db, profile, {name: EMPTY_VALUES[name] for name in sorted(fields)}, actor=actor, at=at)
    for code in purposes:
        record_consent(db, tenant, profile, code, False, actor=actor, language=profile.language, at=at)


def carry_out(db: Session, tenant: Tenant, request: ErasureRequest, staff_id: int, at: datetime) -> ErasureRequest:
    """Erase in the plugins, then in the core, all or nothing; mark the request ``uitgevoerd``.

    A purpose that left the catalogue since the request was made is skipped (nothing holds data
    under it any more). When a plugin fails, the savepoint is rolled back, the request stays open
    with a note naming the plugin, and :class:`ErasureError` is raised (the caller commits the note).
    """
    _ensure_open(db, request)
    profile = db.get(Profile, request.profile_id)
    assert profile is not None  # the foreign key keeps the profile while a request points to it
    purposes = [code for code in request.purposes if code in {p.code for p in erasable_purposes(tenant)}]
    hooks = current_app.extensions["fygitaal.plugins"].hooks_for(tenant)
    failed = None
    savepoint = db.begin_nested()
    try:
        for impl in hooks.fygitaal_erase_profile.get_hookimpls():
            failed = impl.plugin_name
            call_impl(impl, {"session": db, "tenant": tenant, "profile": profile, "purposes": purposes})
            db.flush()
        failed = None
        _erase_in_core(db, tenant, profile, purposes, staff_id, at)
    except Exception:
        savepoint.rollback()
        if failed is None:
            raise
        log.exception("plugin %s failed in fygitaal_erase_profile", failed, extra={"plugin": failed})
        request.explanation = _("Niet uitgevoerd: de module %(plugin)s kon de gegevens niet wissen. Niets is "
                                "gewist; probeer het later opnieuw.", plugin=failed)
        db.flush()
        raise ErasureError([request.explanation]) from None
    savepoint.commit()
    request.status = CARRIED_OUT
    request.explanation = ""
    request.handled_at = at
    request.handled_by_id = staff_id
    db.flush()
    return request


def refuse(db: Session, request: ErasureRequest, explanation: str, staff_id: int, at: datetime) -> ErasureRequest:
    """Refuse with a reason the resident reads (GDPR art. 12(4)); an empty reason is refused."""
    _ensure_open(db, request)
    reason = (explanation or "").strip()
    if not reason:
        raise ErasureError([_("Leg uit waarom het verzoek geweigerd wordt; de inwoner leest die uitleg.")])
    if len(reason) > MAX_EXPLANATION:
        raise ErasureError([_("Hoogstens %(n)s tekens.", n=MAX_EXPLANATION)])
    request.status = REFUSED
    request.explanation = reason
    request.handled_at = at
    request.handled_by_id = staff_id
    db.flush()
    return request
