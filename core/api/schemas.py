"""The REST API's schemas: separate input and output schemas, field names from OSLO "Melding".

Input schemas refuse unknown fields (``unknown = RAISE``); output schemas list every field they
show, and no output schema carries a reporter's contact details (name, e-mail, phone, address).
Where the Flemish OSLO "Melding" vocabulary has a term the API uses it (``melder``,
``behandelaar``, ``status``, ``type``, ``bijlage``); each field's description says what it holds.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from flask import current_app, url_for
from marshmallow import RAISE, Schema, ValidationError, fields, pre_dump, validate, validates_schema

from core.cases.lifecycle import RESOLUTIONS, STATES, TRANSITIONS
from core.cases.models import Attachment, Case, CaseEvent
from core.cases.types import CaseType
from core.clock import as_utc

# A text may not hold NUL characters (PostgreSQL cannot store them). A "filled in" text also
# needs one character that ``str.strip()`` keeps: the class lists exactly what Python strips,
# so the OpenAPI pattern and the server agree on what counts as blank.
_BLANK = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = rf"^[^\x00]*[^\x00{_BLANK}][^\x00]*$"
REFERENCE = r"^[A-Z]{1,6}-[0-9]{4}-[0-9]{5,}$"
TENANT_SLUG = r"^[a-z0-9][a-z0-9-]*$"
MAX_TEXT = 4000
MAX_PHOTOS = 5
TARGET_STATES = tuple(s for s in STATES if any(s in targets for targets in TRANSITIONS.values()))
PREFERRED_CHANNELS = ("e-mail", "sms", "brief", "telefoon", "balie", "app")
LANGUAGES = ("nl", "fr", "en")


def text(*, maximum: int, filled: bool = False, **kwargs: Any) -> fields.String:
    """A string without NUL characters, at most ``maximum`` long; ``filled``: not only spaces."""
    rules = [validate.Length(min=1 if filled else None, max=maximum),
             validate.Regexp(NOT_BLANK if filled else NO_NUL,
                             error="Give a text with at least one visible character and no NUL characters."
                             if filled else "NUL characters are not allowed.")]
    return fields.String(validate=rules, **kwargs)


def _describe(description: str, **metadata: Any) -> dict[str, Any]:
    return {"description": description, **metadata}


class StrictFloat(fields.Float):
    """A JSON number only: the strings ``"51.1"`` or ``true`` are refused, as the schema says."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class WholeNumber(fields.Integer):
    """An integer; in a query string only as plain digits (``" 4"``, ``"+4"`` or ``"٤"`` are refused)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and not re.fullmatch(r"-?[0-9]+", value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Base64Bytes(fields.String):
    """Bytes sent as standard base64 (OpenAPI ``format: byte``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bytes:
        encoded = super()._deserialize(value, attr, data, **kwargs)
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationError("Not valid base64.") from exc


class UtcDateTime(fields.DateTime):
    """A moment in ISO 8601 with its offset; stored times are UTC, a time without offset is read as UTC."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else super()._serialize(as_utc(value), attr, obj, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class InputSchema(Schema):
    """Every input refuses fields it does not know, so a typo is an error rather than ignored."""

    class Meta:
        unknown = RAISE


class OutputSchema(Schema):
    """Output schemas declare each field they show (nothing leaks by default)."""


# --- Errors ------------------------------------------------------------------------------


class ProblemSchema(OutputSchema):
    """RFC 9457 problem details: every API error has this shape (``application/problem+json``)."""

    type = fields.String(metadata=_describe("A URI for the kind of problem; `about:blank` means: see `status`."))
    title = fields.String(metadata=_describe("The HTTP status phrase."))
    status = fields.Integer(metadata=_describe("The HTTP status code."))
    detail = fields.String(metadata=_describe("What went wrong and how to fix it, for a human."))
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), metadata=_describe(
        "Validation errors per field (dotted path for nested fields, e.g. `gegevens.volume`)."))
    error = fields.String(metadata=_describe("The OAuth2 error code, for token problems (401, 403)."))


# --- Departments and case types -------------------------------------------------------------


class DepartmentSchema(OutputSchema):
    """A department (dienst) of the municipality; cases are routed to one."""

    code = fields.String(metadata=_describe("The department's code, e.g. `milieu`."))
    name = fields.String(metadata=_describe("The department's name."))


class CaseTypeSchema(OutputSchema):
    """What residents can report or ask in this municipality (the OSLO `type` of a melding)."""

    code = fields.String(metadata=_describe("The type code, used as `type` when filing a case."))
    soort = fields.String(validate=validate.OneOf(["melding", "vraag"]),
                          metadata=_describe("Kind: `melding` (a report) or `vraag` (a question)."))
    labels = fields.Dict(keys=fields.String(), values=fields.String(),
                         metadata=_describe("The type's name per language (`nl`, `fr`, `en`)."))
    groep = fields.String(metadata=_describe("The group the type is listed under."))
    dienst = fields.String(allow_none=True,
                           metadata=_describe("Code of the department cases of this type are routed to."))
    locatie_verplicht = fields.Boolean(metadata=_describe("Whether a case needs a `locatie` (or an `adres`)."))
    anoniem_toegestaan = fields.Boolean(metadata=_describe(
        "Whether a case may be filed without any way to reach the `melder`."))
    streeftermijn_dagen = fields.Integer(metadata=_describe("Target handling time in days."))
    gegevens = fields.Dict(metadata=_describe(
        "JSON Schema of the type's extra fields, sent as `gegevens` when filing a case; `x-label` gives "
        "each field's label per language, `x-values` the meaning of each allowed value."))

    @pre_dump
    def _from_type(self, case_type: CaseType, **_kwargs: Any) -> dict[str, Any]:
        return {"code": case_type.code, "soort": case_type.kind, "labels": case_type.labels,
                "groep": case_type.group, "dienst": case_type.department,
                "locatie_verplicht": case_type.location_required,
                "anoniem_toegestaan": case_type.anonymous_allowed, "streeftermijn_dagen": case_type.target_days,
                "gegevens": describe_extra_fields(case_type.schema)}


def describe_extra_fields(schema_class: type[Schema] | None) -> dict[str, Any]:
    """A plugin's marshmallow schema for extra fields, as JSON Schema (with labels per language)."""
    description: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
    if schema_class is None:
        return description
    converter = current_app.extensions["fygitaal.api"].ma_plugin.converter
    required = []
    for name, field in schema_class().load_fields.items():
        key = field.data_key or name
        prop = converter.field2property(field)
        for meta in ("label", "values"):
            if meta in field.metadata:
                prop[f"x-{meta}"] = field.metadata[meta]
        description["properties"][key] = prop
        if field.required:
            required.append(key)
    if required:
        description["required"] = required
    return description


# --- Cases: output ---------------------------------------------------------------------------


class LocationSchema(OutputSchema):
    lat = fields.Float(metadata=_describe("Latitude, WGS84."))
    lon = fields.Float(metadata=_describe("Longitude, WGS84."))


class HandlerSchema(OutputSchema):
    """OSLO `behandelaar`: the department that handles the case."""

    dienst = fields.String(metadata=_describe("The department's code."))
    naam = fields.String(metadata=_describe("The department's name."))


class ReporterSummarySchema(OutputSchema):
    """OSLO `melder`, without contact details: the API never shows who reported."""

    bereikbaar = fields.Boolean(metadata=_describe(
        "Whether the municipality has a way to answer the reporter (messages reach them)."))
    taal = fields.String(metadata=_describe("The reporter's language: `nl`, `fr` or `en`."))


class AttachmentSchema(OutputSchema):
    """OSLO `bijlage`: a photo, re-encoded without metadata (the bytes are not served by the API)."""

    id = fields.Integer()
    mediatype = fields.String(metadata=_describe("e.g. `image/jpeg`."))
    grootte = fields.Integer(metadata=_describe("Size in bytes."))
    breedte = fields.Integer(metadata=_describe("Width in pixels."))
    hoogte = fields.Integer(metadata=_describe("Height in pixels."))
    toegevoegd_op = UtcDateTime(metadata=_describe("When it was added (UTC)."))

    @pre_dump
    def _from_model(self, attachment: Attachment, **_kwargs: Any) -> dict[str, Any]:
        return {"id": attachment.id, "mediatype": attachment.content_type, "grootte": attachment.size,
                "breedte": attachment.width, "hoogte": attachment.height, "toegevoegd_op": attachment.created_at}


class EventSchema(OutputSchema):
    """One step of the case's history that the resident also sees."""

    soort = fields.String(metadata=_describe(
        "What happened: `created`, `status`, `message_to_citizen`, `message_from_citizen`, `merged`, …"))
    tijdstip = UtcDateTime(metadata=_describe("When (UTC)."))
    status_van = fields.String(allow_none=True, metadata=_describe("For a status change: the old status."))
    status_naar = fields.String(allow_none=True, metadata=_describe("For a status change: the new status."))
    tekst = fields.String(allow_none=True, metadata=_describe("The message or the note shown to the resident."))

    @pre_dump
    def _from_model(self, event: CaseEvent, **_kwargs: Any) -> dict[str, Any]:
        return {"soort": event.kind, "tijdstip": event.created_at, "status_van": event.from_status,
                "status_naar": event.to_status, "tekst": event.body}


class CaseSchema(OutputSchema):
    """A melding or vraag (OSLO `Melding`), without the reporter's contact details."""

    id = fields.Integer(metadata=_describe("Internal id; use it as `after` to page through `GET cases`."))
    referentie = fields.String(metadata=_describe("Public reference `<CODE>-<YYYY>-<volgnummer>`."))
    url = fields.String(metadata=_describe("This case in the API."))
    type = fields.String(metadata=_describe("OSLO `type`: the case type code (see `GET case-types`)."))
    soort = fields.String(validate=validate.OneOf(["melding", "vraag"]), metadata=_describe(
        "`melding` (report) or `vraag` (question)."))
    status = fields.String(validate=validate.OneOf(STATES), metadata=_describe("OSLO `status`."))
    resolutie = fields.String(allow_none=True, metadata=_describe(
        "How a handled case ended: `opgelost`, `niet_opgelost`, `niet_bevoegd` (or `verlopen`: a question "
        "closed by the platform after its term without activity)."))
    resolutie_toelichting = fields.String(allow_none=True, metadata=_describe("The explanation the resident reads."))
    doorverwezen_naar = fields.String(allow_none=True, metadata=_describe("Who a referred case went to."))
    kanaal = fields.String(metadata=_describe("The channel it came in through (`web`, `api`, `app`, …)."))
    beschrijving = fields.String(metadata=_describe("What the resident wrote."))
    gegevens = fields.Dict(keys=fields.String(), metadata=_describe("The type's extra fields."))
    locatie = fields.Nested(LocationSchema, allow_none=True, metadata=_describe("Where, in WGS84."))
    adres = fields.String(allow_none=True, metadata=_describe("The address of the place (not the reporter's)."))
    behandelaar = fields.Nested(HandlerSchema, allow_none=True, metadata=_describe("OSLO `behandelaar`."))
    melder = fields.Nested(ReporterSummarySchema, metadata=_describe("OSLO `melder`, without contact details."))
    bijlagen = fields.List(fields.Nested(AttachmentSchema), metadata=_describe("OSLO `bijlage`: the photos."))
    tevreden = fields.Boolean(allow_none=True, metadata=_describe("Whether the resident was satisfied, once closed."))
    aangemaakt_op = UtcDateTime(metadata=_describe("Filed at (UTC)."))
    gewijzigd_op = UtcDateTime(metadata=_describe("Last change (UTC)."))
    streefdatum = UtcDateTime(allow_none=True, metadata=_describe("Target date for handling (UTC)."))
    afgesloten_op = UtcDateTime(allow_none=True, metadata=_describe("Closed at (UTC)."))

    @pre_dump
    def _from_model(self, case: Case, **_kwargs: Any) -> dict[str, Any]:
        return case_fields(case)


class CaseDetailSchema(CaseSchema):
    """A case with the history the resident also sees (internal notes are not shown)."""

    historiek = fields.List(fields.Nested(EventSchema), metadata=_describe("The visible history, oldest first."))

    @pre_dump
    def _from_model(self, case: Case, **_kwargs: Any) -> dict[str, Any]:
        return case_detail_fields(case)


class CreatedCaseSchema(CaseDetailSchema):
    """The new case, with the follow-up link to hand to the resident (shown only in this answer)."""

    follow_url = fields.String(metadata=_describe(
        "The resident's follow-up page (an unguessable link; the platform keeps only its hash)."))

    @pre_dump
    def _from_model(self, created: CreatedCase, **_kwargs: Any) -> dict[str, Any]:
        return {**case_detail_fields(created.case), "follow_url": created.follow_url}


class CasePageSchema(OutputSchema):
    """One page of cases, oldest first; follow `next` for the following page."""

    items = fields.List(fields.Nested(CaseSchema))
    next = fields.String(allow_none=True, metadata=_describe("The next page, or null on the last page."))


class MessageSchema(OutputSchema):
    """A message to the resident, as stored in the case's history."""

    referentie = fields.String(metadata=_describe("The case's reference."))
    tekst = fields.String(metadata=_describe("The message."))
    tijdstip = UtcDateTime(metadata=_describe("When (UTC)."))


def case_fields(case: Case) -> dict[str, Any]:
    """The API's view of a case; contact details of the reporter are left out on purpose."""
    department = case.department
    values: dict[str, Any] = {
        "id": case.id, "referentie": case.reference, "type": case.type_code, "soort": case.kind,
        "url": url_for("api_v1.CaseDetail", reference=case.reference, _external=True),
        "status": case.status, "resolutie": case.resolution, "resolutie_toelichting": case.resolution_note,
        "doorverwezen_naar": case.referred_to, "kanaal": case.channel, "beschrijving": case.description,
        "gegevens": case.data or {}, "adres": case.address,
        "locatie": {"lat": case.lat, "lon": case.lon} if case.lat is not None and case.lon is not None else None,
        "behandelaar": {"dienst": department.code, "naam": department.name} if department else None,
        "melder": {"bereikbaar": bool(case.reporter_account_id or case.reporter_email or case.reporter_phone
                                      or case.reporter_address), "taal": case.language},
        "bijlagen": list(case.attachments), "tevreden": case.satisfied,
        "aangemaakt_op": case.created_at, "gewijzigd_op": case.updated_at, "streefdatum": case.due_at,
        "afgesloten_op": case.closed_at,
    }
    return values


def case_detail_fields(case: Case) -> dict[str, Any]:
    """A case with its history as the resident sees it: internal notes and assignments stay internal."""
    return {**case_fields(case), "historiek": [e for e in case.events if e.visible_to_citizen]}


@dataclass(frozen=True)
class CreatedCase:
    case: Case
    follow_url: str


# --- Cases: input ----------------------------------------------------------------------------


class CaseQuerySchema(InputSchema):
    """Filters and keyset pagination for `GET cases`."""

    status = fields.String(validate=validate.OneOf(STATES), metadata=_describe("Only cases with this status."))
    type = text(maximum=60, metadata=_describe("Only cases of this type code."))
    dienst = text(maximum=60, metadata=_describe("Only cases routed to this department code (OSLO `behandelaar`)."))
    aangemaakt_sinds = UtcDateTime(metadata=_describe("Only cases filed at or after this moment (ISO 8601)."))
    limit = WholeNumber(load_default=20, validate=validate.Range(min=1, max=100), metadata=_describe(
        "Page size, at most 100."))
    after = WholeNumber(validate=validate.Range(min=0, max=2**31 - 1), metadata=_describe(
        "The `id` of the last case of the previous page (keyset pagination)."))


class PlaceSchema(InputSchema):
    lat = StrictFloat(required=True, validate=validate.Range(min=-90, max=90), metadata=_describe("Latitude, WGS84."))
    lon = StrictFloat(required=True, validate=validate.Range(min=-180, max=180),
                      metadata=_describe("Longitude, WGS84."))


class ReporterSchema(InputSchema):
    """OSLO `melder`: how the municipality can answer. Stored, never shown by the API."""

    naam = text(maximum=200, metadata=_describe("The reporter's name."))
    email = fields.Email(validate=validate.Length(max=254), metadata=_describe("E-mail address for answers."))
    telefoon = text(maximum=40, metadata=_describe("Phone number."))
    adres = text(maximum=300, metadata=_describe("Postal address (needed for answers by letter)."))
    voorkeurkanaal = fields.String(validate=validate.OneOf(PREFERRED_CHANNELS), metadata=_describe(
        "How the reporter wants to be answered; `brief` needs `adres`."))
    taal = fields.String(load_default="nl", validate=validate.OneOf(LANGUAGES), metadata=_describe(
        "The language to answer in."))


class NewCaseSchema(InputSchema):
    """A new melding or vraag. The municipality's rules (its case types, their extra fields, its
    boundary, photo contents) are checked by the intake service: breaking them gives a 422."""

    type = text(maximum=60, filled=True, required=True, metadata=_describe(
        "OSLO `type`: a case type code of this municipality (see `GET case-types`)."))
    beschrijving = text(maximum=MAX_TEXT, filled=True, required=True, metadata=_describe(
        "What is going on, at most 4000 characters."))
    gegevens = fields.Dict(keys=fields.String(), load_default=dict, metadata=_describe(
        "The type's extra fields, as described by `GET case-types`."))
    locatie = fields.Nested(PlaceSchema, metadata=_describe(
        "Where, in WGS84; must lie in the municipality."))
    adres = text(maximum=300, metadata=_describe("The address of the place, when there is no `locatie`."))
    melder = fields.Nested(ReporterSchema, metadata=_describe(
        "OSLO `melder`: optional when the type allows anonymous cases."))
    bijlagen = fields.List(Base64Bytes(), validate=validate.Length(max=MAX_PHOTOS), metadata=_describe(
        "OSLO `bijlage`: up to 5 photos (JPEG, PNG), base64; metadata such as GPS is removed."))
    kanaal = fields.String(load_default="api", validate=validate.OneOf(["api", "app"]), metadata=_describe(
        "`app` when a resident uses your app, `api` (default) for other systems."))


class StatusChangeSchema(InputSchema):
    """A state change through the municipality's transition table."""

    status = fields.String(required=True, validate=validate.OneOf(TARGET_STATES), metadata=_describe(
        "The new OSLO `status`."))
    resolutie = fields.String(validate=validate.OneOf(RESOLUTIONS), metadata=_describe(
        "Required with `afgehandeld`: `opgelost`, `niet_opgelost` or `niet_bevoegd`."))
    toelichting = text(maximum=MAX_TEXT, metadata=_describe(
        "A note the resident reads; required with `niet_opgelost`."))
    doorverwezen_naar = text(maximum=200, metadata=_describe("Required with `doorverwezen`: who it goes to."))

    NEEDS_TEXT: ClassVar[re.Pattern[str]] = re.compile(NOT_BLANK)

    @validates_schema
    def _closure_is_honest(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if data["status"] == "afgehandeld" and "resolutie" not in data:
            errors["resolutie"] = ["Say how the case ended: opgelost, niet_opgelost or niet_bevoegd."]
        if (data["status"] == "afgehandeld" and data.get("resolutie") == "niet_opgelost"
                and not self.NEEDS_TEXT.match(data.get("toelichting", ""))):
            errors["toelichting"] = ["Say why it was not solved: the resident reads this."]
        if data["status"] == "doorverwezen" and not self.NEEDS_TEXT.match(data.get("doorverwezen_naar", "")):
            errors["doorverwezen_naar"] = ["Say who the case was referred to."]
        if errors:
            raise ValidationError(errors)


def status_change_rules() -> list[dict[str, Any]]:
    """The closure rules of :class:`StatusChangeSchema` as JSON Schema alternatives (``anyOf``)."""
    filled = {"type": "string", "pattern": NOT_BLANK}
    plain = [s for s in TARGET_STATES if s not in ("afgehandeld", "doorverwezen")]
    return [
        {"properties": {"status": {"enum": plain}}},
        {"properties": {"status": {"enum": ["afgehandeld"]},
                        "resolutie": {"enum": [r for r in RESOLUTIONS if r != "niet_opgelost"]}},
         "required": ["resolutie"]},
        {"properties": {"status": {"enum": ["afgehandeld"]}, "resolutie": {"enum": ["niet_opgelost"]},
                        "toelichting": filled}, "required": ["resolutie", "toelichting"]},
        {"properties": {"status": {"enum": ["doorverwezen"]}, "doorverwezen_naar": filled},
         "required": ["doorverwezen_naar"]},
    ]


class NewMessageSchema(InputSchema):
    """A message to the resident: shown on their follow-up page and sent on their channel."""

    tekst = text(maximum=MAX_TEXT, filled=True, required=True, metadata=_describe("The message, at most 4000."))
