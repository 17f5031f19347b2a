"""Open311 GeoReport v2 over real HTTP, for two municipalities.

The app is served by werkzeug in a thread; the ``db_session`` fixture joins the app's sessions to
the test's transaction (their commits become savepoints), so everything is rolled back afterwards.
Reading goes through the ``georeport`` client from PyPI (JSON, and XML through its xmltodict
parser); POSTs are form-encoded exactly as the spec describes them, with ``requests``.
"""

import json
import threading
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
import requests
from georeport import GeoReport
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select
from werkzeug.serving import make_server

from core.cases import handling
from core.cases.models import Case, CaseEvent
from core.cases.types import CaseType
from core.identity.api_clients import create_client
from core.identity.staff import grant_role
from core.plugins.manifest import Manifest
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department
from core.testing.fixtures import login_as
from core.toolkit import hookimpl

A_SQUARE = {"type": "Polygon", "coordinates": [[[3.80, 51.08], [3.84, 51.08], [3.84, 51.12],
                                                  [3.80, 51.12], [3.80, 51.08]]]}
B_SQUARE = {"type": "Polygon", "coordinates": [[[3.90, 51.08], [3.94, 51.08], [3.94, 51.12],
                                                  [3.90, 51.12], [3.90, 51.08]]]}
IN_A = ("51.10", "3.82")
IN_B = ("51.10", "3.92")
FORMATS = ("json", "xml")
MELDINGEN = ["groen", "riolering", "sluikstort", "straatverlichting", "verkeerssignalisatie", "wegdek",
             "zwerfvuil"]
REPORTER = {"first_name": "Annemie", "last_name": "Vandevelde", "email": "annemie.vandevelde@example.be",
            "phone": "0470 12 34 56"}


class TreesFields(Schema):
    soorten = fields.List(fields.String(validate=validate.OneOf(["eik", "beuk", "linde"])), required=True,
                          metadata={"label": {"nl": "Welke bomen?"},
                                    "values": {"eik": "Eik", "beuk": "Beuk", "linde": "Linde"}})
    aantal = fields.Integer(load_default=1, metadata={"label": {"nl": "Hoeveel bomen?"}})
    opmerking = fields.String(load_default="", metadata={"label": {"nl": "Opmerking"}})


class TreesPlugin:
    """A case type with a multivaluelist, a number and free text, to show every datatype travels."""

    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="open311_bomen", version="1.0", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_case_types(self, tenant):
        return [CaseType(code="bomen", kind="melding", prefix="BO", department="openbare_werken",
                         labels={"nl": "Zieke bomen"}, description={"nl": "Zieke of gevaarlijke bomen"},
                         group="Openbare ruimte", keywords=("boom", "tak"), schema=TreesFields,
                         location_required=True, target_days=30)]


@pytest.fixture
def towns(app, db_session, make_tenant, register_plugin):
    """Two municipalities with openbare_ruimte, departments and their own Open311 API client."""
    register_plugin(TreesPlugin(), "open311_bomen")
    a = make_tenant("open-a", name="Aalter-Oost", boundary=A_SQUARE,
                    plugins={"openbare_ruimte": {}, "open311_bomen": {}})
    b = make_tenant("open-b", name="Beveren-West", boundary=B_SQUARE, plugins={"openbare_ruimte": {}})
    keys = {}
    for town in (a, b):
        set_tenant(db_session, town.id)
        for code, name in (("milieu", f"Milieudienst {town.name}"), ("openbare_werken", f"Openbare werken {town.name}"),
                           ("burgerzaken", "Burgerzaken")):
            db_session.add(Department(code=code, name=name))
        db_session.flush()
        keys[town.slug] = create_client(db_session, town, "Meldingen-app", ["cases:read"], open311=True).api_key
    set_tenant(db_session, None)
    db_session.flush()
    return {"a": a, "b": b, "keys": keys}


@pytest.fixture
def base(app, db_session, towns):
    """The app on a real HTTP port (threaded); the db_session fixture keeps its work in the test."""
    app.extensions["fygitaal.limiter"].reset()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def endpoint(base, town=None):
    return f"{base}/{town.slug}/open311/v2" if town else f"{base}/open311/v2"


