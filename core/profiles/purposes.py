"""The catalogue of processing purposes, and the one check every use of personal data goes through.

A purpose names its legal basis (GDPR art. 6). Only a consent purpose is the resident's choice;
the others are shown as "verplicht, omdat …". Purposes come from the core, from plugins
(``fygitaal_consent_purposes``) and from the municipality's tenant file, all in one shape
(:class:`PurposeSchema`), and carry a version: consent given for an older version no longer counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.profiles.models import ConsentRecord, Profile
from core.tenancy.models import Tenant

LEGAL_BASES = ("toestemming", "algemeen_belang", "wettelijke_verplichting", "overeenkomst", "vitaal_belang")
PROFILE_FIELDS = ("name", "birth_date", "address", "email", "phone", "language", "preferred_channel",
                  "no_digital_contact", "assistance_needs")
_CODE = validate.Regexp(r"^[a-z][a-z0-9_]{1,59}$", error="use lower-case letters, digits and '_'")


def _has_dutch(texts: dict[str, str]) -> None:
    if "nl" not in texts:
        raise ValidationError("give at least the Dutch text (nl)")


def per_language(max_length: int = 2000) -> fields.Dict:
    """A text per language (nl, fr, en), Dutch required: how purposes and plugin sections give titles."""
    return fields.Dict(keys=fields.String(validate=validate.OneOf(("nl", "fr", "en"))),
                       values=fields.String(validate=validate.Length(min=1, max=max_length)), required=True,
                       validate=_has_dutch)


class PurposeSchema(Schema):
    """One purpose, as the core, a plugin or a tenant file declares it."""

    code = fields.String(required=True, validate=_CODE)
    version = fields.Integer(load_default=1, validate=validate.Range(min=1))
    legal_basis = fields.String(required=True, validate=validate.OneOf(LEGAL_BASES))
    title = per_language()
    explanation = per_language()
    retention = per_language()
    refusal = per_language()  # what the resident loses by refusing (consent) or why it is required
    data_categories = fields.List(fields.String(validate=validate.Length(min=1, max=60)), load_default=list)
    profile_fields = fields.List(fields.String(validate=validate.OneOf(PROFILE_FIELDS)), load_default=list)
    sensitive = fields.Boolean(load_default=False)


@dataclass(frozen=True)
class Purpose:
    code: str
    version: int
    legal_basis: str
    title: dict[str, str]
    explanation: dict[str, str]
    retention: dict[str, str]
    refusal: dict[str, str]
    data_categories: tuple[str, ...]
    profile_fields: tuple[str, ...]
    sensitive: bool
    owner: str  # core, a plugin's name, or "gemeente"

    @property
    def is_choice(self) -> bool:
        """Only a consent purpose can be switched off by the resident."""
        return self.legal_basis == "toestemming"

    def text(self, field: str, language: str) -> str:
        texts: dict[str, str] = getattr(self, field)
        return texts.get(language) or texts["nl"]


def _texts(nl: str, fr: str, en: str) -> dict[str, str]:
    return {"nl": nl, "fr": fr, "en": en}


CORE_PURPOSES: tuple[dict[str, Any], ...] = (
    {
        "code": "dossierbehandeling", "legal_basis": "algemeen_belang",
        "title": _texts("Uw meldingen en vragen behandelen", "Traiter vos signalements et questions",
                        "Handling your reports and questions"),
        "explanation": _texts(
            "De gemeente gebruikt uw naam, adres, geboortedatum en taal om uw meldingen en vragen te "
            "behandelen en u te antwoorden.",
            "La commune utilise vos nom, adresse, date de naissance et langue pour traiter vos "
            "signalements et questions et vous répondre.",
            "The municipality uses your name, address, date of birth and language to handle your "
            "reports and questions and to answer you."),
        "retention": _texts("Zolang uw dossiers lopen, daarna volgens de archiefregels.",
                            "Pendant le traitement de vos dossiers, ensuite selon les règles d'archivage.",
                            "While your cases run, then under the archiving rules."),
        "refusal": _texts(
            "Verplicht, omdat de gemeente u zonder deze gegevens niet kan identificeren of antwoorden "
            "(taak van algemeen belang).",
            "Obligatoire, car sans ces données la commune ne peut ni vous identifier ni vous répondre "
            "(mission d'intérêt public).",
            "Required, because without these data the municipality cannot identify or answer you "
            "(task in the public interest)."),
        "data_categories": ["identiteit", "adres", "taal"],
        "profile_fields": ["name", "birth_date", "address", "language", "preferred_channel", "no_digital_contact"],
    },
    {
        "code": "contact_email", "legal_basis": "toestemming",
        "title": _texts("U contacteren per e-mail", "Vous contacter par e-mail", "Contacting you by e-mail"),
        "explanation": _texts(
            "De gemeente mag uw e-mailadres gebruiken om u over uw dossiers te berichten.",
            "La commune peut utiliser votre adresse e-mail pour vous informer de vos dossiers.",
            "The municipality may use your e-mail address to tell you about your cases."),
        "retention": _texts("Tot u uw toestemming intrekt.", "Jusqu'au retrait de votre consentement.",
                            "Until you withdraw your consent."),
        "refusal": _texts(
            "Zonder toestemming krijgt u berichten per brief of telefoon, wat trager is.",
            "Sans consentement, vous recevez les messages par courrier ou par téléphone, ce qui est plus lent.",
            "Without consent you get messages by letter or phone, which is slower."),
        "data_categories": ["contactgegevens"], "profile_fields": ["email"],
    },
    {
        "code": "contact_telefoon", "legal_basis": "toestemming",
        "title": _texts("U contacteren per telefoon of sms", "Vous contacter par téléphone ou SMS",
                        "Contacting you by phone or text message"),
        "explanation": _texts(
            "De gemeente mag uw telefoonnummer gebruiken om u te bellen of een sms te sturen over uw dossiers.",
            "La commune peut utiliser votre numéro pour vous appeler ou vous envoyer un SMS sur vos dossiers.",
            "The municipality may use your phone number to call you or text you about your cases."),
        "retention": _texts("Tot u uw toestemming intrekt.", "Jusqu'au retrait de votre consentement.",
                            "Until you withdraw your consent."),
        "refusal": _texts("Zonder toestemming belt de gemeente u niet en stuurt ze geen sms.",
                          "Sans consentement, la commune ne vous appelle pas et n'envoie pas de SMS.",
                          "Without consent the municipality will not call or text you."),
        "data_categories": ["contactgegevens"], "profile_fields": ["phone"],
    },
    {
        "code": "ondersteuning", "legal_basis": "toestemming", "sensitive": True,
        "title": _texts("Rekening houden met uw noden", "Tenir compte de vos besoins",
                        "Taking your needs into account"),
        "explanation": _texts(
            "Medewerkers zien welke ondersteuning u nodig hebt (bijvoorbeeld slechthorend, hulp bij lezen) "
            "zodat ze u beter helpen.",
            "Les agents voient de quel soutien vous avez besoin (par exemple malentendant, aide à la lecture) "
            "pour mieux vous aider.",
            "Staff see what support you need (for example hard of hearing, help with reading) so they "
            "can help you better."),
        "retention": _texts("Tot u uw toestemming intrekt.", "Jusqu'au retrait de votre consentement.",
                            "Until you withdraw your consent."),
        "refusal": _texts("Zonder toestemming ziet geen medewerker uw noden; u moet ze telkens opnieuw vertellen.",
                          "Sans consentement, aucun agent ne voit vos besoins ; vous devez les répéter "
                          "à chaque fois.",
                          "Without consent no staff member sees your needs; you have to tell them each time."),
        "data_categories": ["gezondheid"], "profile_fields": ["assistance_needs"],
    },
)


def load_purpose(raw: dict[str, Any], owner: str) -> Purpose:
    """Check one declaration; raises :class:`marshmallow.ValidationError` naming the bad field."""
    data = PurposeSchema().load(raw)
    return Purpose(owner=owner, data_categories=tuple(data.pop("data_categories")),
                   profile_fields=tuple(data.pop("profile_fields")), **data)


def _collect(tenant: Tenant) -> dict[str, Purpose]:
    catalogue = {raw["code"]: load_purpose(raw, "core") for raw in CORE_PURPOSES}
    hooks = current_app.extensions["fygitaal.plugins"].hooks_for(tenant)
    for impl in hooks.fygitaal_consent_purposes.get_hookimpls():
        for raw in impl.function(tenant=tenant) or []:
            purpose = load_purpose(raw, impl.plugin_name)
            catalogue.setdefault(purpose.code, purpose)  # a plugin cannot redefine a core purpose
    for raw in tenant.purposes or []:
        purpose = load_purpose(raw, "gemeente")
        catalogue.setdefault(purpose.code, purpose)
    return catalogue


def catalogue_for(tenant: Tenant) -> dict[str, Purpose]:
    """The municipality's purposes by code, cached until its configuration changes."""
    cache: dict[tuple[int, int], dict[str, Purpose]] = current_app.extensions.setdefault("fygitaal.purposes", {})
    key = (tenant.id, tenant.config_version)
    if key not in cache:
        cache[key] = _collect(tenant)
    return cache[key]


