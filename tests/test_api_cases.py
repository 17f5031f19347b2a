"""The REST API for cases: intake through the one service, reading without contact details,
handling, problem details for every refusal, scopes, isolation, Idempotency-Key and query counts."""

import base64
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from PIL import Image
from sqlalchemy import func, select
from werkzeug.serving import make_server

from core import migrate
from core.api import idempotency
from core.api import v1 as api_v1
from core.cases.intake import IntakeRequest, submit_case
from core.cases.models import Attachment, Case, CaseEvent, IdempotencyRecord
from core.cases.retention import purge
from core.db import database
from core.identity import api_clients
from core.outbox.models import OutboxMessage
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department, Region, Tenant
from core.testing.fixtures import SQUARE, make_test_app

INSIDE = {"lat": 51.10, "lon": 3.82}
OUTSIDE = {"lat": 50.85, "lon": 4.35}  # Brussels
DEPARTMENTS = (("milieu", "Milieu"), ("openbare_werken", "Openbare werken"), ("burgerzaken", "Burgerzaken"))
REPORTER = {"naam": "An Peeters", "email": "an@example.be", "telefoon": "09 123 45 67",
            "adres": "Kerkstraat 1, 9000 Gent"}
CONTACT_DETAILS = ("An Peeters", "an@example.be", "09 123 45 67", "Kerkstraat 1")
ALL_SCOPES = ["cases:read", "cases:write", "departments:read"]


def report(**changes):
    return {"type": "zwerfvuil", "beschrijving": "Blikjes langs de Dorpsstraat", "locatie": dict(INSIDE),
            "melder": dict(REPORTER), **changes}


def add_departments(db_session, tenant):
    set_tenant(db_session, tenant.id)
    for code, name in DEPARTMENTS:
        db_session.add(Department(code=code, name=name))
    db_session.flush()


@pytest.fixture
def town(db_session, make_tenant):
    tenant = make_tenant("gemeente-a", plugins={"openbare_ruimte": {}})
    add_departments(db_session, tenant)
    return tenant


@pytest.fixture
def other_town(db_session, make_tenant, town):
    tenant = make_tenant("gemeente-b", plugins={"openbare_ruimte": {}})
    add_departments(db_session, tenant)
    set_tenant(db_session, town.id)
    return tenant


def token_headers(client, creds):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(creds.client_id, creds.client_secret))
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def bearer_for(client, db_session, tenant, scopes, name="Meldingen-app"):
    """A new API client of ``tenant`` and the Authorization header of a fresh token."""
    creds = api_clients.create_client(db_session, tenant, name, scopes)
    db_session.flush()
    return token_headers(client, creds), creds.client_id


@pytest.fixture
def writer(client, db_session, town):
    headers, _client_id = bearer_for(client, db_session, town, ALL_SCOPES)
    return headers


def url(tenant, path=""):
    return f"/api/v1/{tenant.slug}/{path}"


def count(db_session, tenant, model):
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


def file_case(client, town, writer, **changes):
    response = client.post(url(town, "cases"), json=report(**changes), headers=writer)
    assert response.status_code == 201, response.json
    return response.json


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def png() -> str:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


# --- Filing, reading, handling ---------------------------------------------------------------


