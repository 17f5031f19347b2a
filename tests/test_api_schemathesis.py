"""Schemathesis against the API's own OpenAPI document, in process (WSGI), with its default checks.

Requests are generated from ``/api/v1/openapi.json`` (valid and invalid ones) and every answer is
checked against the document: status codes, content types, headers, response schemas, invalid
input refused, valid input accepted, authentication not ignored, 405 with ``Allow``.
"""

import re
import uuid
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from core.api import idempotency
from core.cases.intake import IntakeRequest, submit_case
from core.identity import api_clients
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department

REAL_TYPES = ("zwerfvuil", "groen", "riolering", "verkeerssignalisatie")  # no required extra fields


@pytest.fixture
def bearer():
    """The token's Authorization header, filled in by ``api_schema``."""
    return {}


@pytest.fixture
def api_schema(app, client, db_session, make_tenant, bearer):
    """The API's document, with a token of a client holding every scope, aimed at a real case.

    The client and its token are made inside the test's transaction, so they hold for every
    generated request and disappear afterwards. ``tenant`` and ``reference`` are pinned: random
    values would only ever meet 404. Rate limits are off, so the examples are not throttled.
    """
    tenant = make_tenant("gemeente-a", plugins={"openbare_ruimte": {}})
    set_tenant(db_session, tenant.id)
    for code, name in (("milieu", "Milieu"), ("openbare_werken", "Openbare werken"), ("burgerzaken", "Burgerzaken")):
        db_session.add(Department(code=code, name=name))
    creds = api_clients.create_client(db_session, tenant, "Schemathesis", sorted(api_clients.SCOPES))
    with app.test_request_context():
        case = submit_case(db_session, tenant, IntakeRequest(
            type_code="zwerfvuil", description="Blikjes", lat=51.1, lon=3.82, reporter_email="an@example.be"),
            channel="web", actor="burger", at=datetime.now(UTC)).case
    db_session.flush()
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(creds.client_id, creds.client_secret)).json["access_token"]
    config = SchemathesisConfig.from_dict({
        "headers": {"Authorization": f"Bearer {token}"},
        "parameters": {"tenant": tenant.slug, "reference": case.reference},
        # Filing a case is checked against the municipality's own rules (its case types, their
        # extra fields, its boundary, photo contents), which a schema shared by every municipality
        # cannot express: a schema-valid case may still be refused, and that refusal is a 422.
        "operations": [{"include-name": "POST /api/v1/{tenant}/cases", "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]},
        }}],
    })
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    bearer["Authorization"] = f"Bearer {token}"
    limiter = app.extensions["fygitaal.limiter"]
    limiter.enabled = False
    yield schema
    limiter.enabled = True


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    """schemathesis 4.32 reads ``node._nodeid``, which pytest 9.2 no longer has (it keeps ``_id``)."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_the_api_keeps_its_own_contract(case, bearer):
    """Generated requests, nudged where the municipality's facts cannot be in the document.

    Each request that carries a valid Idempotency-Key gets a key of its own: a key names one
    request, and a reused key with another body is refused (422) by design. A valid new case gets
    one of the municipality's real type codes and a place inside it (both still schema-valid), so
    the intake's success path and its 201 answer are checked too, not only its refusals.
    """
    sent = case.headers or {}
    headers = {}
    if sent.get("Authorization") == bearer["Authorization"]:  # not when a check left it out on purpose
        headers["Authorization"] = bearer["Authorization"]  # passed explicitly, so checks know it is real
    key = sent.get(idempotency.HEADER)
    if isinstance(key, str) and re.fullmatch(idempotency.KEY_PATTERN, key):
        headers[idempotency.HEADER] = str(uuid.uuid4())
    if (case.method == "POST" and case.operation.path.endswith("/cases") and isinstance(case.body, dict)
            and case.meta is not None and case.meta.generation.mode.is_positive):
        case.body["type"] = REAL_TYPES[len(case.body["type"]) % len(REAL_TYPES)]
        case.body["locatie"] = {"lat": 51.1, "lon": 3.82}
    case.call_and_validate(headers=headers)