def client_for(base, town, fmt, *, platform=True):
    if platform:
        return GeoReport(endpoint(base), jurisdiction=town.slug, output_format=fmt)
    return GeoReport(endpoint(base, town), output_format=fmt)


def as_list(value):
    """xmltodict gives a dict for one element and a list for several."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def post(base, town, api_key, fmt="json", *, platform=True, extra=(), **fields):
    data = {"api_key": api_key, "service_code": "zwerfvuil", "lat": IN_A[0], "long": IN_A[1],
            "description": "Blikjes langs de Dorpsstraat", **fields}
    if platform:
        data["jurisdiction_id"] = town.slug
    url = f"{endpoint(base, None if platform else town)}/requests.{fmt}"
    body = [(k, v) for k, v in data.items() if v is not None] + list(extra)
    return requests.post(url, data=body, timeout=10)


def cases_of(db_session, town):
    """The municipality's cases as the database has them (the app shares the test's connection)."""
    db_session.expire_all()
    set_tenant(db_session, town.id)
    return list(db_session.scalars(select(Case).order_by(Case.id)))


def count_all(db_session, towns):
    return sum(len(cases_of(db_session, t)) for t in (towns["a"], towns["b"]))


def errors_of(response, fmt):
    """The spec's error body, as ``[(code, description)]``; fails when the shape is wrong."""
    if fmt == "json":
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        body = response.json()
        assert isinstance(body, list) and body
        assert all(set(e) == {"code", "description"} and isinstance(e["code"], int) for e in body)
        return [(e["code"], e["description"]) for e in body]
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ElementTree.fromstring(response.content)
    assert root.tag == "errors" and len(root)
    found = []
    for error in root:
        assert error.tag == "error" and [c.tag for c in error] == ["code", "description"]
        found.append((int(error.findtext("code")), error.findtext("description")))
    return found


def xml_of(response):
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ElementTree.fromstring(response.content)


REQUEST_ELEMENTS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                    "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]