def test_filing_goes_through_the_intake_service_once_with_channel_api(client, db_session, town, monkeypatch):
    headers, client_id = bearer_for(client, db_session, town, ALL_SCOPES)
    calls = []
    real = api_v1.submit_case

    def spy(*args, **kwargs):
        calls.append(kwargs["channel"])
        return real(*args, **kwargs)

    monkeypatch.setattr(api_v1, "submit_case", spy)
    response = client.post(url(town, "cases"), json=report(bijlagen=[png()]), headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert calls == ["api"]
    assert body["referentie"].startswith("ZV-") and body["kanaal"] == "api" and body["status"] == "nieuw"
    assert body["behandelaar"] == {"dienst": "milieu", "naam": "Milieu"}
    assert body["melder"] == {"bereikbaar": True, "taal": "nl"}
    assert body["follow_url"].startswith("http") and f"/{town.slug}/opvolging/" in body["follow_url"]
    assert [b["mediatype"] for b in body["bijlagen"]] == ["image/jpeg"]  # re-encoded
    assert [e["soort"] for e in body["historiek"]] == ["created"]
    assert not any(detail in response.text for detail in CONTACT_DETAILS)
    assert count(db_session, town, Case) == 1
    case = db_session.scalars(select(Case)).one()
    assert case.channel == "api" and case.reporter_email == "an@example.be"
    created = db_session.scalars(select(CaseEvent)).one()
    assert created.actor == f"api:{client_id}"
    assert db_session.scalars(select(OutboxMessage)).one().recipient == "an@example.be"


def test_an_app_says_so_with_kanaal(client, db_session, town, writer):
    assert file_case(client, town, writer, kanaal="app")["kanaal"] == "app"
    assert db_session.scalars(select(Case.channel)).all() == ["app"]


def test_reading_a_case_shows_no_contact_details(client, town, writer):
    created = file_case(client, town, writer)
    response = client.get(url(town, f"cases/{created['referentie']}"), headers=writer)
    assert response.status_code == 200
    body = response.json
    assert body["referentie"] == created["referentie"] and body["url"] == created["url"]
    assert body["locatie"] == INSIDE and body["type"] == "zwerfvuil" and body["soort"] == "melding"
    assert "follow_url" not in body
    listing = client.get(url(town, "cases"), headers=writer)
    for text in (response.text, listing.text):
        assert not any(detail in text for detail in CONTACT_DETAILS)


def test_case_types_describe_their_extra_fields(client, town, writer):
    response = client.get(url(town, "case-types"), headers=writer)
    assert response.status_code == 200
    types = {t["code"]: t for t in response.json}
    assert {"zwerfvuil", "sluikstort", "wegdek", "vraag"} <= set(types)
    sluikstort = types["sluikstort"]
    assert sluikstort["soort"] == "melding" and sluikstort["dienst"] == "milieu"
    assert sluikstort["locatie_verplicht"] is True and sluikstort["anoniem_toegestaan"] is True
    volume = sluikstort["gegevens"]["properties"]["volume"]
    assert volume["enum"] == ["klein", "middel", "groot"] and volume["x-label"]["nl"] == "Hoeveel ligt er?"
    assert sluikstort["gegevens"]["required"] == ["volume"]
    assert types["wegdek"]["gegevens"]["properties"]["gevaarlijk"]["type"] == "boolean"
    assert types["vraag"]["anoniem_toegestaan"] is False and types["vraag"]["labels"]["fr"] == "Question générale"


def test_listing_filters_and_pages_without_duplicates_or_gaps(client, db_session, town, writer, clock):
    filed = [file_case(client, town, writer)["id"] for _ in range(4)]
    filed.append(file_case(client, town, writer, type="wegdek", gegevens={"gevaarlijk": True})["id"])
    clock.advance(minutes=30)
    later = clock.now()
    filed += [file_case(client, town, writer, type="sluikstort", gegevens={"volume": "klein"})["id"]
              for _ in range(3)]
    moved = client.post(url(town, "cases/") + client.get(url(town, f"cases?after={filed[0] - 1}&limit=1"),
                                                          headers=writer).json["items"][0]["referentie"] + "/status",
                        json={"status": "in_behandeling"}, headers=writer)
    assert moved.status_code == 200

    seen, page, pages = [], url(town, "cases?limit=3"), 0
    while page:
        response = client.get(page, headers=writer)
        assert response.status_code == 200
        seen += [item["id"] for item in response.json["items"]]
        page, pages = response.json["next"], pages + 1
    assert seen == sorted(filed) and pages == 3

    def ids(query):
        response = client.get(url(town, f"cases?{query}"), headers=writer)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids("type=sluikstort") == filed[5:]
    assert ids("status=in_behandeling") == [filed[0]]
    assert ids("dienst=openbare_werken") == [filed[4]]
    assert ids("dienst=milieu&status=nieuw") == filed[1:4] + filed[5:]
    assert ids("aangemaakt_sinds=" + later.astimezone(UTC).isoformat().replace("+00:00", "Z")) == filed[5:]
    assert ids("type=bestaatniet") == []
    follow = client.get(url(town, "cases?type=sluikstort&limit=2"), headers=writer).json["next"]
    assert "type=sluikstort" in follow and f"after={filed[6]}" in follow


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "after=-1", "status=kapot", "aangemaakt_sinds=gisteren",
                                   "sorteer=id"])
