"""The REST API, version 1: ``/api/v1/<gemeente>/…`` for API clients of that municipality.

flask-smorest builds the OpenAPI 3 document (``/api/v1/openapi.json``) from these views. The views
are thin: cases are filed through :func:`core.cases.intake.submit_case` and handled through
:mod:`core.cases.handling`, exactly as the web pages do. Every error is RFC 9457 problem details.
"""

from __future__ import annotations

import http
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, Response, g, request, url_for
from flask.views import MethodView
from flask_smorest import Api, Blueprint, abort
from flask_smorest.utils import prepare_response
from marshmallow import RAISE
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from core.api import idempotency
from core.api.oauth import api_scope
from core.api.problems import API_PREFIXES, problem
from core.api.schemas import (
    REFERENCE,
    TENANT_SLUG,
    Base64Bytes,
    CaseDetailSchema,
    CasePageSchema,
    CaseQuerySchema,
    CaseTypeSchema,
    CreatedCase,
    CreatedCaseSchema,
    DepartmentSchema,
    MessageSchema,
    NewCaseSchema,
    NewMessageSchema,
    ProblemSchema,
    StatusChangeSchema,
    status_change_rules,
)
from core.cases.handling import HandlingError, change_state, message_resident
from core.cases.intake import IntakeError, IntakeRequest, announce, submit_case
from core.cases.lifecycle import InvalidTransition
from core.cases.models import Case
from core.cases.notify import follow_url
from core.cases.types import case_types_for
from core.clock import now
from core.db import get_session
from core.tenancy.models import Department

F = TypeVar("F", bound=Callable[..., Any])

PROBLEM_JSON = "application/problem+json"
BEARER = "bearerAuth"
DESCRIPTION = f"""The REST API of a Fygitaal municipality, for its own systems and apps.

**Access.** OAuth2 client credentials: `POST /oauth/token` with the client's id and secret gives a
bearer token; each operation names the scope it needs. A client belongs to one municipality: the
`{{tenant}}` in the path must be its municipality, anything else answers 404.

**Errors** are RFC 9457 problem details (`application/problem+json`) with `type`, `title`,
`status`, `detail` and, for invalid input, `errors` (field → messages). Invalid input changes
nothing. A status change the case's current status does not allow answers 409.

**Idempotency.** {idempotency.DOCUMENTATION}

**Paging.** `GET cases` pages by id (keyset): pass the last `id` as `after`, or follow `next`.

Field names follow the Flemish OSLO "Melding" vocabulary (`melder`, `behandelaar`, `status`,
`type`, `bijlage`) where it has a term. Reporters' contact details are accepted, never shown."""

_DETAILS = {
    400: "The request could not be read.",
    401: "A valid bearer token is needed.",
    403: "The token does not have the scope this operation needs.",
    404: "Not found: no such municipality, case or path for this client.",
    405: "This method is not allowed here; the Allow header lists the ones that are.",
    413: "The request is too large.",
    422: "The input is not valid; nothing was changed.",
    429: "Too many requests; retry after the number of seconds in Retry-After.",
    500: "Something went wrong on our side. Try again later.",
}
# The intake service names fields after its own arguments; the API answers in the API's names.
_INTAKE_FIELDS = {"type": "type", "description": "beschrijving", "data": "gegevens", "location": "locatie",
                  "email": "melder.email", "contact": "melder", "address": "melder.adres", "photos": "bijlagen",
                  "channel": "kanaal"}

blp = Blueprint("api_v1", __name__, url_prefix="/api/v1/<tenant>",
                description="A municipality's cases (meldingen en vragen), case types and departments.")


# --- Errors ------------------------------------------------------------------------------


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as ``{"a.b": ["…"]}``."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for name, value in messages.items():
            flat.update(_flatten(value, f"{prefix}.{name}" if prefix else str(name)))
        return flat
    if isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        return {prefix or "body": list(messages)}
    return {prefix or "body": [str(messages)]}


def _validation_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    if data.get("errors"):
        return dict(data["errors"])
    flat: dict[str, list[str]] = {}
    for by_field in (data.get("messages") or {}).values():  # webargs: {location: {field: [...]}}
        flat.update(_flatten(by_field))
    return flat


