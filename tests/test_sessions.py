"""Server-side sessions: a new id at login, idle and absolute expiry, ending, cookie flags."""

import pytest
from sqlalchemy import func, select

from core.identity.models import UserSession
from core.identity.staff import grant_role, set_active, staff_by_subject
from core.tenancy.isolation import set_tenant
from core.testing.fixtures import login_as, make_test_app

COOKIE = "fygitaal"


def session_cookie(client):
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def logged_in(client):
    return "Afmelden" in client.get("/").text


def test_login_gives_a_new_session_id(client, oidc_provider, db_session):
    client.get("/login")
    before = session_cookie(client)
    assert before, "a login in progress keeps its state in a session"
    login_as(client, oidc_provider, "inwoner-an")
    after = session_cookie(client)
    assert after and after != before
    # The pre-login id is dead: presenting it again gives an anonymous visitor.
    client.set_cookie(COOKIE, before)
    assert not logged_in(client)


def test_a_visitor_gets_no_session_row(client, db_session, tenant):
    client.get("/")
    client.get(f"/{tenant.slug}/")
    assert session_cookie(client) is None
    assert db_session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_the_table_keeps_only_a_hash_of_the_id(client, oidc_provider, db_session):
    login_as(client, oidc_provider, "inwoner-an")
    row = db_session.scalars(select(UserSession).where(UserSession.account_id.is_not(None))).one()
    assert row.id_hash != session_cookie(client)
    assert len(row.id_hash) == 64


def test_idle_timeout(client, oidc_provider, clock, app):
    login_as(client, oidc_provider, "inwoner-an")
    idle = app.config["SESSION_IDLE_MINUTES"]
    clock.advance(minutes=idle - 1)
    assert logged_in(client), "activity within the idle window keeps the session"
    clock.advance(minutes=idle - 1)
    assert logged_in(client)
    clock.advance(minutes=idle + 1)
    assert not logged_in(client)


def test_absolute_lifetime(client, oidc_provider, clock, app):
    login_as(client, oidc_provider, "inwoner-an")
    lifetime_minutes = app.config["SESSION_LIFETIME_HOURS"] * 60
    step = app.config["SESSION_IDLE_MINUTES"] - 5
    elapsed = 0
    while elapsed + step < lifetime_minutes:
        clock.advance(minutes=step)
        elapsed += step
        assert logged_in(client), f"still within the lifetime after {elapsed} minutes"
    clock.advance(minutes=step)
    assert not logged_in(client), "an active session still ends at its absolute lifetime"


def test_an_expired_session_row_is_removed(client, oidc_provider, clock, db_session, app):
    login_as(client, oidc_provider, "inwoner-an")
    clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    client.get("/")
    assert db_session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_deactivation_ends_every_session_of_the_staff_member(app, oidc_provider, db_session, tenant):
    set_tenant(db_session, tenant.id)
    grant_role(db_session, oidc_provider, "a-onthaal", "onthaal")
    desk, phone = app.test_client(), app.test_client()
    for device in (desk, phone):
        assert login_as(device, oidc_provider, "a-onthaal", tenant=tenant.slug).status_code == 302
        assert logged_in(device)
    set_tenant(db_session, tenant.id)
    set_active(db_session, staff_by_subject(db_session, oidc_provider, "a-onthaal").id, False)
    assert not logged_in(desk)
    assert not logged_in(phone)


def test_cookie_flags_in_development(client, oidc_provider):
    response = login_as(client, oidc_provider, "inwoner-an")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie


@pytest.fixture
def production_app(database_urls, tmp_path, oidc_provider, db_session):
    from core.testing.fixtures import joined_to

    app = make_test_app(database_urls, tmp_path, ENV="production", OIDC_ISSUER=oidc_provider,
                        OIDC_CLIENT_ID="fygitaal-test", OIDC_CLIENT_SECRET="x")
    with joined_to(app, db_session.connection()):
        yield app


def test_cookie_flags_in_production(production_app):
    client = production_app.test_client()
    response = client.get("/login", base_url="https://fygitaal.example")
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("__Host-fygitaal="))
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in session_cookie
    assert "Domain=" not in session_cookie, "__Host- cookies carry no Domain"
    page = client.get("/", base_url="https://fygitaal.example")
    csrf_cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("__Host-csrf="))
    assert "Secure" in csrf_cookie and "HttpOnly" in csrf_cookie
    assert "Strict-Transport-Security" in page.headers