def test_bad_list_parameters_are_problems(client, town, writer, query):
    body = assert_problem(client.get(url(town, f"cases?{query}"), headers=writer), 422)
    assert query.split("=")[0] in body["errors"]


def test_changing_the_state_and_closing_honestly(client, db_session, town, writer):
    reference = file_case(client, town, writer)["referentie"]
    response = client.post(url(town, f"cases/{reference}/status"), json={"status": "in_behandeling"}, headers=writer)
    assert response.status_code == 200
    assert response.json["status"] == "in_behandeling"
    assert response.json["historiek"][-1] == {**response.json["historiek"][-1], "soort": "status",
                                              "status_van": "nieuw", "status_naar": "in_behandeling"}
    closed = client.post(url(town, f"cases/{reference}/status"), headers=writer,
                         json={"status": "afgehandeld", "resolutie": "opgelost", "toelichting": "Opgeruimd."})
    assert closed.status_code == 200
    assert closed.json["status"] == "afgehandeld" and closed.json["resolutie"] == "opgelost"
    assert closed.json["afgesloten_op"] and closed.json["resolutie_toelichting"] == "Opgeruimd."
    case = db_session.scalars(select(Case).execution_options(populate_existing=True)).one()
    assert case.status == "afgehandeld" and case.closed_at is not None
    mails = db_session.scalars(select(OutboxMessage.subject).order_by(OutboxMessage.id)).all()
    assert len(mails) == 3 and "Afgehandeld" in mails[-1]


def test_a_message_reaches_the_resident(client, db_session, town, writer):
    reference = file_case(client, town, writer)["referentie"]
    response = client.post(url(town, f"cases/{reference}/messages"), json={"tekst": "  We komen morgen langs. "},
                           headers=writer)
    assert response.status_code == 201
    assert response.json["referentie"] == reference and response.json["tekst"] == "We komen morgen langs."
    event = db_session.scalars(select(CaseEvent).where(CaseEvent.kind == "message_to_citizen")).one()
    assert event.visible_to_citizen and event.body == "We komen morgen langs."
    mail = db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert mail.recipient == "an@example.be" and "We komen morgen langs." in mail.body
    detail = client.get(url(town, f"cases/{reference}"), headers=writer).json
    assert detail["historiek"][-1]["tekst"] == "We komen morgen langs."


# --- Refusals -----------------------------------------------------------------------------------

BAD_CASES = [
    ({"type": "bestaatniet"}, "type", "Kies een soort"),
    ({"type": "sluikstort"}, "gegevens.volume", ""),
    ({"type": "sluikstort", "gegevens": {"volume": 3}}, "gegevens.volume", ""),
    ({"type": "wegdek", "gegevens": {"gevaarlijk": "misschien"}}, "gegevens.gevaarlijk", ""),
    ({"locatie": OUTSIDE}, "locatie", "ligt niet in gemeente"),
    ({"locatie": {"lat": 123.0, "lon": 3.8}}, "locatie.lat", ""),
    ({"locatie": {"lat": "51.1", "lon": 3.82}}, "locatie.lat", ""),
    ({"beschrijving": "x" * 4001}, "beschrijving", "4000"),
    ({"beschrijving": "   "}, "beschrijving", ""),
    ({"onbekend": 1}, "onbekend", "Unknown field"),
    ({"melder": {**REPORTER, "leeftijd": 40}}, "melder.leeftijd", "Unknown field"),
    ({"melder": {**REPORTER, "email": "geen-adres"}}, "melder.email", ""),
    ({"kanaal": "web"}, "kanaal", ""),
    ({"locatie": None}, "locatie", "Duid de plaats aan"),
    ({"bijlagen": ["bm90IGFuIGltYWdl"]}, "bijlagen", ""),
    ({"bijlagen": ["%%%"]}, "bijlagen.0", "base64"),
]


@pytest.mark.parametrize(("changes", "field", "says"), BAD_CASES, ids=lambda v: str(v)[:40])
def test_bad_input_is_a_problem_and_stores_nothing(client, db_session, town, writer, changes, field, says):
    payload = {k: v for k, v in report(**changes).items() if v is not None}
    body = assert_problem(client.post(url(town, "cases"), json=payload, headers=writer), 422)
    assert field in body["errors"], body
    assert all(body["errors"][field]) and says in " ".join(body["errors"][field])
    assert field in body["detail"]
    for model in (Case, CaseEvent, Attachment, OutboxMessage):
        assert count(db_session, town, model) == 0


