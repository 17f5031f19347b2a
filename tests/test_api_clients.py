"""OAuth2 client credentials: tokens for the right client and scope, for its own municipality only."""

import base64
import json
import logging

import pytest
from sqlalchemy import inspect, text

from core.identity import api_clients
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department


@pytest.fixture
def credentials(db_session, tenant, other_tenant):
    set_tenant(db_session, tenant.id)
    db_session.add(Department(code="wegen", name="Wegen"))
    set_tenant(db_session, other_tenant.id)
    db_session.add(Department(code="groen", name="Groendienst"))
    db_session.flush()
    mine = api_clients.create_client(db_session, tenant, "Meldingen-app", ["cases:read", "departments:read"])
    narrow = api_clients.create_client(db_session, tenant, "Alleen zaken", ["cases:read"])
    db_session.flush()
    return {"mine": mine, "narrow": narrow}


def basic(client_id, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def get_token(client, creds, **form):
    return client.post("/oauth/token", data={"grant_type": "client_credentials", **form},
                       headers=basic(creds.client_id, creds.client_secret))


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_client_gets_a_token_and_reads_its_municipality(client, credentials, tenant):
    response = get_token(client, credentials["mine"])
    assert response.status_code == 200
    body = response.json
    assert body["token_type"].lower() == "bearer"
    assert set(body["scope"].split()) == {"cases:read", "departments:read"}
    assert body["expires_in"] == 3600
    departments = client.get(f"/api/v1/{tenant.slug}/departments", headers=bearer(body["access_token"]))
    assert departments.status_code == 200
    assert departments.json == [{"code": "wegen", "name": "Wegen"}]


def test_client_secret_post_works_too(client, credentials):
    creds = credentials["mine"]
    response = client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": creds.client_id, "client_secret": creds.client_secret})
    assert response.status_code == 200


def test_a_wrong_secret_is_refused(client, credentials, caplog):
    creds = credentials["mine"]
    with caplog.at_level(logging.WARNING, logger="fygitaal.api"):
        response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                               headers=basic(creds.client_id, "geraden"))
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert "access_token" not in response.json
    assert "token refused" in caplog.text and "geraden" not in caplog.text


def test_an_unknown_client_is_refused(client):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("nobody", "x"))
    assert response.status_code == 401


def test_asking_for_a_scope_the_client_lacks_is_refused(client, credentials):
    response = get_token(client, credentials["narrow"], scope="departments:read")
    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"


def test_a_token_without_the_scope_gets_403(client, credentials, tenant):
    token = get_token(client, credentials["narrow"]).json["access_token"]
    response = client.get(f"/api/v1/{tenant.slug}/departments", headers=bearer(token))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.json["error"] == "insufficient_scope"


def test_another_municipalitys_data_is_404(client, credentials, other_tenant):
    token = get_token(client, credentials["mine"]).json["access_token"]
    response = client.get(f"/api/v1/{other_tenant.slug}/departments", headers=bearer(token))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert "Groendienst" not in response.text


def test_an_expired_token_is_refused(client, credentials, tenant, clock, app):
    token = get_token(client, credentials["mine"]).json["access_token"]
    clock.advance(minutes=app.config["API_TOKEN_MINUTES"] - 1)
    assert client.get(f"/api/v1/{tenant.slug}/departments", headers=bearer(token)).status_code == 200
    clock.advance(minutes=2)
    response = client.get(f"/api/v1/{tenant.slug}/departments", headers=bearer(token))
    assert response.status_code == 401
    assert response.json["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [None, "Bearer onzin", "Basic abc"])
def test_missing_or_bad_bearer_tokens_are_refused(client, tenant, header):
    headers = {"Authorization": header} if header else {}
    response = client.get(f"/api/v1/{tenant.slug}/departments", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_secrets_and_tokens_are_not_stored_in_clear(client, credentials, db_session):
    token = get_token(client, credentials["mine"]).json["access_token"]
    stored = []
    for table in ("api_client", "api_token"):
        stored.extend(str(row) for row in db_session.execute(text(f"SELECT * FROM {table}")))
    dump = "\n".join(stored)
    assert credentials["mine"].client_secret not in dump
    assert token not in dump
    assert api_clients.digest(credentials["mine"].client_secret) in dump
    assert "api_token" in inspect(db_session.get_bind()).get_table_names()


def test_rotating_a_secret_stops_the_old_one_and_its_tokens(client, credentials, db_session, tenant):
    old = credentials["mine"]
    token = get_token(client, old).json["access_token"]
    new = api_clients.rotate_secret(db_session, old.client_id)
    db_session.flush()
    assert get_token(client, old).status_code == 401
    assert get_token(client, new).status_code == 200
    assert client.get(f"/api/v1/{tenant.slug}/departments", headers=bearer(token)).status_code == 401


def test_the_cli_shows_the_secret_once(runner, tenant, db_session):
    result = runner.invoke(args=["clients", "create", tenant.slug, "Open311-brug", "--scope", "cases:read",
                                 "--scope", "cases:write", "--open311"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.output.splitlines() if line.startswith(("client_", "api_key")))
    secret, api_key = lines["client_secret"].strip(), lines["api_key"].strip()
    listing = runner.invoke(args=["clients", "list", tenant.slug]).output
    assert "Open311-brug" in listing and "open311" in listing and secret not in listing
    assert api_clients.client_by_open311_key(db_session, api_key).name == "Open311-brug"


def test_the_cli_refuses_unknown_scopes_and_municipalities(runner, tenant):
    bad_scope = runner.invoke(args=["clients", "create", tenant.slug, "x", "--scope", "alles"])
    assert bad_scope.exit_code == 2 and "alles" in bad_scope.output
    unknown = runner.invoke(args=["clients", "create", "nergens", "x", "--scope", "cases:read"])
    assert unknown.exit_code == 1 and "municipality 'nergens' does not exist" in unknown.output


def test_the_service_refuses_bad_scopes(db_session, tenant):
    with pytest.raises(api_clients.ApiClientError, match="unknown scopes: alles"):
        api_clients.create_client(db_session, tenant, "x", ["alles"])
    with pytest.raises(api_clients.ApiClientError, match="at least one scope"):
        api_clients.create_client(db_session, tenant, "x", [])


def test_problem_details_are_json(client, tenant):
    response = client.get(f"/api/v1/{tenant.slug}/bestaat-niet")
    assert response.status_code == 404
    assert json.loads(response.data)["status"] == 404
