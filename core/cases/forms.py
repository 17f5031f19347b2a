"""Case forms shared by the resident's pages and the front office: a case type's questions as form
fields, what the form sent, and intake's errors placed next to the right field."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from marshmallow import fields as mfields
from marshmallow import validate

from core.cases.types import CaseType


@dataclass
class ExtraField:
    """One question of a case type's schema, as the form shows it."""

    key: str
    label: str
    widget: str  # text, number, checkbox, select or date
    required: bool
    schema_field: mfields.Field
    options: list[tuple[str, str]] = field(default_factory=list)
    maxlength: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: str | None = None

    @property
    def slot(self) -> str:
        return f"extra-{self.key}"


def _in_language(value: Any, language: str, fallback: str) -> str:
    if isinstance(value, Mapping):
        return str(value.get(language) or value.get("nl") or fallback)
    return str(value) if value else fallback


def extra_fields(case_type: CaseType, language: str) -> list[ExtraField]:
    """The type's marshmallow schema as form fields: labels and option texts from the field metadata."""
    if case_type.schema is None:
        return []
    found = []
    for name, schema_field in case_type.schema().load_fields.items():
        spec = ExtraField(key=schema_field.data_key or name, schema_field=schema_field, required=schema_field.required,
                          label=_in_language(schema_field.metadata.get("label"), language, name), widget="text")
        for validator in schema_field.validators:
            if isinstance(validator, validate.OneOf):
                values = schema_field.metadata.get("values") or {}
                spec.widget = "select"
                spec.options = [(str(c), _in_language(values.get(c), language, str(c))) for c in validator.choices]
            elif isinstance(validator, validate.Length):
                spec.maxlength = validator.max
            elif isinstance(validator, validate.Range):
                spec.minimum, spec.maximum = validator.min, validator.max
        if spec.widget == "select":
            pass
        elif isinstance(schema_field, mfields.Boolean):
            spec.widget = "checkbox"
        elif isinstance(schema_field, mfields.Number):
            spec.widget, spec.step = "number", "1" if isinstance(schema_field, mfields.Integer) else "any"
        elif isinstance(schema_field, mfields.Date):
            spec.widget = "date"
        found.append(spec)
    return found


def extra_data(extras: list[ExtraField], form: Mapping[str, str]) -> dict[str, Any]:
    """What the form sent for each question; the schema itself checks and converts it."""
    data: dict[str, Any] = {}
    for spec in extras:
        value = (form.get(spec.slot) or "").strip()
        if spec.widget == "checkbox":
            data[spec.key] = value or False  # an unticked box is not sent at all: it means "no"
        elif value:
            data[spec.key] = value
    return data


def explain_data_errors(case_type: CaseType, messages: Mapping[str, Any], language: str) -> dict[str, list[str]]:
    """The schema's (English) errors as Dutch-first sentences naming each question: ``data.<key>``."""
    by_key = {spec.key: spec for spec in extra_fields(case_type, language)}
    explained: dict[str, list[str]] = {}
    for key, found in messages.items():
        for message in found if isinstance(found, list) else [str(found)]:
            spec = by_key.get(key)
            explained.setdefault(f"data.{key}", []).append(_extra_error(spec, str(message)) if spec else
                                                           _("Deze soort melding kent geen veld ‘%(key)s’.", key=key))
    return explained


def _extra_error(spec: ExtraField, message: str) -> str:
    """The schema's (English) message as a Dutch sentence that names the question and the fix."""
    messages = spec.schema_field.error_messages
    if message == messages.get("required"):
        if spec.widget == "select":
            return _("Kies een antwoord bij ‘%(label)s’.", label=spec.label)
        return _("Vul ‘%(label)s’ in.", label=spec.label)
    if message in {text for key, text in messages.items() if key != "validator_failed"}:  # the wrong type
        if spec.widget == "number":
            return _("Geef bij ‘%(label)s’ een getal.", label=spec.label)
        if spec.widget == "checkbox":
            return _("‘%(label)s’ kan alleen aangevinkt of leeg zijn.", label=spec.label)
        if spec.widget == "date":
            return _("Geef bij ‘%(label)s’ een datum.", label=spec.label)
        return _("Het antwoord bij ‘%(label)s’ is niet geldig.", label=spec.label)
    if spec.widget == "select":
        return _("Kies bij ‘%(label)s’ een van de mogelijkheden.", label=spec.label)
    if spec.maxlength is not None and spec.widget == "text":
        return _("Het antwoord bij ‘%(label)s’ mag hoogstens %(n)s tekens lang zijn.", label=spec.label,
                 n=spec.maxlength)
    if spec.minimum is not None and spec.maximum is not None:
        return _("Geef bij ‘%(label)s’ een getal van %(min)s tot %(max)s.", label=spec.label,
                 min=spec.minimum, max=spec.maximum)
    return f"{spec.label}: {message}"


def coordinate(text: str | None) -> float | None:
    """A decimal degree (a comma is accepted); unreadable input becomes NaN, which intake refuses clearly."""
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return math.nan


def uploaded_photos(limit: int) -> list[bytes]:
    """Each chosen file, read up to just over the limit (intake refuses it as too large)."""
    max_bytes = current_app.config["MAX_PHOTO_BYTES"]
    chosen = [upload for upload in request.files.getlist("fotos") if upload.filename]
    return [upload.read(max_bytes + 1) for upload in chosen[: limit + 1]]  # one too many: intake says the limit


# Where each intake error is shown: the slot's message sits next to its field, the summary links to ``#href``.
SLOT_HREF = {"locatie": "lat", "contact": "email"}
_ERROR_SLOT = {"type": "type", "description": "beschrijving", "location": "locatie", "email": "email",
               "contact": "contact", "address": "postadres", "photos": "fotos"}


def form_errors(errors: Mapping[str, list[str]], extras: list[ExtraField]) -> dict[str, list[str]]:
    """Intake's errors by form slot, in the order of the form."""
    by_key = {spec.key: spec for spec in extras}
    slots: dict[str, list[str]] = {}
    for key, messages in errors.items():
        if key.startswith("data.") and key[5:] in by_key:
            spec = by_key[key[5:]]
            slots.setdefault(spec.slot, []).extend(messages)
        elif key.startswith("data"):
            slots.setdefault(extras[0].slot if extras else "beschrijving", []).extend(messages)
        else:
            slots.setdefault(_ERROR_SLOT.get(key, "beschrijving"), []).extend(messages)
    order = ["type", "beschrijving", *(spec.slot for spec in extras), "locatie", "fotos", "contact", "email",
             "postadres"]
    return {slot: slots[slot] for slot in sorted(slots, key=lambda s: order.index(s) if s in order else 0)}