def test_an_anonymous_question_is_refused_for_lack_of_contact(client, db_session, town, writer):
    payload = {"type": "vraag", "beschrijving": "Wanneer is het containerpark open?"}
    body = assert_problem(client.post(url(town, "cases"), json=payload, headers=writer), 422)
    assert "melder" in body["errors"]
    assert count(db_session, town, Case) == 0


def test_a_body_that_is_not_json_is_a_problem(client, db_session, town, writer):
    response = client.post(url(town, "cases"), data="{kapot", headers={**writer, "Content-Type": "application/json"})
    assert_problem(response, 400)
    assert count(db_session, town, Case) == 0


@pytest.mark.parametrize(("change", "status", "field"), [
    ({"status": "heropend"}, 409, None),
    ({"status": "samengevoegd"}, 422, "status"),
    ({"status": "afgehandeld"}, 422, "resolutie"),
    ({"status": "afgehandeld", "resolutie": "niet_opgelost", "toelichting": "  "}, 422, "toelichting"),
    ({"status": "doorverwezen"}, 422, "doorverwezen_naar"),
    ({"status": "in_behandeling", "reden": "x"}, 422, "reden"),
])
def test_a_refused_state_change_changes_nothing(client, db_session, town, writer, change, status, field):
    reference = file_case(client, town, writer)["referentie"]
    events = count(db_session, town, CaseEvent)
    body = assert_problem(client.post(url(town, f"cases/{reference}/status"), json=change, headers=writer), status)
    if field:
        assert field in body["errors"]
    else:
        assert "Nieuw" in body["detail"] and "Heropend" in body["detail"]
    assert db_session.scalars(select(Case.status)).one() == "nieuw"
    assert count(db_session, town, CaseEvent) == events


def test_an_empty_message_is_refused(client, db_session, town, writer):
    reference = file_case(client, town, writer)["referentie"]
    body = assert_problem(client.post(url(town, f"cases/{reference}/messages"), json={"tekst": " \n"},
                                      headers=writer), 422)
    assert "tekst" in body["errors"]
    assert count(db_session, town, CaseEvent) == 1


@pytest.mark.parametrize("reference", ["ZV-2026-99999", "geen-referentie", "zv-2026-00001"])
def test_an_unknown_reference_is_404(client, town, writer, reference):
    for response in (client.get(url(town, f"cases/{reference}"), headers=writer),
                     client.post(url(town, f"cases/{reference}/status"), json={"status": "in_behandeling"},
                                 headers=writer),
                     client.post(url(town, f"cases/{reference}/messages"), json={"tekst": "Hallo"}, headers=writer)):
        assert_problem(response, 404)


def test_a_method_the_resource_lacks_is_405_with_allow(client, town, writer):
    response = client.delete(url(town, "cases"), headers=writer)
    assert_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


# --- Scopes and isolation -----------------------------------------------------------------------


def test_a_reading_client_cannot_write(client, db_session, town, writer):
    reference = file_case(client, town, writer)["referentie"]
    reader, _ = bearer_for(client, db_session, town, ["cases:read"], name="Lezer")
    assert client.get(url(town, "cases"), headers=reader).status_code == 200
    for path, payload in (("cases", report()), (f"cases/{reference}/status", {"status": "in_behandeling"}),
                          (f"cases/{reference}/messages", {"tekst": "Hallo"})):
        body = assert_problem(client.post(url(town, path), json=payload, headers=reader), 403)
        assert body["error"] == "insufficient_scope"
    departments_only, _ = bearer_for(client, db_session, town, ["departments:read"], name="Diensten")
    assert_problem(client.get(url(town, "cases"), headers=departments_only), 403)
    assert count(db_session, town, Case) == 1 and count(db_session, town, CaseEvent) == 1


def test_without_a_token_every_case_endpoint_is_401(client, town):
    for response in (client.get(url(town, "cases")), client.get(url(town, "case-types")),
                     client.post(url(town, "cases"), json=report()),
                     client.get(url(town, "cases/ZV-2026-00001"))):
        assert_problem(response, 401)


