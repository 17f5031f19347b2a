"""Openbare ruimte: the usual reports about public space, each routed to a department."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.toolkit import CaseType, Manifest, Tenant, hookimpl


class SluikstortFields(Schema):
    volume = fields.String(required=True, validate=validate.OneOf(["klein", "middel", "groot"]),
                           metadata={"label": {"nl": "Hoeveel ligt er?", "fr": "Quelle quantité ?",
                                               "en": "How much is there?"},
                                     "values": {"klein": "Een zak of minder", "middel": "Enkele zakken",
                                                "groot": "Een aanhangwagen of meer"}})


class WegdekFields(Schema):
    gevaarlijk = fields.Boolean(load_default=False,
                                metadata={"label": {"nl": "Is het gevaarlijk?", "fr": "Est-ce dangereux ?",
                                                    "en": "Is it dangerous?"}})


class StraatverlichtingFields(Schema):
    paalnummer = fields.String(load_default="", validate=validate.Length(max=20),
                               metadata={"label": {"nl": "Nummer op de paal", "fr": "Numéro sur le poteau",
                                                   "en": "Number on the pole"}})


def _melding(code: str, prefix: str, department: str, nl: str, fr: str, en: str, radius: int,
             target_days: int, schema: type[Schema] | None = None,
             keywords: tuple[str, ...] = ()) -> CaseType:
    return CaseType(
        code=code, kind="melding", prefix=prefix, department=department, group="Openbare ruimte",
        labels={"nl": nl, "fr": fr, "en": en}, description={"nl": nl, "fr": fr, "en": en},
        keywords=keywords, schema=schema, location_required=True, anonymous_allowed=True,
        target_days=target_days, duplicate_radius_m=radius,
        standard_replies={
            "in_behandeling": {"nl": "We hebben uw melding doorgegeven aan de ploeg; ze plant de werken in.",
                               "fr": "Nous avons transmis votre signalement à l'équipe, qui planifie les travaux.",
                               "en": "We passed your report to the team, which is planning the work."},
            "afgehandeld": {"nl": "De ploeg is langs geweest en heeft het probleem opgelost. Bedankt voor uw melding!",
                            "fr": "L'équipe est passée et a résolu le problème. Merci pour votre signalement !",
                            "en": "The team came by and fixed the problem. Thank you for your report!"},
        },
    )


CASE_TYPES = [
    _melding("zwerfvuil", "ZV", "milieu", "Zwerfvuil", "Déchets sauvages", "Litter", 50, 7,
             keywords=("afval", "blikjes", "papier")),
    _melding("sluikstort", "SL", "milieu", "Sluikstort", "Dépôt clandestin", "Fly-tipping", 50, 5,
             SluikstortFields, keywords=("afval", "dumping")),
    _melding("wegdek", "WV", "openbare_werken", "Wegdek en voetpad", "Chaussée et trottoir",
             "Road and pavement", 30, 21, WegdekFields, keywords=("put", "kasseien", "stoep")),
    _melding("straatverlichting", "SV", "openbare_werken", "Straatverlichting", "Éclairage public",
             "Street lighting", 30, 14, StraatverlichtingFields, keywords=("lamp", "paal")),
    _melding("groen", "GB", "openbare_werken", "Groen en bomen", "Espaces verts et arbres",
             "Greenery and trees", 50, 21, keywords=("boom", "haag", "gras")),
    _melding("riolering", "RI", "openbare_werken", "Riolering", "Égouts", "Sewers", 50, 10,
             keywords=("geur", "rooster", "overstroming")),
    _melding("verkeerssignalisatie", "VS", "openbare_werken", "Verkeerssignalisatie",
             "Signalisation routière", "Traffic signs", 30, 10, keywords=("bord", "verkeerslicht")),
]


@hookimpl
def fygitaal_plugin_manifest() -> Manifest:
    return Manifest(
        name="openbare_ruimte", version="1.0.0", owner="veneco", maturity="approved",
        description="Meldingen over de openbare ruimte.",
        title={"nl": "Een probleem melden", "fr": "Signaler un problème", "en": "Report a problem"},
        data_categories=("location", "photos", "contact details"),
    )


@hookimpl
def fygitaal_case_types(tenant: Tenant) -> list[CaseType]:
    return CASE_TYPES