def problem_for(error: HTTPException) -> Response:
    """Every HTTP error of the API as problem details, with the validation errors per field."""
    status = error.code or 500
    data: dict[str, Any] = getattr(error, "data", None) or {}
    errors = _validation_errors(data)
    detail = data.get("message")
    if not detail and errors:
        detail = "Invalid input: " + "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
    response = problem(status, detail or _DETAILS.get(status) or HTTP_STATUS_CODES.get(status, "Error"),
                       **({"errors": errors} if errors else {}))
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    original = error.get_response().headers
    for name in ("Allow", "Retry-After", "WWW-Authenticate"):
        if name in original and name not in response.headers:
            response.headers[name] = original[name]
    return response


blp.register_error_handler(HTTPException, problem_for)


def _routing_errors_first() -> None:
    """An API path that matches no route (404) or not with this method (405) says so at once.

    Without this the CSRF check, which knows only the API blueprints by name, would answer 400
    for an unsafe method on such a path. Bearer-token clients send no cookies: CSRF does not apply.
    """
    if request.routing_exception is not None and request.path.startswith(API_PREFIXES):
        raise request.routing_exception


def _allow_on_405(response: Response) -> Response:
    """A 405 from routing (outside any view) still says which methods are allowed (RFC 9110)."""
    if response.status_code == 405 and request.path.startswith(API_PREFIXES) and "Allow" not in response.headers:
        refused = request.routing_exception
        if isinstance(refused, MethodNotAllowed) and refused.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(refused.valid_methods))
    return response


# --- Decorators that also document -----------------------------------------------------------


def requires(scope: str) -> Callable[[F], F]:
    """A bearer token with ``scope`` for this municipality (401, 403; another municipality's: 404)."""

    def decorate(view: F) -> F:
        documented = blp.doc(security=[{BEARER: []}])(api_scope(scope)(view))
        for status in (401, 403, 404):
            documented = blp.alt_response(status, response=http.HTTPStatus(status).name)(documented)
        return documented  # type: ignore[no-any-return]

    return decorate


IDEMPOTENCY_KEY = {
    "in": "header", "name": idempotency.HEADER, "required": False, "description": idempotency.DOCUMENTATION,
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH,
               "pattern": idempotency.KEY_PATTERN},
}
REPLAYED = {idempotency.REPLAYED_HEADER: {
    "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
    "schema": {"type": "string", "enum": ["true"]},
}}


def once(view: F) -> F:
    """Honour ``Idempotency-Key`` (see :mod:`core.api.idempotency`) and document it."""
    documented = blp.doc(parameters=[IDEMPOTENCY_KEY])(idempotency.idempotent(view))
    documented = blp.alt_response(400, response="BAD_REQUEST")(documented)
    return blp.alt_response(409, response="CONFLICT")(documented)  # type: ignore[no-any-return]


# --- Helpers -----------------------------------------------------------------------------------


def _actor() -> str:
    return f"api:{g.api_client.client_id}"


def _case(reference: str, *, for_update: bool = False) -> Case:
    """The municipality's case with this reference, with what the answer shows loaded up front."""
    if not re.fullmatch(REFERENCE, reference):
        abort(404, message=f"No case {reference!r} here: a reference looks like ZV-2026-00001.")
    statement = (select(Case).where(Case.reference == reference)
                 .options(joinedload(Case.department), selectinload(Case.attachments), selectinload(Case.events)))
    if for_update:
        statement = statement.with_for_update(of=Case)
    case = get_session().scalar(statement)
    if case is None:
        abort(404, message=f"No case {reference} in this municipality.")
    return case


def _utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # within hours of year 1 or 9999: clamp
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


