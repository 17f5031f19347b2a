"""Open311 GeoReport v2 (with Service Discovery and mySociety's ``servicerequestupdates``).

One endpoint for the whole platform at ``/open311/v2/``, where ``jurisdiction_id`` is a
municipality's slug, and one per municipality at ``/<gemeente>/open311/v2/``, where it may be
left out. Every resource answers in ``.xml`` (required by the spec) and ``.json``. Meldingen only:
questions are personal and not a public service. GETs never show anything of the reporter; a POST
needs an ``api_key`` bound to an API client of the municipality and goes through the one intake
service (channel ``open311``). See docs/open311.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from core.api.idempotency import idempotent
from core.api.open311_format import FORMATS, render, render_errors, to_json
from core.cases import geo, handling, intake, queries
from core.cases.lifecycle import OPEN_STATES, resolution_label, status_label
from core.cases.models import Case, CaseEvent
from core.cases.types import CaseType, case_types_for
from core.clock import as_utc, now
from core.db import get_session
from core.identity.api_clients import client_by_open311_key
from core.identity.models import ApiClient
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Tenant
from core.tenancy.service import tenant_by_slug

bp = Blueprint("open311", __name__)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_SPAN = timedelta(days=90)
MAX_RECORDS = 1000
MAX_MEDIA_URL = 2000
MAX_ADDRESS_ID = 100
TIMEZONE = ZoneInfo("Europe/Brussels")
_HTML = re.compile(r"</?[a-zA-Z!?][^<>]*>|&#?[a-zA-Z0-9]+;")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_INTAKE_FIELDS = {"type": "service_code", "location": "lat/long", "contact": "email", "data": "attribute"}
_NUMBERS = (fields.Number,)
_DATETIMES = (fields.DateTime, fields.Date, fields.Time)
# Endpoints that serve no single municipality: no jurisdiction_id is looked at.
_WITHOUT_JURISDICTION = {"open311.discovery", "open311.unknown_resource"}


class Open311Error(Exception):
    """An answer in the spec's error format: ``status`` with one description per problem."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = list(descriptions)


def _route(rule: str, **options: Any) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register the view under ``/open311/…`` (platform) and ``/<tenant>/open311/…`` (municipality)."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        for prefix in ("", "/<tenant>"):
            bp.add_url_rule(f"{prefix}/open311{rule}", view_func=view, **options)
        return view

    return decorate


# --- Format, jurisdiction and errors --------------------------------------------------------


def _response_format() -> str:
    """The format asked for by the resource's extension; XML (the required one) otherwise."""
    view_args = request.view_args or {}
    fmt = view_args.get("fmt") or (view_args.get("rest") or "").rpartition(".")[2]
    return fmt if fmt in FORMATS else "xml"


@bp.before_request
def _resolve_jurisdiction() -> None:
    """The format must exist; the municipality comes from the URL or from ``jurisdiction_id``."""
    fmt = (request.view_args or {}).get("fmt")
    if fmt is not None and fmt not in FORMATS:
        raise Open311Error(404, _("Onbekend formaat ‘%(fmt)s’: gebruik .xml of .json.", fmt=fmt))
    if request.endpoint in _WITHOUT_JURISDICTION:
        return
    if request.method == "POST":
        request.get_data(cache=True)  # keep the raw body: the Idempotency-Key fingerprint is taken over it
    given = (request.values.get("jurisdiction_id") or "").strip()
    if "tenant" in g:
        if given and given != g.tenant.slug:
            raise Open311Error(404, _("jurisdiction_id ‘%(id)s’ is hier onbekend; dit eindpunt dient %(slug)s.",
                                      id=given[:60], slug=g.tenant.slug))
        return
    if not given:
        raise Open311Error(400, _("jurisdiction_id ontbreekt: geef de gemeente op (bv. %(example)s).",
                                  example="jurisdiction_id=lochristi"))
    session = get_session()
    tenant = tenant_by_slug(session, given[:40])
    if tenant is None:
        raise Open311Error(404, _("jurisdiction_id ‘%(id)s’ is geen gemeente op dit platform.", id=given[:60]))
    g.tenant = tenant
    set_tenant(session, tenant.id)


