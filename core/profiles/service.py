"""Profiles and what the resident decides: preferences and consent, recorded with who did it.

The resident changes their own profile from /mijn; front-office staff change it on their behalf
(recorded as such). Only the resident sets the language preference (Flemish language law).
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from core.clock import as_utc
from core.identity import national_number
from core.identity.models import Account
from core.profiles.models import CONTACT_CHANNELS, LANGUAGES, ConsentRecord, PreferenceChange, Profile
from core.profiles.purposes import Purpose, catalogue_for
from core.tenancy.isolation import across_tenants
from core.tenancy.models import Tenant

log = logging.getLogger("fygitaal.profiles")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ./()-]{6,40}$")
DIGITAL_CHANNELS = ("e-mail", "sms", "app")
PREFERENCE_FIELDS = ("name", "birth_date", "address", "email", "phone", "language", "preferred_channel",
                     "no_digital_contact", "assistance_needs")


class ProfileError(ValueError):
    """Input that cannot be stored; ``errors`` maps each field to what to fix. Nothing changed."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Actor:
    """Who makes a change: the resident themselves, or a staff member on their behalf."""

    kind: str  # inwoner | medewerker
    channel: str  # web, balie, telefoon, …
    staff_id: int | None = None

    @classmethod
    def resident(cls, channel: str = "web") -> Actor:
        return cls("inwoner", channel)

    @classmethod
    def staff(cls, staff_id: int, channel: str) -> Actor:
        return cls("medewerker", channel, staff_id)


def phone_digits(phone: str) -> str:
    """``+32 9 123 45 67``, ``0032 9/123.45.67`` and ``09 123 45 67`` all become ``091234567``."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("32") and len(digits) >= 10:
        digits = "0" + digits[2:]
    return digits


def name_key(name: str) -> str:
    """Lower case without accents or double spaces: ``Gaëlle  Désiré`` finds ``gaelle desire``."""
    folded = unicodedata.normalize("NFKD", name or "")
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).lower().split())[:200]


def profile_of_account(db: Session, account_id: int) -> Profile | None:
    """The account's profile in the session's municipality."""
    return db.scalar(select(Profile).where(Profile.account_id == account_id))


def ensure_profile(db: Session, account: Account, at: datetime) -> Profile:
    """The account's profile in the session's municipality, made from the login's name and e-mail."""
    profile = profile_of_account(db, account.id)
    if profile is None:
        profile = Profile(account_id=account.id, name=account.name or "", email=(account.email or "").lower(),
                          created_by="inwoner", created_at=at, updated_at=at)
        _keep_keys(profile)
        db.add(profile)
        db.flush()
    return profile