def test_another_municipalitys_client_gets_404_everywhere_and_changes_nothing(client, db_session, town, other_town,
                                                                                writer):
    reference = file_case(client, town, writer)["referentie"]
    stranger, _ = bearer_for(client, db_session, other_town, ALL_SCOPES, name="Buur")
    events = count(db_session, town, CaseEvent)
    attempts = [
        client.get(url(town, "case-types"), headers=stranger),
        client.get(url(town, "cases"), headers=stranger),
        client.get(url(town, f"cases/{reference}"), headers=stranger),
        client.post(url(town, "cases"), json=report(), headers=stranger),
        client.post(url(town, "cases"), json=report(), headers={**stranger, "Idempotency-Key": "k1"}),
        client.post(url(town, f"cases/{reference}/status"), json={"status": "geannuleerd"}, headers=stranger),
        client.post(url(town, f"cases/{reference}/messages"), json={"tekst": "Hallo"}, headers=stranger),
    ]
    for response in attempts:
        assert_problem(response, 404)
        assert reference not in response.text
    assert count(db_session, town, Case) == 1 and count(db_session, town, CaseEvent) == events
    assert db_session.scalars(select(Case.status)).one() == "nieuw"
    assert count(db_session, town, IdempotencyRecord) == 0
    # And their own municipality's cases do not include ours.
    own = client.get(url(other_town, "cases"), headers=stranger)
    assert own.status_code == 200 and own.json["items"] == []
    assert_problem(client.get(url(other_town, f"cases/{reference}"), headers=stranger), 404)


# --- Idempotency-Key ---------------------------------------------------------------------------