@bp.errorhandler(Open311Error)
def _open311_error(error: Open311Error) -> Response:
    return render_errors(_response_format(), error.status, error.descriptions)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    """Every other refusal (unknown municipality, too large, too many requests) in the spec's format."""
    code = error.code or 500
    rule = request.url_rule.rule if request.url_rule else ""
    if code == 404 and rule.startswith("/<tenant>") and "tenant" not in g:
        message = _("Deze gemeente (jurisdictie) bestaat niet op dit platform.")
    else:
        message = {
            404: _("Deze bron bestaat niet."),
            405: _("Deze methode is hier niet toegestaan."),
            413: _("Wat u verstuurde is te groot. Er is niets gewijzigd."),
            429: _("U stuurde te veel aanvragen. Probeer het straks opnieuw."),
        }.get(code, _("De aanvraag kon niet verwerkt worden. Er is niets gewijzigd."))
    response = render_errors(_response_format(), code, [message])
    retry_after = error.get_response().headers.get("Retry-After")
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


# --- Shared pieces -------------------------------------------------------------------------


def w3c(value: datetime | None) -> str | None:
    """ISO 8601 with the time zone (W3C profile), in Belgian time."""
    return as_utc(value).astimezone(TIMEZONE).isoformat(timespec="seconds") if value else None


def _parse_w3c(name: str, raw: str, *, end_of_day: bool = False) -> datetime:
    """A W3C date-time with a time zone, or a date (a whole day in UTC)."""
    raw = raw.strip()
    problem = _("%(name)s: ‘%(value)s’ is geen W3C-datum; schrijf bv. 2026-11-28T10:00:00Z.",
                name=name, value=raw[:40])
    if len(raw) > 40:
        raise Open311Error(400, problem)
    try:
        if "T" not in raw and len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise Open311Error(400, problem) from None
    if parsed.tzinfo is None:
        raise Open311Error(400, _("%(name)s: geef een tijdzone (Z of +01:00).", name=name))
    return parsed.astimezone(UTC)


def _window(args: MultiDict[str, str]) -> tuple[datetime, datetime]:
    """``start_date``/``end_date``: at most 90 days apart; the last 90 days when neither is given."""
    raw_start = (args.get("start_date") or "").strip()
    raw_end = (args.get("end_date") or "").strip()
    start = _parse_w3c("start_date", raw_start) if raw_start else None
    end = _parse_w3c("end_date", raw_end, end_of_day=True) if raw_end else None
    if start is None and end is None:
        end = now()
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if start > end:
        raise Open311Error(400, _("start_date ligt na end_date."))
    if end - start > MAX_SPAN:
        raise Open311Error(400, _("start_date en end_date liggen hoogstens %(days)s dagen uit elkaar.",
                                  days=MAX_SPAN.days))
    return start, end


def _comma_list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _meldingen(tenant: Tenant) -> dict[str, CaseType]:
    """The municipality's services: its public reports (anonymity allowed); never questions or personal requests."""
    return {code: t for code, t in case_types_for(tenant).items() if t.public}


def _service(code: str) -> CaseType:
    case_type = _meldingen(g.tenant).get(code)
    if case_type is None:
        raise Open311Error(404, _("service_code ‘%(code)s’ bestaat niet bij %(name)s.", code=code[:60],
                                  name=g.tenant.name))
    return case_type


def _notice(case_type: CaseType | None) -> str | None:
    if case_type is None:
        return None
    return _("We streven ernaar dit binnen %(days)s dagen af te handelen.", days=case_type.target_days)


# --- Discovery -----------------------------------------------------------------------------