def _clean(changes: dict[str, Any], actor: Actor, current: Profile | None) -> dict[str, Any]:
    """Check every field at once; raise :class:`ProfileError` with all problems."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in changes:
        if name not in PREFERENCE_FIELDS:
            add(name, _("Dit gegeven bestaat niet in een profiel."))
    for name, limit in (("name", 200), ("address", 300), ("assistance_needs", 1000)):
        if name in changes:
            value = str(changes[name] or "").strip()
            if len(value) > limit:
                add(name, _("Hoogstens %(n)s tekens.", n=limit))
            clean[name] = value
    if "email" in changes:
        email = str(changes["email"] or "").strip()
        if email and (len(email) > 254 or not _EMAIL.match(email)):
            add("email", _("Dit e-mailadres is niet geldig."))
        clean["email"] = email.lower()  # one spelling, so the desk finds it
    if "phone" in changes:
        phone = str(changes["phone"] or "").strip()
        if phone and not _PHONE.match(phone):
            add("phone", _("Dit telefoonnummer is niet geldig."))
        clean["phone"] = phone
    if "birth_date" in changes:
        value = changes["birth_date"]
        if value in (None, ""):
            clean["birth_date"] = None
        else:
            try:
                born = value if isinstance(value, date) else date.fromisoformat(str(value))
            except ValueError:
                add("birth_date", _("Geef de geboortedatum als jjjj-mm-dd."))
            else:
                if not date(1900, 1, 1) <= born <= date.today():
                    add("birth_date", _("Deze geboortedatum kan niet kloppen."))
                clean["birth_date"] = born
    if "language" in changes:
        if actor.kind != "inwoner":
            add("language", _("Alleen de inwoner zelf kiest de taal van de contacten (taalwetgeving)."))
        elif changes["language"] not in LANGUAGES:
            add("language", _("Kies Nederlands, Frans of Engels."))
        clean["language"] = changes["language"]
    if "preferred_channel" in changes:
        channel = changes["preferred_channel"] or None
        if channel is not None and channel not in CONTACT_CHANNELS:
            add("preferred_channel", _("Kies een kanaal uit de lijst."))
        clean["preferred_channel"] = channel
    if "no_digital_contact" in changes:
        clean["no_digital_contact"] = bool(changes["no_digital_contact"])
    offline = clean.get("no_digital_contact", current.no_digital_contact if current else False)
    channel = clean.get("preferred_channel", current.preferred_channel if current else None)
    if offline and channel in DIGITAL_CHANNELS:
        add("preferred_channel", _("Wie geen digitaal contact wil, kiest brief, telefoon of balie."))
    if errors:
        raise ProfileError(errors)
    return clean


def _keep_keys(profile: Profile) -> None:
    """The search forms of name and phone follow the values."""
    profile.name_key = name_key(profile.name)
    profile.phone_key = phone_digits(profile.phone)


def update_preferences(db: Session, profile: Profile, changes: dict[str, Any], *, actor: Actor,
                       at: datetime) -> list[str]:
    """Apply the changes that differ, and record which fields changed and by whom (not the values)."""
    clean = _clean(changes, actor, profile)
    changed = [name for name, value in clean.items() if getattr(profile, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(profile, name, clean[name])
    _keep_keys(profile)
    profile.updated_at = at
    db.add(PreferenceChange(profile_id=profile.id, fields=changed, channel=actor.channel,
                            actor_kind=actor.kind, staff_id=actor.staff_id, created_at=at))
    db.flush()
    return changed


def create_desk_profile(db: Session, tenant: Tenant, details: dict[str, Any], *, instance_secret: str,
                        national_number_raw: str | None, actor: Actor, at: datetime) -> Profile:
    """A profile for someone without an account; a national register number is kept only as a hash.

    The hash is keyed for this municipality, so it links the profile when the person logs in
    (see :func:`link_desk_profiles`) and matches at this municipality's desk, nowhere else.
    """
    errors: dict[str, list[str]] = {}
    try:
        clean = _clean(details, Actor.resident(actor.channel), None)  # the resident tells the language
    except ProfileError as exc:
        errors.update(exc.errors)
        clean = {}
    if not str(details.get("name") or "").strip():
        errors.setdefault("name", []).append(_("Geef de naam."))
    number_hash = None
    if national_number_raw:
        try:
            number_hash = national_number.keyed_hash(instance_secret, tenant.slug, national_number_raw)
        except national_number.InvalidNationalNumber:
            errors.setdefault("national_number", []).append(_("Dit rijksregisternummer is niet geldig."))
    if errors:
        raise ProfileError(errors)
    profile = Profile(account_id=None, national_number_hash=number_hash, created_by=actor.kind, created_at=at,
                      updated_at=at, **clean)
    _keep_keys(profile)
    db.add(profile)
    db.flush()
    db.add(PreferenceChange(profile_id=profile.id, fields=sorted(clean), channel=actor.channel,
                            actor_kind=actor.kind, staff_id=actor.staff_id, created_at=at))
    db.flush()
    return profile


def link_desk_profiles(db: Session, account: Account, national_number_raw: str, *, instance_secret: str,
                       tenants: list[Tenant], at: datetime) -> list[Tenant]:
    """At login: link desk-made profiles whose hash matches the person's number; say where.

    The raw number comes from the login's claims and is used only here, to compute each
    municipality's keyed hash. A municipality where the account already has a profile is left
    alone (two profiles of one person need a person to merge them).
    """
    try:
        hashes = {t.id: national_number.keyed_hash(instance_secret, t.slug, national_number_raw) for t in tenants}
    except national_number.InvalidNationalNumber:
        return []
    by_id = {t.id: t for t in tenants}
    linked: list[Tenant] = []
    with across_tenants(db, "link desk-made profiles to the account that logged in"):
        candidates = list(db.scalars(select(Profile).where(
            Profile.account_id.is_(None),
            tuple_(Profile.tenant_id, Profile.national_number_hash).in_(list(hashes.items())))))
        owned = set(db.scalars(select(Profile.tenant_id).where(Profile.account_id == account.id)))
        for profile in candidates:
            if profile.tenant_id in owned:
                log.warning("desk profile not linked: the account already has a profile there",
                            extra={"tenant_id": profile.tenant_id})
                continue
            profile.account_id, profile.linked_at, profile.updated_at = account.id, at, at
            owned.add(profile.tenant_id)
            linked.append(by_id[profile.tenant_id])
        db.flush()
    return linked


class ConsentError(ValueError):
    """A consent change that cannot be made (a required purpose, an unknown one); nothing stored."""


def record_consent(db: Session, tenant: Tenant, profile: Profile, purpose_code: str, granted: bool, *,
                   actor: Actor, language: str, at: datetime) -> ConsentRecord:
    """Append the decision for the purpose's current version; a required purpose cannot be refused."""
    purpose = catalogue_for(tenant).get(purpose_code)
    if purpose is None:
        raise ConsentError(_("Dit doel bestaat niet bij gemeente %(name)s.", name=tenant.name))
    if not purpose.is_choice:
        raise ConsentError(purpose.text("refusal", language))
    record = ConsentRecord(receipt_id=str(uuid.uuid4()), profile_id=profile.id, purpose_code=purpose.code,
                           purpose_version=purpose.version, granted=granted, channel=actor.channel,
                           actor_kind=actor.kind, staff_id=actor.staff_id, language=language, created_at=at)
    db.add(record)
    db.flush()
    return record


