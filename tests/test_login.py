"""OpenID Connect login against a real provider on loopback: the happy path and every refusal."""

import logging
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from sqlalchemy import func, inspect, select, text

from core.identity import national_number
from core.identity.models import Account, UserSession
from core.identity.staff import grant_role
from core.tenancy.isolation import set_tenant
from core.testing.fixtures import login_as


def session_rows(db_session):
    return db_session.scalar(select(func.count()).select_from(UserSession))


def logged_in_rows(db_session):
    return db_session.scalar(select(func.count()).select_from(UserSession).where(UserSession.account_id.is_not(None)))


def start_login(client, path="/login"):
    """Our login page → the provider's authorization URL."""
    response = client.get(path)
    assert response.status_code == 302
    return response.headers["Location"]


def at_provider(authorize_url, subject):
    """The person types their subject at the provider, which sends them back with a code."""
    response = requests.post(authorize_url, data={"sub": subject}, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    return urlsplit(response.headers["Location"])


def with_param(url, **changes):
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_resident_logs_in_and_out(client, oidc_provider, db_session):
    response = login_as(client, oidc_provider, "inwoner-an", claims={"name": "An Vermeulen"}, next_url="/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert "An Vermeulen" in page.text and "Afmelden" in page.text
    account = db_session.scalar(select(Account).where(Account.subject == "inwoner-an"))
    assert account.issuer == oidc_provider
    assert logged_in_rows(db_session) == 1

    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    logout = client.post("/logout", data={"csrf_token": token})
    assert logout.status_code == 302
    assert logout.headers["Location"].startswith(f"{oidc_provider}/oauth2/end_session?")
    assert "post_logout_redirect_uri" in logout.headers["Location"]
    assert logged_in_rows(db_session) == 0
    assert "Afmelden" not in client.get("/").text


def test_logout_ends_every_session_of_the_person(app, oidc_provider, db_session):
    phone, laptop = app.test_client(), app.test_client()
    login_as(phone, oidc_provider, "inwoner-karim")
    login_as(laptop, oidc_provider, "inwoner-karim")
    assert logged_in_rows(db_session) == 2
    page = phone.get("/").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    phone.post("/logout", data={"csrf_token": token})
    assert logged_in_rows(db_session) == 0
    assert "Afmelden" not in laptop.get("/").text


def refused(response):
    assert response.status_code == 400
    assert "Aanmelden mislukt" in response.text
    assert "U bent niet aangemeld" in response.text


def test_a_tampered_state_is_refused_and_creates_no_session(client, db_session):
    callback = at_provider(start_login(client), "inwoner-an")
    tampered = with_param(f"{callback.path}?{callback.query}", state="vervalst")
    refused(client.get(tampered))
    assert logged_in_rows(db_session) == 0
    assert db_session.scalar(select(func.count()).select_from(Account)) == 0


def test_a_wrong_nonce_is_refused_and_creates_no_session(client, db_session):
    authorize = with_param(start_login(client), nonce="een-andere-nonce")
    callback = at_provider(authorize, "inwoner-an")
    refused(client.get(f"{callback.path}?{callback.query}"))
    assert session_rows(db_session) == 0
    assert db_session.scalar(select(func.count()).select_from(Account)) == 0


def test_a_replayed_callback_is_refused(app, client, oidc_provider, db_session):
    callback = at_provider(start_login(client), "inwoner-an")
    url = f"{callback.path}?{callback.query}"
    assert client.get(url).status_code == 302
    refused(client.get(url))
    attacker = app.test_client()
    refused(attacker.get(url))
    assert logged_in_rows(db_session) == 1


def test_an_id_token_for_another_client_is_refused(app, client, db_session):
    authorize = start_login(client)
    oauth_client = app.extensions["fygitaal.oauth"].create_client("platform")
    original = oauth_client.client_id
    oauth_client.client_id = "een-ander-systeem"  # the provider now answers for another client
    try:
        callback = at_provider(with_param(authorize, client_id="een-ander-systeem"), "inwoner-an")
        response = client.get(f"{callback.path}?{callback.query}")
    finally:
        oauth_client.client_id = original
    refused(response)
    assert "voor een andere toepassing bestemd" in response.text
    assert logged_in_rows(db_session) == 0


def test_a_refusal_is_logged_without_personal_data(client, caplog):
    with caplog.at_level(logging.INFO):
        callback = at_provider(start_login(client), "inwoner-an")
        client.get(with_param(f"{callback.path}?{callback.query}", state="vervalst"))
    refusals = [r for r in caplog.records if r.getMessage() == "login refused"]
    assert refusals and refusals[0].reason == "state"
    assert "inwoner-an" not in caplog.text


NUMBER = "85073003328"


def everything_stored(db_session) -> str:
    """Every row of every table, as text."""
    dump = []
    for table in inspect(db_session.get_bind()).get_table_names():
        dump.extend(str(row) for row in db_session.execute(text(f'SELECT * FROM "{table}"')))
    return "\n".join(dump)


@pytest.mark.parametrize("written", [NUMBER, "85.07.30-033.28"])
def test_a_national_number_leaves_only_a_keyed_hash(app, client, oidc_provider, db_session, caplog, written):
    with caplog.at_level(logging.DEBUG):
        response = login_as(client, oidc_provider, "inwoner-nrn", claims={"name": "Nora", "rrn": written})
    assert response.status_code == 302
    account = db_session.scalar(select(Account).where(Account.subject == "inwoner-nrn"))
    assert account.national_number_hash == national_number.keyed_hash(app.config["SECRET_KEY"], "platform", NUMBER)
    stored = everything_stored(db_session)
    for trace in (NUMBER, "85.07.30-033.28", "850730033"):
        assert trace not in stored
        assert trace not in caplog.text


def test_an_invalid_national_number_is_ignored(client, oidc_provider, db_session):
    login_as(client, oidc_provider, "inwoner-fout", claims={"rrn": "85073003327"})
    account = db_session.scalar(select(Account).where(Account.subject == "inwoner-fout"))
    assert account.national_number_hash is None


def test_national_number_checksums():
    assert national_number.is_valid("85073003328")
    assert national_number.is_valid("01020345603")  # born in 2001: the 2 prefix
    assert not national_number.is_valid("85073003329")
    assert not national_number.is_valid("8507300332")
    with pytest.raises(national_number.InvalidNationalNumber, match="11 digits"):
        national_number.normalise("abc")
    secret = "s"
    assert national_number.keyed_hash(secret, "lochristi", NUMBER) != national_number.keyed_hash(secret, "moerbeke", NUMBER)


def test_staff_log_in_at_their_municipality(client, oidc_provider, db_session, tenant):
    set_tenant(db_session, tenant.id)
    grant_role(db_session, oidc_provider, "a-beheerder", "beheerder")
    response = login_as(client, oidc_provider, "a-beheerder", tenant=tenant.slug)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/{tenant.slug}/"
    assert logged_in_rows(db_session) == 1


def test_someone_who_is_not_staff_is_refused_at_the_staff_login(client, oidc_provider, db_session, tenant, other_tenant):
    set_tenant(db_session, other_tenant.id)
    grant_role(db_session, oidc_provider, "b-onthaal", "onthaal")
    response = login_as(client, oidc_provider, "b-onthaal", tenant=tenant.slug)
    refused(response)
    assert "niet (meer) als medewerker" in response.text
    assert logged_in_rows(db_session) == 0


def test_login_without_a_configured_provider_says_so(app, client):
    issuer = app.config["OIDC_ISSUER"]
    app.config["OIDC_ISSUER"] = ""
    try:
        assert client.get("/login").status_code == 503
    finally:
        app.config["OIDC_ISSUER"] = issuer


def test_an_unsafe_next_is_ignored(client, oidc_provider):
    response = login_as(client, oidc_provider, "inwoner-an", next_url="https://evil.example/")
    assert response.headers["Location"] == "/"


@pytest.fixture
def second_provider():
    """A municipality's own identity provider: another real provider on loopback."""
    import threading

    from oidc_provider_mock import app as provider_app
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, provider_app(), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_staff_of_a_municipality_with_its_own_provider_log_in_there(
    client, oidc_provider, second_provider, db_session, make_tenant, monkeypatch
):
    monkeypatch.setenv("FYGITAAL_IDP_EIGEN_SECRET", "geheim")
    own = make_tenant("eigen-idp", identity={"provider": "oidc", "issuer": second_provider,
                                            "client_id": "eigen-gemeente", "client_secret_env": "FYGITAAL_IDP_EIGEN_SECRET"})
    set_tenant(db_session, own.id)
    grant_role(db_session, second_provider, "medewerker-1", "onthaal")
    authorize = start_login(client, f"/{own.slug}/login")
    assert authorize.startswith(f"{second_provider}/oauth2/authorize?")
    assert "client_id=eigen-gemeente" in authorize
    callback = at_provider(authorize, "medewerker-1")
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302
    account = db_session.scalar(select(Account).where(Account.subject == "medewerker-1"))
    assert account.issuer == second_provider
    # A code from the platform's provider is worthless at the municipality's login.
    other = client.application.test_client()
    authorize = start_login(other, f"/{own.slug}/login")
    foreign = authorize.replace(second_provider, oidc_provider)
    callback = at_provider(foreign, "medewerker-1")
    refused(other.get(f"{callback.path}?{callback.query}"))
    assert logged_in_rows(db_session) == 1


def test_a_missing_secret_for_a_municipality_provider_is_a_clear_503(client, make_tenant, monkeypatch, caplog):
    monkeypatch.delenv("FYGITAAL_IDP_X_SECRET", raising=False)
    own = make_tenant("zonder-secret", identity={"provider": "oidc", "issuer": "http://127.0.0.1:9",
                                                "client_id": "x", "client_secret_env": "FYGITAAL_IDP_X_SECRET"})
    assert client.get(f"/{own.slug}/login").status_code == 503
    assert "FYGITAAL_IDP_X_SECRET" in caplog.text