def _endpoint_url(tenant: Tenant | None) -> str:
    root = request.url_root.rstrip("/")
    host = request.host.split(":", 1)[0].lower()
    if tenant is None or current_app.config["HOST_MAP"].get(host) == tenant.slug:
        return f"{root}/open311/v2/"
    return f"{root}/{tenant.slug}/open311/v2/"


@_route("/discovery.<fmt>", methods=["GET"])
def discovery(fmt: str) -> Response:
    """Service Discovery: where the GeoReport v2 endpoint is and what it speaks."""
    tenant: Tenant | None = g.get("tenant")
    if tenant is not None:
        changed = tenant.updated_at
        contact = current_app.config.get("OPEN311_CONTACT") or _(
            "Gemeente %(name)s, via %(url)s", name=tenant.name, url=f"{request.url_root}{tenant.slug}/")
    else:
        changed = get_session().scalar(select(func.max(Tenant.updated_at)))
        contact = current_app.config.get("OPEN311_CONTACT") or _(
            "Het Fygitaal-platform, via %(url)s", url=request.url_root)
    changeset = w3c(changed) or w3c(now())
    payload = {
        "changeset": changeset,
        "contact": contact,
        "key_service": _("Een api_key (om meldingen te versturen) vraagt u aan bij de gemeente: haar "
                         "beheerder maakt een API-client met een Open311-sleutel. Lezen kan zonder sleutel."),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": _endpoint_url(tenant),
            "changeset": changeset,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }
    return render(fmt, payload, root="discovery")


# --- Services ------------------------------------------------------------------------------


def _variable_fields(schema: type[Schema] | None) -> list[tuple[str, fields.Field]]:
    if schema is None:
        return []
    return [(name, field) for name, field in schema().fields.items() if not field.dump_only]