def test_a_retry_replays_the_answer_and_creates_nothing_new(client, db_session, town, writer):
    headers = {**writer, "Idempotency-Key": "8e03978e-40d5-43e8-bc93-6894a57f9324"}
    first = client.post(url(town, "cases"), json=report(), headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    reordered = json.dumps(dict(reversed(list(report().items()))), indent=2)
    again = client.post(url(town, "cases"), data=reordered, headers={**headers, "Content-Type": "application/json"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert count(db_session, town, Case) == 1 and count(db_session, town, OutboxMessage) == 1


def test_the_same_key_for_another_request_is_422(client, db_session, town, writer):
    headers = {**writer, "Idempotency-Key": "sleutel-1"}
    assert client.post(url(town, "cases"), json=report(), headers=headers).status_code == 201
    body = assert_problem(client.post(url(town, "cases"), json=report(beschrijving="Iets anders"), headers=headers),
                          422)
    assert "Idempotency-Key" in body["detail"]
    reference = db_session.scalars(select(Case.reference)).one()
    other_path = client.post(url(town, f"cases/{reference}/messages"), json={"tekst": "Hallo"}, headers=headers)
    assert_problem(other_path, 422)
    assert count(db_session, town, Case) == 1 and count(db_session, town, CaseEvent) == 1


def test_a_failed_first_attempt_is_replayed_too(client, db_session, town, writer):
    headers = {**writer, "Idempotency-Key": "mislukt"}
    first = client.post(url(town, "cases"), json=report(locatie=OUTSIDE), headers=headers)
    assert_problem(first, 422)
    again = client.post(url(town, "cases"), json=report(locatie=OUTSIDE), headers=headers)
    assert_problem(again, 422)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    assert count(db_session, town, Case) == 0


def test_state_changes_and_messages_are_idempotent(client, db_session, town, writer):
    reference = file_case(client, town, writer)["referentie"]
    for path, payload in ((f"cases/{reference}/status", {"status": "in_behandeling"}),
                          (f"cases/{reference}/messages", {"tekst": "We komen langs."})):
        headers = {**writer, "Idempotency-Key": f"k-{path}"}
        first = client.post(url(town, path), json=payload, headers=headers)
        again = client.post(url(town, path), json=payload, headers=headers)
        assert first.status_code in (200, 201) and again.status_code == first.status_code
        assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    kinds = db_session.scalars(select(CaseEvent.kind).order_by(CaseEvent.id)).all()
    assert kinds == ["created", "status", "message_to_citizen"]


def test_keys_belong_to_one_client(client, db_session, town, writer):
    other, _ = bearer_for(client, db_session, town, ["cases:write"], name="Andere app")
    for headers in (writer, other):
        assert client.post(url(town, "cases"), json=report(), headers={**headers, "Idempotency-Key": "k"}).status_code \
            == 201
    assert count(db_session, town, Case) == 2


def test_a_request_still_running_answers_409(client, db_session, town, writer):
    path = url(town, "cases")
    body = json.dumps(report()).encode()
    token = writer["Authorization"].split()[1]
    client_row = db_session.get(api_clients.ApiToken, api_clients.digest(token)).client
    set_tenant(db_session, town.id)
    db_session.add(IdempotencyRecord(client_id=client_row.id, key="bezig", created_at=datetime.now(UTC),
                                     request_hash=idempotency.fingerprint("POST", path, body)))
    db_session.flush()
    response = client.post(path, data=body, headers={**writer, "Idempotency-Key": "bezig",
                                                     "Content-Type": "application/json"})
    assert_problem(response, 409)
    assert response.headers["Retry-After"].isdigit()
    assert count(db_session, town, Case) == 0


def test_keys_expire_after_a_day(client, db_session, town, clock):
    creds = api_clients.create_client(db_session, town, "App", ["cases:write"])
    db_session.flush()
    key = {"Idempotency-Key": "dagelijks"}
    first = client.post(url(town, "cases"), json=report(), headers={**token_headers(client, creds), **key})
    assert first.status_code == 201
    clock.advance(hours=23)
    again = client.post(url(town, "cases"), json=report(), headers={**token_headers(client, creds), **key})
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    clock.advance(hours=2)
    fresh = client.post(url(town, "cases"), json=report(beschrijving="Een nieuwe dag"),
                        headers={**token_headers(client, creds), **key})
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert count(db_session, town, Case) == 2 and count(db_session, town, IdempotencyRecord) == 1


def test_old_records_are_purged_after_a_day(app, client, db_session, town, writer, clock):
    """They hold answers with a follow-up link: `fygitaal purge` removes them after 24 hours."""
    client.post(url(town, "cases"), json=report(), headers={**writer, "Idempotency-Key": "oud"})
    purge(app, clock.now() + timedelta(hours=23))
    assert count(db_session, town, IdempotencyRecord) == 1
    purge(app, clock.now() + timedelta(hours=25))
    assert count(db_session, town, IdempotencyRecord) == 0 and count(db_session, town, Case) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "met spatie", "é"])
def test_a_bad_key_is_400(client, db_session, town, writer, key):
    response = client.post(url(town, "cases"), json=report(), headers={**writer, "Idempotency-Key": key})
    body = assert_problem(response, 400)
    assert "Idempotency-Key" in body["errors"]
    assert count(db_session, town, Case) == 0


def test_twenty_concurrent_posts_with_one_key_create_one_case(tmp_path):
    """20 threads POST the same case with one key to a real threaded server: exactly one case.

    The savepoint-joined ``db_session`` cannot be shared across threads, so this test builds its own
    app on its own SQLite file with committed setup; it stays on that file when the suite runs on
    PostgreSQL (the unique constraint that arbitrates is the same on both).
    """
    db_url = f"sqlite:///{tmp_path / 'concurrent.db'}"
    # Writers queue for SQLite's lock as in production (the test kit's default suits its joined sessions).
    app = make_test_app((db_url, db_url), tmp_path / "instance", SQLITE_IMMEDIATE=True)
    with app.app_context():
        migrate.upgrade(app)
        with database(app).session_scope() as session:
            registry = app.extensions["fygitaal.plugins"]
            settings = registry.plugins["openbare_ruimte"].manifest.settings_schema().load({})
            tenant = Tenant(slug="gemeente-a", name="Gemeente A", nis_code="99001", languages=["nl"],
                            region=Region(slug="testregio", name="Testregio"), boundary=SQUARE,
                            identity={"provider": "platform"}, plugins={"openbare_ruimte": settings})
            session.add(tenant)
            session.flush()
            set_tenant(session, tenant.id)
            session.add_all([Department(code=code, name=name) for code, name in DEPARTMENTS])
            creds = api_clients.create_client(session, tenant, "App", ["cases:write", "cases:read"])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        token = requests.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                              auth=(creds.client_id, creds.client_secret), timeout=10).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "een-sleutel-twintig-keer"}
        start = threading.Barrier(20)

        def post(_n: int) -> requests.Response:
            start.wait()
            return requests.post(f"{base}/api/v1/gemeente-a/cases", json=report(), headers=headers, timeout=60)

        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(post, range(20)))
        retry = requests.post(f"{base}/api/v1/gemeente-a/cases", json=report(), headers=headers, timeout=60)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, [(r.status_code, r.text) for r in responses]
    created = [r.json() for r in responses if r.status_code == 201]
    assert created and all(body == created[0] for body in created)
    assert all(r.headers.get("Retry-After") for r in responses if r.status_code == 409)
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == created[0]
    with app.app_context(), database(app).session_scope() as session:
        set_tenant(session, 1)
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        assert session.scalar(select(Case.reference)) == created[0]["referentie"]
    database(app).engine.dispose()


