"""The one intake service: every channel (web, app, API, Open311, e-mail, phone, desk, letter)
files a case through :func:`submit_case`, so every case is checked and stored the same way."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.cases import geo, notify
from core.cases.attachments import PhotoRejected, clean_photo, new_key
from core.cases.forms import explain_data_errors
from core.cases.lifecycle import OPEN_STATES, record
from core.cases.models import CHANNELS, Attachment, Case, ReferenceCounter
from core.cases.types import CaseType, case_types_for
from core.identity.models import Account
from core.plugins.manager import call_impl
from core.profiles.service import ensure_profile
from core.storage import storage
from core.tenancy.models import Department, Tenant

log = logging.getLogger("fygitaal.cases")

MAX_DESCRIPTION = 4000
MAX_PHOTOS = 5
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class IntakeError(ValueError):
    """The input cannot become a case; ``errors`` maps each field to what to fix. Nothing is stored."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class IntakeRequest:
    """What any channel hands to the intake service."""

    type_code: str
    description: str
    data: dict[str, Any] = field(default_factory=dict)
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    reporter_name: str | None = None
    reporter_email: str | None = None
    reporter_phone: str | None = None
    reporter_address: str | None = None
    preferred_channel: str | None = None
    reporter_account_id: int | None = None
    profile_id: int | None = None  # staff filing on behalf of a person at the desk
    photos: list[bytes] = field(default_factory=list)
    language: str = "nl"


@dataclass
class IntakeResult:
    case: Case
    follow_token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def next_reference(db: Session, prefix: str, year: int) -> str:
    """``<PREFIX>-<YYYY>-<seq>``, numbered per municipality; the counter row is locked meanwhile."""
    for _attempt in range(3):
        counter = db.scalar(select(ReferenceCounter).where(ReferenceCounter.prefix == prefix,
                                                           ReferenceCounter.year == year).with_for_update())
        if counter is None:
            try:
                with db.begin_nested():
                    counter = ReferenceCounter(prefix=prefix, year=year, last=0)
                    db.add(counter)
            except IntegrityError:
                continue  # another intake created it first; lock theirs
        counter.last += 1
        return f"{prefix}-{year}-{counter.last:05d}"
    raise RuntimeError("could not number the case")