# --- Discovery and services -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_endpoint_and_its_formats(base, towns, fmt):
    for url, endpoint_url in ((f"{base}/open311/discovery.{fmt}", f"{base}/open311/v2/"),
                              (f"{base}/open-a/open311/discovery.{fmt}", f"{base}/open-a/open311/v2/")):
        response = requests.get(url, timeout=10)
        assert response.status_code == 200
        if fmt == "json":
            body = response.json()
            assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
            (found,) = body["endpoints"]
            assert found == {"specification": "http://wiki.open311.org/GeoReport_v2", "url": endpoint_url,
                             "changeset": body["changeset"], "type": "production",
                             "formats": ["text/xml", "application/json"]}
            assert datetime.fromisoformat(body["changeset"]).tzinfo is not None
        else:
            root = xml_of(response)
            assert root.tag == "discovery"
            assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
            (found,) = root.find("endpoints")
            assert found.tag == "endpoint"
            assert [c.tag for c in found] == ["specification", "url", "changeset", "type", "formats"]
            assert found.findtext("url") == endpoint_url and found.findtext("type") == "production"
            assert [f.text for f in found.find("formats")] == ["text/xml", "application/json"]
            assert [f.tag for f in found.find("formats")] == ["format", "format"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_municipality_lists_its_meldingen_as_services(base, towns, fmt):
    for town, extra in ((towns["a"], ["bomen"]), (towns["b"], [])):
        for platform in (True, False):
            services = as_list(client_for(base, town, fmt, platform=platform).get_service_list())
            assert sorted(s["service_code"] for s in services) == sorted(MELDINGEN + extra)
            assert "vraag" not in {s["service_code"] for s in services}, "questions are not a public service"
            by_code = {s["service_code"]: s for s in services}
            sluikstort = by_code["sluikstort"]
            assert sluikstort["service_name"] == "Sluikstort"
            assert sluikstort["group"] == "Openbare ruimte" and sluikstort["type"] == "realtime"
            assert sluikstort["keywords"] == "afval, dumping"
            assert sluikstort["metadata"] in (True, "true")
            assert by_code["zwerfvuil"]["metadata"] in (False, "false")
    raw = requests.get(f"{endpoint(base)}/services.{fmt}", params={"jurisdiction_id": "open-b"}, timeout=10)
    if fmt == "xml":
        root = xml_of(raw)
        assert root.tag == "services" and {c.tag for c in root} == {"service"}
        assert [c.tag for c in root[0]] == ["service_code", "service_name", "description", "metadata", "type",
                                            "keywords", "group"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definitions_turn_the_schema_into_attributes(base, towns, fmt):
    reader = client_for(base, towns["a"], fmt)

    def attributes(code):
        definition = reader.get_service_definition(code)
        assert definition["service_code"] == code
        found = definition["attributes"]
        found = as_list(found["attribute"]) if fmt == "xml" else found
        return {a["code"]: a for a in found}

    def values(attribute):
        found = attribute["values"]
        found = as_list(found["value"]) if fmt == "xml" and found else found or []
        return [(v["key"], v["name"]) for v in found]

    def flag(value):
        return value in (True, "true")

    volume = attributes("sluikstort")["volume"]
    assert volume["datatype"] == "singlevaluelist" and flag(volume["required"]) and flag(volume["variable"])
    assert volume["description"] == "Hoeveel ligt er?" and str(volume["order"]) == "1"
    assert values(volume) == [("klein", "Een zak of minder"), ("middel", "Enkele zakken"),
                              ("groot", "Een aanhangwagen of meer")]
    gevaarlijk = attributes("wegdek")["gevaarlijk"]
    assert gevaarlijk["datatype"] == "singlevaluelist" and not flag(gevaarlijk["required"])
    assert [key for key, _name in values(gevaarlijk)] == ["true", "false"]
    paal = attributes("straatverlichting")["paalnummer"]
    assert paal["datatype"] == "string" and "20" in paal["datatype_description"]
    trees = attributes("bomen")
    assert trees["soorten"]["datatype"] == "multivaluelist" and flag(trees["soorten"]["required"])
    assert values(trees["soorten"]) == [("eik", "Eik"), ("beuk", "Beuk"), ("linde", "Linde")]
    assert trees["aantal"]["datatype"] == "number" and str(trees["aantal"]["order"]) == "2"
    assert trees["opmerking"]["datatype"] == "text"
    assert attributes("zwerfvuil") == {} if fmt == "json" else True


def test_service_definition_xml_nests_like_the_spec(base, towns):
    root = xml_of(requests.get(f"{endpoint(base, towns['a'])}/services/sluikstort.xml", timeout=10))
    assert root.tag == "service_definition" and [c.tag for c in root] == ["service_code", "attributes"]
    (attribute,) = root.find("attributes")
    assert attribute.tag == "attribute"
    assert [c.tag for c in attribute] == ["variable", "code", "datatype", "required", "datatype_description",
                                          "order", "description", "values"]
    assert [v.tag for v in attribute.find("values")] == ["value"] * 3
    assert [[c.tag for c in v] for v in attribute.find("values")] == [["key", "name"]] * 3


# --- Posting and reading requests -------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_posted_requests_become_typed_open311_cases_that_each_municipality_reads_alone(
        app, base, towns, db_session, fmt):
    a, b = towns["a"], towns["b"]
    keys = towns["keys"]
    first = post(base, a, keys[a.slug], fmt, service_code="sluikstort", extra=[("attribute[volume]", "groot")],
                 account_id="app-user-7")
    assert first.status_code == 201, first.text
    assert "X-RateLimit-Limit" in first.headers, "POSTs fall under the default POST rate limit"
    trees = post(base, a, keys[a.slug], fmt, platform=False, service_code="bomen", description="",
                 extra=[("attribute[soorten][]", "eik"), ("attribute[soorten][]", "linde"),
                        ("attribute[aantal]", "3"), ("attribute[opmerking]", "")])
    assert trees.status_code == 201, trees.text
    road = post(base, b, keys[b.slug], fmt, service_code="wegdek", lat=IN_B[0], long=IN_B[1],
                extra=[("attribute[gevaarlijk]", "true")], media_url="https://example.org/foto.jpg")
    assert road.status_code == 201, road.text
    by_address = post(base, b, keys[b.slug], fmt, service_code="riolering", lat=None, long=None,
                      address_string="Kerkstraat 1")
    assert by_address.status_code == 201, by_address.text

    def answer(response):
        if fmt == "json":
            (entry,) = response.json()
            return entry
        root = xml_of(response)
        assert root.tag == "service_requests" and [c.tag for c in root] == ["request"]
        assert [c.tag for c in root[0]] == ["service_request_id", "service_notice", "account_id"]
        return {c.tag: c.text for c in root[0]}

    first_answer = answer(first)
    assert first_answer["service_request_id"].startswith("SL-")
    assert first_answer["account_id"] == "app-user-7" and "5 dagen" in first_answer["service_notice"]
    refs_a = [first_answer["service_request_id"], answer(trees)["service_request_id"]]
    refs_b = [answer(road)["service_request_id"], answer(by_address)["service_request_id"]]

    stored_a = cases_of(db_session, a)
    assert [c.reference for c in stored_a] == refs_a
    assert stored_a[0].data == {"volume": "groot"}
    assert stored_a[1].data == {"soorten": ["eik", "linde"], "aantal": 3, "opmerking": ""}
    assert stored_a[1].description == "Zieke bomen", "no description: the service name stands in"
    assert stored_a[0].department.code == "milieu" and stored_a[1].department.code == "openbare_werken"
    assert all(c.channel == "open311" for c in stored_a)
    stored_b = cases_of(db_session, b)  # on PostgreSQL, row-level security now shows B's rows only
    assert [c.reference for c in stored_b] == refs_b
    assert all(c.channel == "open311" for c in stored_b)
    assert stored_b[0].data == {"gevaarlijk": True}
    assert stored_b[1].address == "Kerkstraat 1" and stored_b[1].lat is None
    set_tenant(db_session, b.id)
    events = db_session.scalars(select(CaseEvent).where(CaseEvent.case_id == stored_b[0].id)).all()
    assert events[0].kind == "created" and events[0].actor.startswith("open311:open-b-")
    note = next(e for e in events if e.kind == "note")
    assert "https://example.org/foto.jpg" in note.body and not note.visible_to_citizen

    for town, own, foreign in ((a, refs_a, refs_b), (b, refs_b, refs_a)):
        for read_fmt in FORMATS:
            for platform in (True, False):
                reader = client_for(base, town, read_fmt, platform=platform)
                listed = as_list(reader.get_service_requests())
                assert sorted(r["service_request_id"] for r in listed) == sorted(own)
                one = reader.get_service_request(own[0])
                assert one["service_request_id"] == own[0] and one["status"] == "open"
                assert one["status_notes"] == "Nieuw"
                refused = requests.get(f"{reader.root_address}/requests/{foreign[0]}.{read_fmt}",
                                       params={"jurisdiction_id": town.slug} if platform else None, timeout=10)
                assert refused.status_code == 404, "another municipality's request does not exist here"
                asked = as_list(reader.get_service_requests(service_request_id=",".join(own + foreign)))
                assert sorted(r["service_request_id"] for r in asked) == sorted(own)

    reader = client_for(base, a, "json")
    sluikstort = reader.get_service_request(refs_a[0])
    assert sluikstort["service_code"] == "sluikstort" and sluikstort["service_name"] == "Sluikstort"
    assert sluikstort["agency_responsible"] == "Milieudienst Aalter-Oost"
    assert (sluikstort["lat"], sluikstort["long"]) == (51.10, 3.82)
    assert sluikstort["zipcode"] is None and sluikstort["media_url"] is None
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert datetime.fromisoformat(sluikstort[name]).tzinfo is not None, name
    expected = datetime.fromisoformat(sluikstort["expected_datetime"])
    assert expected - datetime.fromisoformat(sluikstort["requested_datetime"]) == timedelta(days=5)
    assert [r["service_request_id"] for r in reader.get_service_requests(service_code="bomen")] == [refs_a[1]]
    assert reader.get_service_requests(status="closed") == []
    assert len(reader.get_service_requests(status="open,closed")) == 2
    old = reader.get_service_requests(start_date="2020-01-01T00:00:00Z", end_date="2020-03-01T00:00:00Z")
    assert old == []

    root = xml_of(requests.get(f"{endpoint(base, a)}/requests.xml", timeout=10))
    assert root.tag == "service_requests" and [c.tag for c in root] == ["request", "request"]
    assert all([c.tag for c in request] == REQUEST_ELEMENTS for request in root)


def test_a_case_posted_through_open311_is_in_the_back_office_queue_with_its_channel(
    base, towns, db_session, client, oidc_provider
):
    a = towns["a"]
    response = post(base, a, towns["keys"][a.slug])
    assert response.status_code == 201
    reference = response.json()[0]["service_request_id"]
    set_tenant(db_session, a.id)
    grant_role(db_session, oidc_provider, "a-beheerder", "beheerder")
    db_session.flush()
    assert login_as(client, oidc_provider, "a-beheerder", tenant=a.slug).status_code == 302
    queue = client.get(f"/{a.slug}/behandeling/")
    assert queue.status_code == 200 and reference in queue.text
    detail = client.get(f"/{a.slug}/behandeling/{reference}")
    assert "<dd>open311</dd>" in detail.text


# --- Errors, in both formats, storing nothing ----------------------------------------------------


def error_cases(base, towns):
    a, b = towns["a"], towns["b"]
    key_a, key_b = towns["keys"][a.slug], towns["keys"][b.slug]
    now = datetime.now(UTC)
    too_wide = {"jurisdiction_id": a.slug, "start_date": (now - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end_date": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return [
        ("unknown jurisdiction", 404, lambda f: requests.get(f"{endpoint(base)}/services.{f}",
                                                              params={"jurisdiction_id": "nergens"}, timeout=10)),
        ("unknown municipality in the path", 404,
         lambda f: requests.get(f"{base}/nergens/open311/v2/services.{f}", timeout=10)),
        ("jurisdiction of another municipality on A's endpoint", 404,
         lambda f: requests.get(f"{endpoint(base, a)}/services.{f}", params={"jurisdiction_id": b.slug},
                                timeout=10)),
        ("no jurisdiction on the platform endpoint", 400,
         lambda f: requests.get(f"{endpoint(base)}/services.{f}", timeout=10)),
        ("unknown service", 404, lambda f: requests.get(f"{endpoint(base, a)}/services/bestaatniet.{f}", timeout=10)),
        ("a question is not a service", 404, lambda f: requests.get(f"{endpoint(base, a)}/services/vraag.{f}",
                                                                     timeout=10)),
        ("unknown request", 404, lambda f: requests.get(f"{endpoint(base, a)}/requests/ZV-2020-99999.{f}",
                                                         timeout=10)),
        ("token", 404, lambda f: requests.get(f"{endpoint(base, a)}/tokens/123456.{f}", timeout=10)),
        ("unknown resource", 404, lambda f: requests.get(f"{endpoint(base, a)}/bestaatniet.{f}", timeout=10)),
        ("wrong method", 405, lambda f: requests.delete(f"{endpoint(base, a)}/requests.{f}", timeout=10)),
        ("missing api_key", 403, lambda f: post(base, a, None, f)),
        ("wrong api_key", 403, lambda f: post(base, a, "vervalst", f)),
        ("another municipality's api_key", 403, lambda f: post(base, a, key_b, f)),
        ("another municipality's api_key on its endpoint", 403, lambda f: post(base, a, key_b, f, platform=False)),
        ("api_key in the URL instead of the body", 403, lambda f: requests.post(
            f"{endpoint(base, a)}/requests.{f}", params={"api_key": key_a},
            data={"service_code": "zwerfvuil", "lat": IN_A[0], "long": IN_A[1]}, timeout=10)),
        ("missing service_code", 400, lambda f: post(base, a, key_a, f, service_code="")),
        ("unknown service_code", 404, lambda f: post(base, a, key_a, f, service_code="bestaatniet")),
        ("missing location", 400, lambda f: post(base, a, key_a, f, lat=None, long=None)),
        ("lat without long", 400, lambda f: post(base, a, key_a, f, long=None)),
        ("description over 4000", 400, lambda f: post(base, a, key_a, f, description="x" * 4001)),
        ("HTML in the description", 400, lambda f: post(base, a, key_a, f, description="<b>kapot</b>")),
        ("HTML entities in the description", 400, lambda f: post(base, a, key_a, f, description="kapot&nbsp;")),
        ("outside the municipality", 400, lambda f: post(base, a, key_a, f, lat=IN_B[0], long=IN_B[1])),
        ("missing required attribute", 400, lambda f: post(base, a, key_a, f, service_code="sluikstort")),
        ("bad attribute value", 400, lambda f: post(base, a, key_a, f, service_code="sluikstort",
                                                    extra=[("attribute[volume]", "enorm")])),
        ("bad e-mail", 400, lambda f: post(base, a, key_a, f, email="geen-adres")),
        ("bad media_url", 400, lambda f: post(base, a, key_a, f, media_url="javascript:alert(1)")),
        ("date window over 90 days", 400, lambda f: requests.get(f"{endpoint(base)}/requests.{f}", params=too_wide,
                                                                 timeout=10)),
        ("end before start", 400, lambda f: requests.get(f"{endpoint(base, a)}/requests.{f}", timeout=10, params={
            "start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"})),
        ("not a W3C date", 400, lambda f: requests.get(f"{endpoint(base, a)}/requests.{f}",
                                                       params={"start_date": "gisteren"}, timeout=10)),
        ("bad status", 400, lambda f: requests.get(f"{endpoint(base, a)}/requests.{f}", params={"status": "half"},
                                                   timeout=10)),
        ("updates window over 90 days", 400, lambda f: requests.get(
            f"{endpoint(base)}/servicerequestupdates.{f}", params=too_wide, timeout=10)),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_error_is_in_the_spec_format_and_stores_nothing(base, towns, db_session, fmt):
    for name, status, call in error_cases(base, towns):
        response = call(fmt)
        assert response.status_code == status, (name, response.status_code, response.text)
        errors = errors_of(response, fmt)
        assert all(code == status and description for code, description in errors), (name, errors)
        assert count_all(db_session, towns) == 0, name


def test_each_problem_is_listed_and_the_location_error_is_clear(base, towns):
    a = towns["a"]
    response = post(base, a, towns["keys"][a.slug], service_code="sluikstort", description="<p>x</p>" + "y" * 4000,
                    lat=IN_B[0], long=IN_B[1])
    descriptions = [d for _code, d in errors_of(response, "json")]
    assert len(descriptions) == 4, descriptions
    assert any(d.startswith("lat/long:") and "Aalter-Oost" in d for d in descriptions)
    assert any(d.startswith("attribute[volume]:") for d in descriptions)
    assert sum(d.startswith("description:") for d in descriptions) == 2


def test_an_unknown_format_is_404_in_xml(base, towns):
    response = requests.get(f"{endpoint(base, towns['a'])}/services.yaml", timeout=10)
    assert response.status_code == 404
    assert errors_of(response, "xml")[0][0] == 404


def test_a_wrong_method_says_which_methods_are_allowed(base, towns):
    assert requests.put(f"{endpoint(base)}/requests.json", timeout=10).headers["Allow"] == "GET, POST"
    assert requests.post(f"{endpoint(base)}/services.json", timeout=10).headers["Allow"] == "GET"


def test_plain_text_with_comparisons_is_not_mistaken_for_html(base, towns, db_session):
    a = towns["a"]
    response = post(base, a, towns["keys"][a.slug], description="Put van 5 < 10 cm, maar > 3 cm diep & breed")
    assert response.status_code == 201, response.text


# --- Privacy and updates -----------------------------------------------------------------------


def test_no_personal_data_of_the_reporter_in_any_get(app, base, towns, db_session):
    a = towns["a"]
    response = post(base, a, towns["keys"][a.slug], **REPORTER)
    assert response.status_code == 201
    reference = response.json()[0]["service_request_id"]
    (case,) = cases_of(db_session, a)
    assert case.reporter_email == REPORTER["email"] and case.reporter_name == "Annemie Vandevelde"
    with app.test_request_context():
        handling.change_state(db_session, a, case, "in_behandeling", actor="staff", at=datetime.now(UTC))
    db_session.flush()
    pages = []
    for fmt in FORMATS:
        for url, params in ((f"{endpoint(base)}/requests.{fmt}", {"jurisdiction_id": a.slug}),
                            (f"{endpoint(base, a)}/requests.{fmt}", None),
                            (f"{endpoint(base, a)}/requests/{reference}.{fmt}", None),
                            (f"{endpoint(base, a)}/servicerequestupdates.{fmt}", None)):
            page = requests.get(url, params=params, timeout=10)
            assert page.status_code == 200 and reference in page.text
            pages.append(page.text)
    for page in pages:
        for value in (*REPORTER.values(), "Annemie", "Vandevelde", "0470"):
            assert value not in page


def test_service_request_updates_follow_state_changes(app, base, towns, db_session):
    a = towns["a"]
    key = towns["keys"][a.slug]
    first = post(base, a, key).json()[0]["service_request_id"]
    second = post(base, a, key, description="Nog meer blikjes").json()[0]["service_request_id"]
    parent, duplicate = cases_of(db_session, a)
    start = datetime.now(UTC) - timedelta(minutes=1)
    with app.test_request_context():
        at = datetime.now(UTC)
        handling.change_state(db_session, a, parent, "in_behandeling", actor="staff", at=at)
        handling.merge(db_session, a, duplicate, parent, actor="staff", at=at + timedelta(seconds=1))
        handling.change_state(db_session, a, parent, "afgehandeld", actor="staff", at=at + timedelta(seconds=2),
                              resolution="opgelost", note="De blikjes zijn opgeraapt.")
    db_session.flush()
    window = {"start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
              "end_date": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}

    updates = requests.get(f"{endpoint(base, a)}/servicerequestupdates.json", params=window, timeout=10).json()
    assert [(u["service_request_id"], u["status"]) for u in updates] == [
        (first, "OPEN"), (second, "CLOSED"), (first, "CLOSED")]
    assert updates[0]["description"] == "In behandeling"
    assert updates[1]["description"] == f"Samengevoegd met {first}"
    assert updates[2]["description"] == "Opgelost", "the note was written for the reporter, not for the internet"
    assert all(set(u) == {"update_id", "service_request_id", "status", "updated_datetime", "description",
                          "media_url"} for u in updates)
    assert len({u["update_id"] for u in updates}) == 3
    assert datetime.fromisoformat(updates[2]["updated_datetime"]).tzinfo is not None

    root = xml_of(requests.get(f"{endpoint(base)}/servicerequestupdates.xml",
                               params={"jurisdiction_id": a.slug, **window}, timeout=10))
    assert root.tag == "service_requests_updates" and [c.tag for c in root] == ["request_update"] * 3
    assert [c.tag for c in root[0]] == ["update_id", "service_request_id", "status", "updated_datetime",
                                        "description", "media_url"]
    later = {"start_date": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert requests.get(f"{endpoint(base, a)}/servicerequestupdates.json", params=later, timeout=10).json() == []
    other = requests.get(f"{endpoint(base, towns['b'])}/servicerequestupdates.json", params=window, timeout=10)
    assert other.json() == [], "B never sees A's updates"

    reader = client_for(base, a, "xml")
    closed = {r["service_request_id"]: r for r in as_list(reader.get_service_requests(status="closed"))}
    assert closed[first]["status"] == "closed"
    assert closed[first]["status_notes"] == "Opgelost"
    assert closed[second]["status_notes"] == f"Samengevoegd met {first}"
    # An empty list is an empty <service_requests/> (the georeport client itself cannot parse that one).
    empty = xml_of(requests.get(f"{endpoint(base, a)}/requests.xml", params={"status": "open"}, timeout=10))
    assert empty.tag == "service_requests" and len(empty) == 0


def test_json_is_utf8_and_keeps_accents(base, towns):
    a = towns["a"]
    response = post(base, a, towns["keys"][a.slug], description="Café: scherven op de stoep")
    reference = response.json()[0]["service_request_id"]
    page = requests.get(f"{endpoint(base, a)}/requests/{reference}.json", timeout=10)
    assert "Café".encode() in page.content
    assert json.loads(page.content.decode("utf-8"))[0]["description"] == "Café: scherven op de stoep"
    xml = requests.get(f"{endpoint(base, a)}/requests/{reference}.xml", timeout=10)
    assert xml_of(xml).find("request").findtext("description") == "Café: scherven op de stoep"
    bell = post(base, a, towns["keys"][a.slug], description="Scherven\x07 & glas").json()[0]["service_request_id"]
    xml = requests.get(f"{endpoint(base, a)}/requests/{bell}.xml", timeout=10)
    assert xml_of(xml).find("request").findtext("description") == "Scherven & glas", "XML stays well-formed"


def test_nothing_from_questions_shows(app, base, towns, db_session):
    from core.cases.intake import IntakeRequest, submit_case

    a = towns["a"]
    set_tenant(db_session, a.id)
    with app.test_request_context():
        question = submit_case(db_session, a, IntakeRequest(type_code="vraag", description="Mijn persoonlijke vraag",
                                                             reporter_email="x@example.be"),
                               channel="web", actor="burger", at=datetime.now(UTC)).case
    db_session.flush()
    assert requests.get(f"{endpoint(base, a)}/requests.json", timeout=10).json() == []
    assert requests.get(f"{endpoint(base, a)}/requests/{question.reference}.json", timeout=10).status_code == 404
    assert db_session.scalar(select(func.count()).select_from(Case)) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_idempotency_key_makes_a_retry_replay_the_first_answer(base, towns, db_session, fmt):
    a = towns["a"]
    key = towns["keys"][a.slug]
    headers = {"Idempotency-Key": f"open311-retry-{fmt}"}
    url = f"{endpoint(base)}/requests.{fmt}"
    form = {"jurisdiction_id": a.slug, "api_key": key, "service_code": "zwerfvuil", "lat": IN_A[0], "long": IN_A[1],
            "description": "Blikjes aan het station"}
    first = requests.post(url, data=form, headers=headers, timeout=10)
    again = requests.post(url, data=form, headers=headers, timeout=10)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    assert len(cases_of(db_session, a)) == 1, "a retry never files a second case"
    other = requests.post(url, data={**form, "description": "Iets anders"}, headers=headers, timeout=10)
    assert other.status_code == 422
    assert errors_of(other, fmt)[0][0] == 422
    assert len(cases_of(db_session, a)) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_posts_are_rate_limited_with_an_answer_in_the_spec_format(base, towns, db_session, fmt):
    url = f"{endpoint(base, towns['a'])}/requests.{fmt}"
    for _attempt in range(100):
        response = requests.post(url, data={"service_code": "zwerfvuil"}, timeout=10)
        if response.status_code == 429:
            break
        assert response.status_code == 403
    assert response.status_code == 429, "the default POST limit applies"
    assert errors_of(response, fmt)[0][0] == 429 and response.headers.get("Retry-After")
    assert requests.get(f"{endpoint(base, towns['a'])}/services.{fmt}", timeout=10).status_code == 200
    assert count_all(db_session, towns) == 0


def test_notes_written_for_the_reporter_are_never_public(app, base, towns, db_session):
    """Staff write the note under "the reporter reads this": Open311 shows only the state's label."""
    a, key = towns["a"], towns["keys"][towns["a"].slug]
    reference = post(base, a, key).json()[0]["service_request_id"]
    set_tenant(db_session, a.id)
    case = db_session.scalar(select(Case).where(Case.reference == reference))
    with app.test_request_context():
        handling.change_state(db_session, a, case, "wacht_op_burger", actor="staff:1", at=datetime.now(UTC),
                     note="Dag meneer Janssens, bel ons op 09 123 45 67")
    db_session.flush()
    for fmt in ("json", "xml"):
        text = requests.get(f"{endpoint(base)}/requests.{fmt}", params={"jurisdiction_id": a.slug}, timeout=10).text
        updates = requests.get(f"{endpoint(base)}/servicerequestupdates.{fmt}", timeout=10,
                               params={"jurisdiction_id": a.slug}).text
        assert "Janssens" not in text and "Janssens" not in updates