def _intake_request(data: dict[str, Any]) -> IntakeRequest:
    reporter = data.get("melder") or {}
    location = data.get("locatie") or {}
    return IntakeRequest(
        type_code=data["type"], description=data["beschrijving"], data=data["gegevens"],
        lat=location.get("lat"), lon=location.get("lon"), address=data.get("adres"),
        reporter_name=reporter.get("naam"), reporter_email=reporter.get("email"),
        reporter_phone=reporter.get("telefoon"), reporter_address=reporter.get("adres"),
        preferred_channel=reporter.get("voorkeurkanaal"), photos=data.get("bijlagen") or [],
        language=reporter.get("taal", "nl"),
    )


def _api_field(name: str) -> str:
    head, dot, rest = name.partition(".")
    mapped = _INTAKE_FIELDS.get(head, head)
    return f"{mapped}.{rest}" if dot else mapped


# --- Views -------------------------------------------------------------------------------------


@blp.route("/departments")
class Departments(MethodView):
    @requires("departments:read")
    @blp.response(200, DepartmentSchema(many=True))
    def get(self) -> Any:
        """The municipality's departments (diensten), which cases are routed to. Scope `departments:read`."""
        return get_session().scalars(select(Department).order_by(Department.code)).all()


@blp.route("/case-types")
class CaseTypes(MethodView):
    @requires("cases:read")
    @blp.response(200, CaseTypeSchema(many=True))
    def get(self) -> Any:
        """What can be filed here: the case types, with the extra fields each takes. Scope `cases:read`."""
        return list(case_types_for(g.tenant).values())


@blp.route("/cases")
class Cases(MethodView):
    @requires("cases:read")
    @blp.arguments(CaseQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, CasePageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """The municipality's cases, oldest first, filtered, one page at a time. Scope `cases:read`."""
        limit = query["limit"]
        statement = (select(Case).options(joinedload(Case.department), selectinload(Case.attachments))
                     .order_by(Case.id).limit(limit + 1))
        follow = {name: query[name] for name in ("status", "type", "dienst") if name in query}
        if "status" in query:
            statement = statement.where(Case.status == query["status"])
        if "type" in query:
            statement = statement.where(Case.type_code == query["type"])
        if "dienst" in query:
            statement = statement.where(Case.department_id.in_(
                select(Department.id).where(Department.code == query["dienst"])))
        if "aangemaakt_sinds" in query:
            since = _utc(query["aangemaakt_sinds"])
            statement = statement.where(Case.created_at >= since)
            follow["aangemaakt_sinds"] = since.isoformat()
        if "after" in query:
            statement = statement.where(Case.id > query["after"])
        rows = get_session().scalars(statement).unique().all()
        items = rows[:limit]
        more = len(rows) > limit
        next_url = url_for("api_v1.Cases", _external=True, limit=limit, after=items[-1].id, **follow) if more else None
        return {"items": items, "next": next_url}

    @requires("cases:write")
    @once
    @blp.arguments(NewCaseSchema)
    @blp.response(201, CreatedCaseSchema, headers=REPLAYED)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="The intake refused the case.")
    def post(self, data: dict[str, Any]) -> Any:
        """File a melding or vraag through the municipality's intake (as its web form does). Scope `cases:write`.

        The municipality's own rules are checked by the intake: the type must be one of its case
        types, `gegevens` must match that type's extra fields, `locatie` must lie in the
        municipality, photos must be images. Any refusal is a 422 with `errors` per field, and
        nothing is stored. The answer holds the resident's `follow_url` (only here, once).
        """
        db = get_session()
        try:
            result = submit_case(db, g.tenant, _intake_request(data), channel=data["kanaal"], actor=_actor(),
                                 at=now())
        except IntakeError as error:
            db.rollback()
            errors = {}
            for name, messages in error.errors.items():
                errors.setdefault(_api_field(name), []).extend(messages)
            summary = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
            abort(422, message=f"The case was not filed. {summary}", errors=errors)
        db.commit()
        announce(g.tenant, result.case, db)
        return CreatedCase(result.case, follow_url(g.tenant, result.follow_token))


REFERENCE_PARAMETER = {"in": "path", "name": "reference", "description": "The case's reference, e.g. `ZV-2026-00001`.",
                       "schema": {"type": "string", "pattern": REFERENCE}}