def _check(tenant: Tenant, request: IntakeRequest, case_type: CaseType | None,
           channel: str) -> tuple[dict[str, list[str]], dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if channel not in CHANNELS:
        add("channel", f"unknown channel {channel!r}")
    if case_type is None:
        add("type", _("Kies een soort melding of vraag uit de lijst."))
        return errors, data
    description = (request.description or "").strip()
    if not description:
        add("description", _("Beschrijf wat er aan de hand is."))
    elif len(description) > MAX_DESCRIPTION:
        add("description", _("De beschrijving mag hoogstens %(n)s tekens lang zijn.", n=MAX_DESCRIPTION))
    if case_type.schema is not None:
        try:
            data = case_type.schema().load(request.data or {})
        except ValidationError as exc:
            errors.update(explain_data_errors(case_type, exc.messages, request.language))
    elif request.data:
        add("data", _("Deze soort melding heeft geen extra velden."))
    if request.lat is not None or request.lon is not None:
        if request.lat is None or request.lon is None or not geo.valid_wgs84(request.lat, request.lon):
            add("location", _("Geef een geldige plaats (breedte- en lengtegraad in WGS84)."))
        elif not geo.contains(tenant, request.lat, request.lon):
            add("location", _("Deze plaats ligt niet in gemeente %(name)s.", name=tenant.name))
    elif case_type.location_required and not (request.address or "").strip():
        add("location", _("Duid de plaats aan op de kaart of geef een adres."))
    if request.reporter_email and not EMAIL_PATTERN.match(request.reporter_email):
        add("email", _("Dit e-mailadres is niet geldig."))
    if not case_type.anonymous_allowed and not (request.reporter_account_id or request.profile_id
                                                or request.reporter_email
                                                or request.reporter_phone or request.reporter_address):
        add("contact", _("Voor deze vraag hebben we een manier nodig om u te antwoorden."))
    if request.preferred_channel == "brief" and not (request.reporter_address or "").strip():
        add("address", _("Voor een antwoord per brief hebben we uw adres nodig."))
    if len(request.photos) > MAX_PHOTOS:
        add("photos", _("U kunt hoogstens %(n)s foto's meesturen.", n=MAX_PHOTOS))
    return errors, data


def _clip(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None


def submit_case(db: Session, tenant: Tenant, request: IntakeRequest, *, channel: str, actor: str,
                at: datetime) -> IntakeResult:
    """Check everything, then store the case, its photos, its first event and its notification.

    Raises :class:`IntakeError` (nothing stored) with every problem at once. The caller commits,
    and calls :func:`announce` after the commit.
    """
    case_type = case_types_for(tenant).get(request.type_code)
    errors, data = _check(tenant, request, case_type, channel)
    photos = []
    for raw in request.photos:
        try:
            photos.append(clean_photo(raw, current_app.config["MAX_PHOTO_BYTES"]))
        except PhotoRejected as exc:
            errors.setdefault("photos", []).append(str(exc))
    if case_type is not None and not errors:
        hooks = current_app.extensions["fygitaal.plugins"].hooks_for(tenant)
        for problems in hooks.fygitaal_validate_case(session=db, tenant=tenant, case_type=case_type.code,
                                                     data=data):
            for problem in problems or []:
                errors.setdefault("data", []).append(problem)
    if errors:
        raise IntakeError(errors)
    assert case_type is not None
    department = None
    if case_type.department:
        department = db.scalar(select(Department.id).where(Department.code == case_type.department))
    profile_id = request.profile_id
    if profile_id is None and request.reporter_account_id is not None:
        account = db.get(Account, request.reporter_account_id)
        profile_id = ensure_profile(db, account, at).id if account else None
    token = secrets.token_urlsafe(24)
    case = Case(
        reference=next_reference(db, case_type.prefix, at.year), type_code=case_type.code,
        kind=case_type.kind, status="nieuw", channel=channel, description=request.description.strip(),
        data=data, lat=request.lat, lon=request.lon, address=_clip(request.address, 300),
        department_id=department, reporter_account_id=request.reporter_account_id, profile_id=profile_id,
        reporter_name=_clip(request.reporter_name, 200), reporter_email=_clip(request.reporter_email, 254),
        reporter_phone=_clip(request.reporter_phone, 40), reporter_address=_clip(request.reporter_address, 300),
        preferred_channel=request.preferred_channel, language=request.language,
        follow_token_hash=token_hash(token), created_at=at, updated_at=at, last_activity_at=at,
        due_at=at + timedelta(days=case_type.target_days),
    )
    db.add(case)
    db.flush()
    for photo in photos:
        key = new_key(tenant.slug)
        storage().put(key, photo.data)
        db.add(Attachment(case_id=case.id, storage_key=key, content_type=photo.content_type,
                          size=len(photo.data), width=photo.width, height=photo.height, created_at=at))
    record(db, case, "created", actor, at, visible=True, to_status="nieuw")
    notify.case_received(db, tenant, case, token, at)
    db.flush()
    return IntakeResult(case, token)


def announce(tenant: Tenant, case: Case, db: Session) -> None:
    """After the commit: plugins hear of the new case; a failing plugin is logged, the case stays."""
    hooks = current_app.extensions["fygitaal.plugins"].hooks_for(tenant)
    for impl in hooks.fygitaal_case_created.get_hookimpls():
        try:
            call_impl(impl, {"session": db, "tenant": tenant, "case": case})
        except Exception:
            log.exception("plugin %s failed in fygitaal_case_created", impl.plugin_name,
                          extra={"plugin": impl.plugin_name, "case": case.reference})


def case_by_token(db: Session, token: str) -> Case | None:
    """The case a follow-up link points to (the token itself is never stored); a purged case has none."""
    if not token or len(token) > 100:
        return None
    return db.scalar(select(Case).where(Case.follow_token_hash == token_hash(token), Case.purged_at.is_(None)))


def nearby_open_cases(db: Session, type_code: str, lat: float, lon: float, radius_m: float,
                      exclude_id: int | None = None, limit: int = 10) -> list[tuple[Case, float]]:
    """Open reports of the same type within ``radius_m``, nearest first (duplicates; never questions)."""
    min_lat, max_lat, min_lon, max_lon = geo.bounding_box(lat, lon, radius_m)
    candidates = db.scalars(
        select(Case).where(Case.type_code == type_code, Case.kind == "melding", Case.status.in_(OPEN_STATES),
                           Case.lat.between(min_lat, max_lat), Case.lon.between(min_lon, max_lon))
        .limit(200)
    )
    found = [(c, geo.distance_m(lat, lon, c.lat, c.lon)) for c in candidates if c.id != exclude_id]
    return sorted([f for f in found if f[1] <= radius_m], key=lambda f: f[1])[:limit]
