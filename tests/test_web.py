"""The web shell: homes, 404s, languages, security headers, CSRF, size limits and health."""

import re

import pytest

from core.app import create_app
from core.config import ConfigError


def test_platform_home_lists_the_municipalities(client, tenant, other_tenant):
    page = client.get("/")
    assert page.status_code == 200
    assert f'href="/{tenant.slug}/"' in page.text
    assert f'href="/{other_tenant.slug}/"' in page.text
    assert "Testregio" in page.text


@pytest.mark.plugins("grofvuil")
def test_municipality_home_shows_its_enabled_services(client, tenant, other_tenant):
    page = client.get(f"/{tenant.slug}/")
    assert page.status_code == 200
    assert f"Welkom bij gemeente {tenant.name}" in page.text
    assert f'href="/{tenant.slug}/grofvuil/"' in page.text
    assert "grofvuil" not in client.get(f"/{other_tenant.slug}/").text


def test_unknown_municipality_is_a_404_page(client, tenant):
    page = client.get("/bestaatniet/")
    assert page.status_code == 404
    assert "Pagina niet gevonden" in page.text
    assert '<html lang="nl">' in page.text


def test_page_structure_is_accessible(client, tenant):
    page = client.get(f"/{tenant.slug}/").text
    assert '<html lang="nl">' in page
    assert 'class="skip-link" href="#inhoud"' in page
    for landmark in ("<header", '<main id="inhoud"', "<footer"):
        assert landmark in page
    assert '<label for="taal">' in page


def test_security_headers(client, tenant):
    headers = client.get(f"/{tenant.slug}/").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_accept_language_picks_the_page_language(client, tenant):
    page = client.get("/", headers={"Accept-Language": "fr-BE,fr;q=0.9"})
    assert '<html lang="fr">' in page.text


def csrf_token_from(page_text: str) -> str:
    marker = 'name="csrf_token" value="'
    start = page_text.index(marker) + len(marker)
    return page_text[start:page_text.index('"', start)]


def test_language_switch_remembers_the_choice(client, tenant):
    token = csrf_token_from(client.get(f"/{tenant.slug}/").text)
    response = client.post("/taal", data={"taal": "en", "next": f"/{tenant.slug}/", "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/{tenant.slug}/"
    page = client.get(f"/{tenant.slug}/", headers={"Accept-Language": "fr"})
    assert '<html lang="en">' in page.text


def test_language_switch_refuses_foreign_redirects(client, tenant):
    token = csrf_token_from(client.get("/").text)
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post("/taal", data={"taal": "fr", "next": target, "csrf_token": token})
        assert response.headers["Location"] == "/"


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(client, tenant):
    client.get("/")
    response = client.post("/taal", data={"taal": "fr", "next": "/"})
    assert response.status_code == 400
    assert "Formulier verlopen" in response.text
    assert "Er is niets gewijzigd" in response.text
    assert "taal=" not in response.headers.get("Set-Cookie", "")
    assert '<html lang="nl">' in client.get("/").text


def test_a_wrong_csrf_token_is_refused(client, tenant):
    client.get("/")
    response = client.post("/taal", data={"taal": "fr", "csrf_token": "geraden"})
    assert response.status_code == 400


def test_an_oversized_request_is_refused(client, app, tenant):
    body = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/taal", data={"taal": body})
    assert response.status_code == 413
    assert "te groot" in response.text


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["database"] == "ok"


def test_readiness_fails_when_the_database_is_unreachable(database_urls, tmp_path):
    from core.testing.fixtures import make_test_app

    app = make_test_app(database_urls, tmp_path, DATABASE_URL="sqlite:////nonexistent/dir/x.db")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}


def test_host_map_serves_a_municipality_on_its_own_domain(database_urls, tmp_path, db_session, tenant):
    from core.testing.fixtures import joined_to, make_test_app

    app = make_test_app(database_urls, tmp_path, HOST_MAP={"meldingen.gemeente-a.be": tenant.slug})
    with joined_to(app, db_session.connection()):
        page = app.test_client().get("/", base_url="https://meldingen.gemeente-a.be")
        assert f"Welkom bij gemeente {tenant.name}" in page.text
        assert app.test_client().get("/healthz", base_url="https://meldingen.gemeente-a.be").json


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("FYGITAAL_SECRET_KEY", raising=False)
    monkeypatch.setenv("FYGITAAL_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="FYGITAAL_SECRET_KEY is not set"):
        create_app({"ENV": "production"})


def test_configuration_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FYGITAAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("FYGITAAL_ENV", "production")
    monkeypatch.setenv("FYGITAAL_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("FYGITAAL_BASE_URL", "https://fygitaal.example")
    monkeypatch.setenv("FYGITAAL_DATABASE_URL", f"sqlite:///{tmp_path}/prod.db")
    app = create_app()
    assert app.config["BASE_URL"] == "https://fygitaal.example"
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-fygitaal"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["DEBUG"] is False


def test_a_malformed_host_map_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("FYGITAAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("FYGITAAL_HOST_MAP", "meldingen.lochristi.be")
    with pytest.raises(ConfigError, match=re.escape("write it as 'meldingen.lochristi.be=lochristi'")):
        create_app({"ENV": "testing"})


def test_follow_up_tokens_are_redacted_from_log_lines():
    import logging

    from core.logs import JsonFormatter

    record = logging.makeLogRecord({"msg": '127.0.0.1 - "GET /lochristi/opvolging/%s HTTP/1.1" 303 -',
                                    "args": ("Qm9vZ2llZ2VoZWltZ2VoZWltZ2VoZWlt",)})
    line = JsonFormatter().format(record)
    assert "Qm9vZ2llZ2VoZWlt" not in line and "/opvolging/…" in line
    dossier = JsonFormatter().format(logging.makeLogRecord({"msg": "GET /x/opvolging/dossier/ZV-2026-00001"}))
    assert "ZV-2026-00001" in dossier


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_the_fast_short_formats_write_what_babel_writes(app, language):
    from datetime import UTC, date, datetime

    from flask_babel import format_date, format_datetime, refresh

    from core.i18n import short_date, short_datetime

    moments = [datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # around DST
               datetime(2026, 12, 31, 23, 59), date(2027, 1, 2)]
    with app.test_request_context(headers={"Cookie": f"taal={language}"}):
        refresh()
        for moment in moments:
            if isinstance(moment, datetime):
                assert short_datetime(moment) == format_datetime(moment, "short")
            assert short_date(moment) == format_date(moment, "short")
