"""Grofvuil's case type: a resident asks for a pickup; the plugin checks the zone and reserves a place."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from core.toolkit import CaseType, Tenant, gettext, hookimpl, message_resident, utcnow
from plugins.grofvuil.service import reserve, zone_names


class PickupFields(Schema):
    zone = fields.String(required=True, validate=validate.Length(min=1, max=120),
                         metadata={"label": {"nl": "Uw zone", "fr": "Votre zone", "en": "Your zone"}})
    stuks = fields.Integer(required=True, validate=validate.Range(min=1, max=20),
                           metadata={"label": {"nl": "Aantal stuks", "fr": "Nombre d'objets",
                                               "en": "Number of items"}})


PICKUP = CaseType(
    code="grofvuil", kind="melding", prefix="GV", department="milieu", group="Afval",
    labels={"nl": "Grofvuil laten ophalen", "fr": "Faire enlever des encombrants",
            "en": "Bulky waste pickup"},
    description={"nl": "Vraag een ophaling van grofvuil aan; we reserveren een plaats in de volgende ronde.",
                 "fr": "Demandez un enlèvement d'encombrants ; nous réservons une place dans la prochaine tournée.",
                 "en": "Ask for a bulky waste pickup; we reserve a place in the next round."},
    schema=PickupFields, location_required=False, anonymous_allowed=False, target_days=30,
)


@hookimpl
def fygitaal_case_types(tenant: Tenant) -> list[CaseType]:
    return [PICKUP]


@hookimpl
def fygitaal_validate_case(session: Session, tenant: Tenant, case_type: str, data: dict[str, Any]) -> list[str]:
    if case_type != PICKUP.code:
        return []
    problems = []
    zones = zone_names(session)
    if data.get("zone") not in zones:
        problems.append(gettext("Onbekende zone; kies uit: %(zones)s.", zones=", ".join(zones) or "—"))
    limit = (tenant.plugins or {}).get("grofvuil", {}).get("max_items", 5)
    if data.get("stuks", 0) > limit:
        problems.append(gettext("Per ophaling nemen we hoogstens %(n)s stuks mee.", n=limit))
    return problems


@hookimpl
def fygitaal_case_created(session: Session, tenant: Tenant, case: Any) -> None:
    """Reserve a place in the zone's next round and tell the resident the date."""
    if case.type_code != PICKUP.code:
        return
    at = utcnow()
    booked = reserve(session, case.id, case.data["zone"], at)
    if booked is None:
        text = gettext("Alle geplande rondes in uw zone zijn volzet. We nemen contact op zodra er een "
                       "nieuwe ronde gepland is.")
    else:
        text = gettext("We halen uw grofvuil op %(day)s op. Zet het die ochtend vóór 7 uur buiten.",
                       day=booked.day.strftime("%d/%m/%Y"))
    message_resident(session, tenant, case, text, actor="plugin:grofvuil", at=at)
    session.commit()