def _choices(field: fields.Field, names: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """``(key, name)`` of a OneOf; names from the field's ``values`` metadata, else the OneOf's labels."""
    names = names or field.metadata.get("values") or {}
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            labels = list(validator.labels or [])
            return [(str(key), str(names.get(key) or (labels[i] if i < len(labels) else key)))
                    for i, key in enumerate(validator.choices)]
    return []


def _datatype(field: fields.Field) -> tuple[str, list[tuple[str, str]]]:
    """The Open311 datatype of a marshmallow field, with its list of values for list types."""
    if isinstance(field, fields.List):
        return "multivaluelist", _choices(field.inner, field.metadata.get("values"))
    if isinstance(field, fields.Boolean):
        return "singlevaluelist", [("true", _("Ja")), ("false", _("Nee"))]
    if _choices(field):
        return "singlevaluelist", _choices(field)
    if isinstance(field, _NUMBERS):
        return "number", []
    if isinstance(field, _DATETIMES):
        return "datetime", []
    longest = next((v.max for v in field.validators if isinstance(v, validate.Length)), None)
    if field.metadata.get("multiline") or longest is None or longest > 255:
        return "text", []
    return "string", []


def _datatype_description(field: fields.Field, datatype: str) -> str | None:
    if datatype in ("string", "text"):
        longest = next((v.max for v in field.validators if isinstance(v, validate.Length)), None)
        return _("Hoogstens %(n)s tekens.", n=longest) if longest else None
    if datatype == "number":
        return _("Een getal.")
    if datatype == "datetime":
        return _("Datum en tijd in W3C-formaat, met tijdzone.")
    if datatype == "multivaluelist":
        return _("Een of meer waarden uit de lijst.")
    return None


def _attributes(case_type: CaseType) -> list[dict[str, Any]]:
    attributes = []
    for order, (name, field) in enumerate(_variable_fields(case_type.schema), start=1):
        datatype, values = _datatype(field)
        label = field.metadata.get("label") or name
        attributes.append({
            "variable": True,
            "code": field.data_key or name,
            "datatype": datatype,
            "required": bool(field.required),
            "datatype_description": _datatype_description(field, datatype),
            "order": order,
            "description": label.get("nl", name) if isinstance(label, dict) else str(label),
            "values": [{"key": key, "name": value_name} for key, value_name in values],
        })
    return attributes


@_route("/v2/services.<fmt>", methods=["GET"])
def services(fmt: str) -> Response:
    """GET Service List: the municipality's kinds of melding."""
    payload = [{
        "service_code": t.code,
        "service_name": t.label("nl"),
        "description": t.description.get("nl") or t.label("nl"),
        "metadata": bool(_variable_fields(t.schema)),
        "type": "realtime",
        "keywords": ", ".join(t.keywords),
        "group": t.group,
    } for t in _meldingen(g.tenant).values()]
    return render(fmt, payload, root="services", item="service")


@_route("/v2/services/<service_code>.<fmt>", methods=["GET"])
def service_definition(service_code: str, fmt: str) -> Response:
    """GET Service Definition: the extra fields of one kind of melding, as Open311 attributes."""
    case_type = _service(service_code)
    payload = {"service_code": case_type.code, "attributes": _attributes(case_type)}
    return render(fmt, payload, root="service_definition")


# --- Service requests: reading ---------------------------------------------------------------


def _status_notes(case: Case, parents: dict[int, str]) -> str:
    """The honest state: how it was resolved, to whom it was referred, what it was merged with."""
    if case.status == "samengevoegd":
        return _("Samengevoegd met %(reference)s", reference=parents.get(case.merged_into_id or 0, "?"))
    # Only labels: a note staff wrote for the reporter is theirs, not the internet's.
    if case.status == "afgehandeld":
        parts = [resolution_label(case.resolution)]
    elif case.status == "doorverwezen":
        parts = [_("Doorverwezen naar %(who)s", who=case.referred_to or "?")]
    else:
        parts = [status_label(case.status)]
    return ": ".join(part for part in parts if part)


def _request_entries(cases: list[Case]) -> list[dict[str, Any]]:
    """Service requests as the spec lists them; nothing about the reporter."""
    types = case_types_for(g.tenant)
    parents = queries.references_by_id(get_session(), {c.merged_into_id for c in cases if c.merged_into_id})
    entries = []
    for case in cases:
        case_type = types.get(case.type_code)
        entries.append({
            "service_request_id": case.reference,
            "status": "open" if case.status in OPEN_STATES else "closed",
            "status_notes": _status_notes(case, parents),
            "service_name": case_type.label("nl") if case_type else case.type_code,
            "service_code": case.type_code,
            "description": case.description,
            "agency_responsible": case.department.name if case.department else None,
            "service_notice": _notice(case_type),
            "requested_datetime": w3c(case.created_at),
            "updated_datetime": w3c(case.updated_at),
            "expected_datetime": w3c(case.due_at),
            "address": case.address,
            "address_id": None,
            "zipcode": None,
            "lat": case.lat,
            "long": case.lon,
            "media_url": None,
        })
    return entries


def _render_requests(fmt: str, payload: list[dict[str, Any]], status: int = 200) -> Response:
    return render(fmt, payload, root="service_requests", item="request", status=status)


@_route("/v2/requests.<fmt>", methods=["GET"])
def service_requests(fmt: str) -> Response:
    """GET Service Requests, with the spec's filters; newest first, at most 1,000."""
    args = request.args
    references = _comma_list(args.get("service_request_id"))
    session = get_session()
    if references:
        if len(references) > MAX_RECORDS:
            raise Open311Error(400, _("Vraag hoogstens %(n)s service_request_id's tegelijk.", n=MAX_RECORDS))
        cases = queries.public_reports(session, _meldingen(g.tenant), references=references, limit=MAX_RECORDS)
    else:
        statuses = _comma_list(args.get("status"))
        unknown = [s for s in statuses if s not in ("open", "closed")]
        if unknown:
            raise Open311Error(400, _("status: kies open of closed (niet ‘%(value)s’).", value=unknown[0][:30]))
        start, end = _window(args)
        cases = queries.public_reports(session, _meldingen(g.tenant), type_codes=_comma_list(args.get("service_code")),
                                       start=start, end=end, open_or_closed=statuses, limit=MAX_RECORDS)
    return _render_requests(fmt, _request_entries(cases))


@_route("/v2/requests/<service_request_id>.<fmt>", methods=["GET"])
def service_request(service_request_id: str, fmt: str) -> Response:
    """GET Service Request: a list with the one request."""
    case = queries.public_report(get_session(), _meldingen(g.tenant), service_request_id[:40])
    if case is None:
        raise Open311Error(404, _("service_request_id ‘%(id)s’ bestaat niet bij %(name)s.",
                                  id=service_request_id[:40], name=g.tenant.name))
    return _render_requests(fmt, _request_entries([case]))


@_route("/v2/tokens/<token>.<fmt>", methods=["GET"])
def token(token: str, fmt: str) -> Response:
    """GET request_id from a token: we create every request at once, so no token ever exists."""
    raise Open311Error(404, _("Token onbekend: dit eindpunt maakt elke melding meteen aan en antwoordt "
                              "met service_request_id, nooit met een token."))


def _update_text(event: CaseEvent, case: Case) -> str:
    if event.kind == "merged":
        return _("Samengevoegd met %(reference)s", reference=event.body or "?")
    label = status_label(event.to_status or "")
    latest = case.status == event.to_status and case.closed_at is not None \
        and as_utc(case.closed_at) == as_utc(event.created_at)
    if latest and case.status == "afgehandeld":
        label = resolution_label(case.resolution) or label
    elif latest and case.status == "doorverwezen":
        label = _("Doorverwezen naar %(who)s", who=case.referred_to or "?")
    return label  # never the event's text: it was written for the reporter


@_route("/v2/servicerequestupdates.<fmt>", methods=["GET"])
def service_request_updates(fmt: str) -> Response:
    """mySociety's extension: state changes in a window, so FixMyStreet can follow them."""
    start, end = _window(request.args)
    rows = queries.status_updates(get_session(), _meldingen(g.tenant), start, end, limit=MAX_RECORDS)
    payload = [{
        "update_id": str(event.id),
        "service_request_id": case.reference,
        "status": "OPEN" if (event.to_status or "") in OPEN_STATES else "CLOSED",
        "updated_datetime": w3c(event.created_at),
        "description": _update_text(event, case),
        "media_url": None,
    } for event, case in rows]
    return render(fmt, payload, root="service_requests_updates", item="request_update")


# --- Service requests: creating --------------------------------------------------------------


def _api_client(values: MultiDict[str, str]) -> ApiClient:
    """The client the ``api_key`` is bound to; it must belong to this municipality."""
    api_key = (values.get("api_key") or "").strip()
    if not api_key and request.args.get("api_key"):
        raise Open311Error(403, _("api_key hoort in de body van de POST, niet in de URL (die komt in logs terecht)."))
    if not api_key:
        raise Open311Error(403, _("api_key ontbreekt: vraag er een aan bij de gemeente."))
    client = client_by_open311_key(get_session(), api_key[:200])
    if client is None or client.tenant_id != g.tenant.id:
        raise Open311Error(403, _("Ongeldige api_key voor %(name)s.", name=g.tenant.name))
    return client


def _attribute_values(form: MultiDict[str, str], case_type: CaseType) -> dict[str, Any]:
    """``attribute[code]=v`` and ``attribute[code][]=v`` (a multivaluelist) as the schema's input."""
    lists = {field.data_key or name for name, field in _variable_fields(case_type.schema)
             if isinstance(field, fields.List)}
    data: dict[str, Any] = {}
    for key in form:
        match = _ATTRIBUTE.match(key)
        if match is None:
            continue
        code, brackets = match.group(1), match.group(2)
        given = [v for v in form.getlist(key) if v.strip()]
        if not given:
            continue  # an empty parameter counts as absent
        if brackets or code in lists:
            data.setdefault(code, []).extend(given)
        else:
            data[code] = given[0]
    return data


def _location(values: MultiDict[str, str], problems: list[str]) -> tuple[float | None, float | None]:
    """The spec's rule: ``lat`` and ``long``, or ``address_string``, or ``address_id``."""
    raw_lat, raw_long = (values.get("lat") or "").strip(), (values.get("long") or "").strip()
    if not (raw_lat or raw_long):
        if not ((values.get("address_string") or "").strip() or (values.get("address_id") or "").strip()):
            problems.append(_("lat/long: geef lat en long, of address_string, of address_id."))
        return None, None
    if not (raw_lat and raw_long):
        problems.append(_("lat/long: geef zowel lat als long."))
        return None, None
    try:
        lat, lon = float(raw_lat[:40]), float(raw_long[:40])
    except ValueError:
        problems.append(_("lat/long: geef getallen in WGS84 (bv. lat=51.10&long=3.82)."))
        return None, None
    if not geo.valid_wgs84(lat, lon):
        problems.append(_("lat/long: geef getallen in WGS84 (bv. lat=51.10&long=3.82)."))
    elif not geo.contains(g.tenant, lat, lon):
        problems.append(_("lat/long: deze plaats ligt niet in gemeente %(name)s; stuur de melding naar de "
                          "gemeente waar ze ligt.", name=g.tenant.name))
    return lat, lon


def _check_post(values: MultiDict[str, str], case_type: CaseType,
                data: dict[str, Any]) -> tuple[float | None, float | None]:
    """The spec's own rules, every problem at once (the intake service checks the rest)."""
    problems: list[str] = []
    lat, lon = _location(values, problems)
    description = values.get("description") or ""
    if len(description.strip()) > intake.MAX_DESCRIPTION:
        problems.append(_("description: hoogstens %(n)s tekens.", n=intake.MAX_DESCRIPTION))
    if _HTML.search(description):
        problems.append(_("description: gewone tekst, geen HTML."))
    media_url = (values.get("media_url") or "").strip()
    if media_url and (len(media_url) > MAX_MEDIA_URL or not media_url.startswith(("https://", "http://"))):
        problems.append(_("media_url: geef een http(s)-adres van hoogstens %(n)s tekens.", n=MAX_MEDIA_URL))
    if len((values.get("address_id") or "").strip()) > MAX_ADDRESS_ID:
        problems.append(_("address_id: hoogstens %(n)s tekens.", n=MAX_ADDRESS_ID))
    if case_type.schema is not None:
        try:
            case_type.schema().load(data)
        except ValidationError as exc:
            problems.extend(_field_problems("data", exc.messages))
    if problems:
        raise Open311Error(400, *problems)
    return lat, lon


def _field_problems(prefix: str, messages: Any) -> list[str]:
    """``{"volume": ["Missing data …"]}`` → ``["attribute[volume]: Missing data …"]``."""
    if not isinstance(messages, dict):
        return [f"{_parameter(prefix)}: {messages}"]
    problems = []
    for name, texts in messages.items():
        for text in texts if isinstance(texts, list) else [texts]:
            problems.append(f"{_parameter(f'{prefix}.{name}')}: {text}")
    return problems


def _parameter(intake_field: str) -> str:
    """The Open311 parameter an intake field comes from."""
    if intake_field.startswith("data."):
        return f"attribute[{intake_field.removeprefix('data.')}]"
    return _INTAKE_FIELDS.get(intake_field, intake_field)


def _intake_request(values: MultiDict[str, str], case_type: CaseType, data: dict[str, Any],
                    lat: float | None, lon: float | None) -> intake.IntakeRequest:
    name = " ".join(part for part in ((values.get("first_name") or "").strip(),
                                      (values.get("last_name") or "").strip()) if part)
    address = (values.get("address_string") or "").strip()
    address_id = (values.get("address_id") or "").strip()
    if not address and address_id:
        address = f"address_id {address_id}"
    description = (values.get("description") or "").strip() or case_type.label("nl")
    return intake.IntakeRequest(
        type_code=case_type.code, description=description, data=data, lat=lat, lon=lon,
        address=address or None, reporter_name=name or None,
        reporter_email=(values.get("email") or "").strip() or None,
        reporter_phone=(values.get("phone") or "").strip() or None,
    )


def _create(client: ApiClient) -> list[dict[str, Any]]:
    """Check the spec's rules, file the melding through the intake service, commit, announce."""
    values = request.values
    code = (values.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, _("service_code ontbreekt."))
    case_type = _service(code)
    data = _attribute_values(request.form, case_type)
    lat, lon = _check_post(values, case_type, data)
    session = get_session()
    at = now()
    actor = f"open311:{client.client_id}"
    try:
        result = intake.submit_case(session, g.tenant, _intake_request(values, case_type, data, lat, lon),
                                    channel="open311", actor=actor, at=at)
    except intake.IntakeError as refused:
        session.rollback()
        raise Open311Error(400, *[f"{_parameter(field)}: {message}" for field, messages in refused.errors.items()
                                  for message in messages]) from None
    media_url = (values.get("media_url") or "").strip()
    if media_url:
        handling.add_note(session, result.case, _("Via Open311 verwees de melder naar media op %(url)s; dat "
                                                  "bestand is niet opgehaald.", url=media_url), actor=actor, at=at)
    session.commit()
    intake.announce(g.tenant, result.case, session)
    return [{"service_request_id": result.case.reference, "service_notice": _notice(case_type),
             "account_id": (values.get("account_id") or "").strip()[:100] or None}]


@idempotent
def _create_once() -> Response:
    """The work behind ``Idempotency-Key``: answers (refusals included) are JSON, so they can be replayed."""
    try:
        payload, status = _create(g.api_client), 201
    except Open311Error as refused:
        payload = [{"code": refused.status, "description": d} for d in refused.descriptions]
        status = refused.status
    return Response(to_json(payload), status=status, content_type=FORMATS["json"])


def _in_format(fmt: str, answer: Response) -> Response:
    """The (possibly replayed) JSON answer in the requested format; a problem+json refusal as Open311 errors."""
    body = answer.get_json(silent=True)
    status = answer.status_code
    if status >= 400 and not isinstance(body, list):
        detail = body.get("detail") if isinstance(body, dict) else None
        body = [{"code": status, "description": detail or answer.get_data(as_text=True)[:500]}]
    if status >= 400:
        response = render(fmt, body, root="errors", item="error", status=status)
    else:
        response = _render_requests(fmt, body, status=status)
    for header in ("Retry-After", "Idempotent-Replayed"):
        if header in answer.headers:
            response.headers[header] = answer.headers[header]
    response.headers["Cache-Control"] = "no-store"
    return response


@_route("/v2/requests.<fmt>", methods=["POST"])
def create_service_request(fmt: str) -> Response:
    """POST Service Request: one melding through the intake service, created at once.

    An ``Idempotency-Key`` header makes a retry replay the first answer instead of filing twice.
    """
    g.api_client = _api_client(request.form)
    return _in_format(fmt, _create_once())


# --- Anything else under /open311/ --------------------------------------------------------------

_RESOURCES = re.compile(r"^v2/(services(/[^/]+)?|requests(/[^/]+)?|tokens/[^/]+|servicerequestupdates)\.[a-z]+$")


@_route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_resource(rest: str) -> Response:
    """A resource the spec does not have (404), or a method a resource does not take (405)."""
    if _RESOURCES.match(rest) or rest in ("discovery.xml", "discovery.json"):
        response = render_errors(_response_format(), 405, [_("Deze methode is hier niet toegestaan.")])
        response.headers["Allow"] = "GET, POST" if rest.startswith("v2/requests.") else "GET"
        return response
    raise Open311Error(404, _("Deze bron bestaat niet."))