# --- Query counts -------------------------------------------------------------------------------


def bulk_cases(app, db_session, tenant, n, *, photos=0, messages=0):
    at = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    set_tenant(db_session, tenant.id)
    with app.test_request_context():
        for i in range(n):
            case = submit_case(db_session, tenant, IntakeRequest(
                type_code="zwerfvuil", description=f"Melding {i}", lat=51.1, lon=3.82, reporter_email="a@b.be"),
                channel="api", actor="test", at=at + timedelta(minutes=i)).case
            for p in range(photos):
                db_session.add(Attachment(case_id=case.id, storage_key=f"t/{case.id}/{p}", content_type="image/png",
                                          size=10, width=1, height=1, created_at=at))
            for m in range(messages):
                db_session.add(CaseEvent(case_id=case.id, kind="message_to_citizen", visible_to_citizen=True,
                                         body=f"Bericht {m}", actor="test", created_at=at))
    db_session.flush()


def test_the_list_runs_the_same_queries_for_2_or_50_cases(app, client, db_session, town, writer, query_counter):
    bulk_cases(app, db_session, town, 50, photos=2, messages=1)
    counts = {}
    for limit in (2, 50):
        with query_counter as counter:
            response = client.get(url(town, f"cases?limit={limit}&status=nieuw"), headers=writer)
        assert response.status_code == 200 and len(response.json["items"]) == limit
        assert all(len(item["bijlagen"]) == 2 and item["behandelaar"]["dienst"] == "milieu"
                   for item in response.json["items"])
        counts[limit] = counter.count
    assert counts[2] == counts[50], counts


def test_one_case_runs_the_same_queries_whatever_its_history(app, client, db_session, town, writer, query_counter):
    bulk_cases(app, db_session, town, 1)
    bulk_cases(app, db_session, town, 1, photos=5, messages=30)
    references = db_session.scalars(select(Case.reference).order_by(Case.id)).all()
    counts = []
    for reference in references:
        with query_counter as counter:
            response = client.get(url(town, f"cases/{reference}"), headers=writer)
        assert response.status_code == 200
        counts.append(counter.count)
    assert len(response.json["historiek"]) == 31
    assert counts[0] == counts[1], counts


# --- The document ------------------------------------------------------------------------------


def test_the_openapi_document_describes_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["info"]["title"] == "Fygitaal" and spec["info"]["version"] == "1"
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        **spec["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert "24 hours" in spec["info"]["description"]
    paths = spec["paths"]
    assert {"/api/v1/{tenant}/cases", "/api/v1/{tenant}/cases/{reference}", "/api/v1/{tenant}/case-types",
            "/api/v1/{tenant}/cases/{reference}/status", "/api/v1/{tenant}/cases/{reference}/messages",
            "/api/v1/{tenant}/departments"} <= set(paths)
    post = paths["/api/v1/{tenant}/cases"]["post"]
    assert post["security"] == [{"bearerAuth": []}]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    problem = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert list(problem) == ["application/problem+json"]
    new_case = spec["components"]["schemas"]["NewCase"]
    assert new_case["additionalProperties"] is False
    assert "melder" in new_case["properties"] and "melder" in spec["components"]["schemas"]["Case"]["properties"]
    shown = json.dumps(spec["components"]["schemas"]["Case"])
    assert not any(f'"{name}"' in shown for name in ("naam", "email", "telefoon"))