def consent_history(db: Session, profile: Profile) -> list[ConsentRecord]:
    """Every decision, oldest first: the history keeps every version."""
    return list(db.scalars(select(ConsentRecord).where(ConsentRecord.profile_id == profile.id)
                           .order_by(ConsentRecord.id)))


def consent_receipt(tenant: Tenant, profile: Profile, record: ConsentRecord, purpose: Purpose,
                    policy_url: str) -> dict[str, Any]:
    """The decision as a Kantara Consent Receipt v1.1 (JSON), for the resident to keep."""
    language = record.language if record.language in LANGUAGES else "nl"
    by = "inwoner" if record.actor_kind == "inwoner" else "medewerker namens inwoner"
    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "BE",
        "consentTimestamp": int(as_utc(record.created_at).timestamp()),
        "collectionMethod": f"{record.channel} ({by})",
        "consentReceiptID": record.receipt_id,
        "language": language,
        "piiPrincipalId": f"profiel:{tenant.slug}:{profile.id}",
        "piiControllers": [{"piiController": f"Gemeente {tenant.name}", "onBehalf": False,
                            "contact": f"Gemeente {tenant.name}", "address": {"country": "BE"},
                            "email": "", "phone": "", "piiControllerUrl": policy_url}],
        "policyUrl": policy_url,
        "services": [{"service": "Fygitaal", "purposes": [{
            "purpose": purpose.text("title", language),
            "purposeCategory": [purpose.code],
            "consentType": "EXPLICIT" if record.granted else "WITHDRAWN",
            "piiCategory": list(purpose.data_categories),
            "primaryPurpose": True,
            "termination": purpose.text("retention", language),
            "thirdPartyDisclosure": False,
            "purposeVersion": record.purpose_version,
        }]}],
        "sensitive": purpose.sensitive,
        "spiCat": list(purpose.data_categories) if purpose.sensitive else [],
    }


def profiles_of_account(db: Session, account_id: int) -> list[tuple[Profile, Tenant]]:
    """The person's profiles in every municipality, for /mijn (one query)."""
    with across_tenants(db, "a resident's own profiles in every municipality (/mijn)"):
        return [(p, t) for p, t in db.execute(
            select(Profile, Tenant).join(Tenant, Tenant.id == Profile.tenant_id)
            .where(Profile.account_id == account_id).order_by(Tenant.name))]