@dataclass
class Consents:
    """What a profile's latest consent records allow, loaded in one query.

    :meth:`allows` is the single rule: a non-consent purpose always allows; a consent purpose
    allows only when the latest decision granted it for the purpose's current version.
    """

    catalogue: dict[str, Purpose]
    latest: dict[str, ConsentRecord]

    def allows(self, purpose_code: str) -> bool:
        purpose = self.catalogue.get(purpose_code)
        if purpose is None:
            return False  # an unknown purpose never allows: fail closed
        if not purpose.is_choice:
            return True
        record = self.latest.get(purpose_code)
        return bool(record and record.granted and record.purpose_version == purpose.version)

    def purpose_of_field(self, field: str) -> Purpose | None:
        return next((p for p in self.catalogue.values() if field in p.profile_fields), None)

    def field_allowed(self, field: str) -> bool:
        """A profile field may be shown to staff or used only when its purpose allows it."""
        purpose = self.purpose_of_field(field)
        return purpose is None or self.allows(purpose.code)


def consents_for(db: Session, tenant: Tenant, profile: Profile) -> Consents:
    records = db.scalars(select(ConsentRecord).where(ConsentRecord.profile_id == profile.id)
                         .order_by(ConsentRecord.id))
    latest = {record.purpose_code: record for record in records}
    return Consents(catalogue_for(tenant), latest)


def allows(db: Session, tenant: Tenant, profile: Profile, purpose_code: str) -> bool:
    """May ``profile``'s data be used for ``purpose_code``? The check every use goes through."""
    return consents_for(db, tenant, profile).allows(purpose_code)