@blp.route("/cases/<reference>", parameters=[REFERENCE_PARAMETER])
class CaseDetail(MethodView):
    @requires("cases:read")
    @blp.response(200, CaseDetailSchema)
    def get(self, reference: str) -> Any:
        """One case, with the history the resident also sees. Scope `cases:read`."""
        return _case(reference)


@blp.route("/cases/<reference>/status", parameters=[REFERENCE_PARAMETER])
class CaseStatus(MethodView):
    @requires("cases:write")
    @once
    @blp.arguments(StatusChangeSchema)
    @blp.response(200, CaseDetailSchema, headers=REPLAYED)
    def post(self, data: dict[str, Any], reference: str) -> Any:
        """Change the case's status through the transition table; the reporter is told. Scope `cases:write`.

        Closing honestly needs what the resident will read: `afgehandeld` needs a `resolutie`
        (and `niet_opgelost` a `toelichting`), `doorverwezen` needs `doorverwezen_naar`; without
        them the answer is 422. A change the case's current status does not allow (e.g. from
        `afgehandeld` to `wacht_op_burger`) answers 409 Conflict: the request is fine, the case's
        state is not. Nothing changes in either case.
        """
        db = get_session()
        case = _case(reference, for_update=True)
        try:
            change_state(db, g.tenant, case, data["status"], actor=_actor(), at=now(),
                         resolution=data.get("resolutie"), note=data.get("toelichting"),
                         referred_to=data.get("doorverwezen_naar"))
        except InvalidTransition as error:
            db.rollback()
            abort(409, message=str(error))
        except HandlingError as error:
            db.rollback()
            abort(422, message=str(error), errors={"status": [str(error)]})
        db.commit()
        db.expire(case, ["events"])
        return case


@blp.route("/cases/<reference>/messages", parameters=[REFERENCE_PARAMETER])
class CaseMessages(MethodView):
    @requires("cases:write")
    @once
    @blp.arguments(NewMessageSchema)
    @blp.response(201, MessageSchema, headers=REPLAYED)
    def post(self, data: dict[str, Any], reference: str) -> Any:
        """Send the resident a message: on their follow-up page and on their channel. Scope `cases:write`."""
        db = get_session()
        case = _case(reference)
        at = now()
        try:
            message_resident(db, g.tenant, case, data["tekst"], actor=_actor(), at=at)
        except HandlingError as error:
            db.rollback()
            abort(422, message=str(error), errors={"tekst": [str(error)]})
        db.commit()
        return {"referentie": case.reference, "tekst": data["tekst"].strip(), "tijdstip": at}


# --- The Api --------------------------------------------------------------------------------------


class FygitaalApi(Api):
    """flask-smorest's Api, with problem details as the documented error body.

    It registers no app-wide error handler: the web shell already answers problem details for
    ``/api/`` paths, and the blueprint's own handler adds the validation errors.
    """

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        return None

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response = {"description": status.phrase, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any error, as problem details.", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


TENANT_PARAMETER = {"in": "path", "name": "tenant", "description": "The municipality's slug, e.g. `lochristi`.",
                    "schema": {"type": "string", "pattern": TENANT_SLUG, "maxLength": 40}}


def init_app(app: Flask) -> FygitaalApi:
    """Mount the API and its OpenAPI document at ``/api/v1/openapi.json``."""
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = FygitaalApi(app, spec_kwargs={"title": "Fygitaal", "version": "1", "openapi_version": "3.0.3",
                                        "info": {"description": DESCRIPTION}})
    api.register_field(Base64Bytes, "string", "byte")
    api.spec.components.security_scheme(BEARER, {
        "type": "http", "scheme": "bearer",
        "description": "An access token from `POST /oauth/token` (OAuth2 client credentials).",
    })
    api.register_blueprint(blp, parameters=[TENANT_PARAMETER])
    status_change = api.spec.components.schemas.get("StatusChange")
    if status_change is not None:
        status_change["anyOf"] = status_change_rules()
    app.before_request_funcs.setdefault(None, []).insert(0, _routing_errors_first)
    app.after_request(_allow_on_405)
    app.extensions["fygitaal.api"] = api
    return api
