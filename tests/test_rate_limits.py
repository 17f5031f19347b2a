"""Rate limits on login, the token endpoint and every POST, keyed on the real client address."""

import logging

import pytest
from limits import parse

from core.testing.fixtures import joined_to, make_test_app


def limit_of(app, key):
    return parse(app.config[key]).amount


def test_login_over_the_limit_answers_429_with_retry_after(app, client):
    for _ in range(limit_of(app, "RATELIMIT_LOGIN")):
        assert client.get("/login").status_code == 302
    response = client.get("/login")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Even geduld" in response.text


def test_a_spoofed_forwarded_for_does_not_buy_a_fresh_quota(app, client):
    for n in range(limit_of(app, "RATELIMIT_LOGIN")):
        client.get("/login", headers={"X-Forwarded-For": f"203.0.113.{n}"})
    response = client.get("/login", headers={"X-Forwarded-For": "198.51.100.7"})
    assert response.status_code == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_quota(database_urls, tmp_path, db_session, oidc_provider):
    app = make_test_app(database_urls, tmp_path, TRUSTED_PROXIES=1, OIDC_ISSUER=oidc_provider,
                        OIDC_CLIENT_ID="x", OIDC_CLIENT_SECRET="y")
    with joined_to(app, db_session.connection()):
        client = app.test_client()
        for _ in range(limit_of(app, "RATELIMIT_LOGIN")):
            client.get("/login", headers={"X-Forwarded-For": "203.0.113.1"})
        assert client.get("/login", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
        assert client.get("/login", headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 302


def test_the_token_endpoint_is_limited(app, client):
    for _ in range(limit_of(app, "RATELIMIT_TOKEN")):
        client.post("/oauth/token", data={"grant_type": "client_credentials"})
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert "Retry-After" in response.headers


@pytest.mark.parametrize("path", ["/taal", "/logout"])
def test_every_public_post_is_limited(app, client, path):
    for _ in range(limit_of(app, "RATELIMIT_POST")):
        client.post(path, data={})
    assert client.post(path, data={}).status_code == 429


def test_gets_of_ordinary_pages_are_not_limited(app, client, tenant):
    for _ in range(limit_of(app, "RATELIMIT_POST") + 5):
        assert client.get("/").status_code == 200


def test_a_breach_is_not_logged_with_the_client_address(app, client, caplog):
    with caplog.at_level(logging.INFO):
        for _ in range(limit_of(app, "RATELIMIT_LOGIN") + 1):
            client.get("/login", environ_base={"REMOTE_ADDR": "192.0.2.44"})
    assert "192.0.2.44" not in caplog.text
