"""Mijn profiel through the real app and a real login: the overview, preferences, linking, receipts."""

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, inspect, select, text

from core.cases.intake import IntakeRequest, submit_case
from core.contact.models import ContactMoment
from core.identity.models import Account
from core.identity.staff import grant_role
from core.profiles.access_log import record_access
from core.profiles.models import ConsentRecord, PreferenceChange, Profile
from core.profiles.service import Actor, ProfileError, create_desk_profile, ensure_profile, update_preferences
from core.tenancy.isolation import set_tenant
from core.testing.fixtures import login_as

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SECRET = "test-secret"  # the test kit's SECRET_KEY


@pytest.fixture
def services(app):
    """A context for calling services directly (gettext, the app's catalogue), apart from the client's requests.

    Not one around the whole test: the client's requests would share its ``g`` (and its logged-in person).
    """
    return app.test_request_context


def national_number(born: str, serial: int) -> str:
    """A valid number for someone born in the 1900s: check digits = 97 - (first nine digits mod 97)."""
    nine = f"{born}{serial:03d}"
    return f"{nine}{97 - int(nine) % 97:02d}"


def token(client, path):
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def account_of(db_session, subject):
    return db_session.scalar(select(Account).where(Account.subject == subject))


def profile_in(db_session, tenant, account):
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    return db_session.scalar(select(Profile).where(Profile.account_id == account.id))


def changes_in(db_session, tenant):
    set_tenant(db_session, tenant.id)
    return db_session.scalar(select(func.count()).select_from(PreferenceChange))


def resident_with_profile(app, db_session, tenant, account, **details):
    with app.test_request_context():
        set_tenant(db_session, tenant.id)
        profile = ensure_profile(db_session, account, AT)
        update_preferences(db_session, profile, details, actor=Actor.resident("web"), at=AT)
        db_session.flush()
    return profile


def file_question(app, db_session, tenant, account, description):
    with app.test_request_context():
        set_tenant(db_session, tenant.id)
        result = submit_case(db_session, tenant, IntakeRequest(type_code="vraag", description=description,
                                                               reporter_account_id=account.id),
                             channel="web", actor="burger", at=AT)
    return result.case


GOOD_FORM = {"name": "An Peeters", "address": "Dorpsstraat 1, 9080 Lochristi", "birth_date": "1985-07-30",
             "email": "an@example.be", "phone": "+32 9 123 45 67", "language": "nl", "preferred_channel": "e-mail",
             "assistance_needs": ""}


def post_preferences(client, tenant, **changes):
    path = f"/mijn/{tenant.slug}/voorkeuren"
    return client.post(path, data={"csrf_token": token(client, path), **GOOD_FORM, **changes})


def test_anonymous_visitors_log_in_first(client, tenant):
    for path in ("/mijn/", f"/mijn/{tenant.slug}/voorkeuren", f"/mijn/{tenant.slug}/toestemmingen",
                 f"/mijn/{tenant.slug}/toegang"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/login?next={path}")


def test_the_overview_shows_both_municipalities_and_nothing_of_anyone_else(
        app, client, db_session, tenant, other_tenant, oidc_provider):
    login_as(client, oidc_provider, "mijn-an", claims={"name": "An"})
    an = account_of(db_session, "mijn-an")
    someone = app.test_client()
    login_as(someone, oidc_provider, "mijn-bert", claims={"name": "Bert"})
    bert = account_of(db_session, "mijn-bert")

    here = resident_with_profile(app, db_session, tenant, an, name="An Peeters", address="Dorpsstraat 1")
    question = file_question(app, db_session, tenant, an, "Wanneer is het containerpark open?")
    db_session.add(ContactMoment(profile_id=here.id, channel="balie", topic="Parkeerkaart aangevraagd",
                                 outcome="beantwoord", created_at=AT))
    record_access(db_session, instance_secret=SECRET, tenant_id=tenant.id, profile_id=here.id,
                  actor_kind="medewerker", actor_label="Mona (onthaal)", reason="Vraag aan de balie",
                  shown=["profiel"], at=AT)
    resident_with_profile(app, db_session, other_tenant, an, name="An Peeters", address="Kerkplein 7, Moerbeke")
    resident_with_profile(app, db_session, tenant, bert, name="Bert Anders", address="Stationsstraat 99")
    theirs = file_question(app, db_session, tenant, bert, "Mag ik een boom kappen?")
    db_session.commit()

    page = client.get("/mijn/")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text_ = page.text
    assert f"Gemeente {tenant.name}" in text_ and f"Gemeente {other_tenant.name}" in text_
    assert "Dorpsstraat 1" in text_ and "Kerkplein 7, Moerbeke" in text_
    assert f'href="/{tenant.slug}/opvolging/dossier/{question.reference}"' in text_
    assert "Algemene vraag" in text_ and "Parkeerkaart aangevraagd" in text_ and "Beantwoord" in text_
    assert "Mona (onthaal)" in text_ and "Vraag aan de balie" in text_
    for endpoint_path in (f"/mijn/{tenant.slug}/voorkeuren", f"/mijn/{other_tenant.slug}/toestemmingen",
                          f"/mijn/{tenant.slug}/toegang", f"/mijn/{tenant.slug}/delen",
                          f"/mijn/{other_tenant.slug}/wissen", "/mijn/export"):
        assert f'href="{endpoint_path}"' in text_
    assert "Bert Anders" not in text_ and "Stationsstraat 99" not in text_ and theirs.reference not in text_


def test_the_overview_costs_the_same_however_long_the_history(
        app, client, db_session, tenant, other_tenant, oidc_provider, query_counter):
    login_as(client, oidc_provider, "mijn-veel")
    account = account_of(db_session, "mijn-veel")
    here = resident_with_profile(app, db_session, tenant, account, name="Veel Gevraagd")
    resident_with_profile(app, db_session, other_tenant, account, name="Veel Gevraagd")
    file_question(app, db_session, tenant, account, "De eerste vraag")
    db_session.commit()
    client.get("/mijn/")  # fills the per-tenant caches (case types, purposes)
    with query_counter as few:
        assert client.get("/mijn/").status_code == 200

    for n in range(19):
        file_question(app, db_session, tenant if n % 2 else other_tenant, account, f"Vraag {n}")
    set_tenant(db_session, tenant.id)
    for n in range(5):
        db_session.add(ContactMoment(profile_id=here.id, channel="telefoon", topic=f"Gesprek {n}",
                                     outcome="beantwoord", created_at=AT))
    db_session.commit()
    with query_counter as many:
        page = client.get("/mijn/")
    assert page.text.count("/opvolging/dossier/") == 20 and "Gesprek 4" in page.text
    assert many.count == few.count, many.statements


def test_a_resident_changes_preferences_and_sees_the_history(client, db_session, tenant, oidc_provider):
    login_as(client, oidc_provider, "mijn-voorkeur", claims={"name": "An"})
    account = account_of(db_session, "mijn-voorkeur")
    assert profile_in(db_session, tenant, account) is None
    form = client.get(f"/mijn/{tenant.slug}/voorkeuren")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    assert "heeft nog geen profiel van u" in form.text

    response = post_preferences(client, tenant)
    assert response.status_code == 303
    profile = profile_in(db_session, tenant, account)
    assert (profile.name, profile.email, profile.preferred_channel) == ("An Peeters", "an@example.be", "e-mail")
    response = post_preferences(client, tenant, preferred_channel="brief", no_digital_contact="ja")
    assert response.status_code == 303
    set_tenant(db_session, tenant.id)
    changes = list(db_session.scalars(select(PreferenceChange).order_by(PreferenceChange.id)))
    assert [c.actor_kind for c in changes] == ["inwoner", "inwoner"]
    assert set(changes[-1].fields) == {"preferred_channel", "no_digital_contact"}
    assert changes[-1].channel == "web"
    page = client.get(f"/mijn/{tenant.slug}/voorkeuren").text
    assert "Uw gegevens en voorkeuren zijn bewaard." in page
    assert "Voorkeurskanaal, Geen digitaal contact" in page and "uzelf" in page


def test_a_change_by_the_desk_says_so(app, client, db_session, tenant, oidc_provider, services):
    login_as(client, oidc_provider, "mijn-balie")
    account = account_of(db_session, "mijn-balie")
    profile = resident_with_profile(app, db_session, tenant, account, name="An")
    with services():
        update_preferences(db_session, profile, {"phone": "09 123 45 67"}, actor=Actor("medewerker", "balie"),
                           at=AT)
    db_session.commit()
    assert "een medewerker aan de balie" in client.get(f"/mijn/{tenant.slug}/voorkeuren").text


@pytest.mark.parametrize(("changes", "message"), [
    ({"email": "geen-adres"}, "Dit e-mailadres is niet geldig."),
    ({"preferred_channel": "postduif"}, "Kies een kanaal uit de lijst."),
    ({"no_digital_contact": "ja", "preferred_channel": "e-mail"},
     "Wie geen digitaal contact wil, kiest brief, telefoon of balie."),
    ({"assistance_needs": "x" * 1001}, "Hoogstens 1000 tekens."),
    ({"lievelingskleur": "blauw"}, "Dit gegeven bestaat niet in een profiel."),
])
def test_bad_preferences_are_refused_and_change_nothing(client, db_session, tenant, oidc_provider, changes, message):
    login_as(client, oidc_provider, "mijn-fout")
    account = account_of(db_session, "mijn-fout")
    assert post_preferences(client, tenant).status_code == 303
    before = changes_in(db_session, tenant)

    response = post_preferences(client, tenant, name="Iemand Anders", **changes)
    assert response.status_code == 400
    assert message in response.text and 'class="error-summary"' in response.text
    assert profile_in(db_session, tenant, account).name == "An Peeters"
    assert changes_in(db_session, tenant) == before


def test_bad_preferences_create_no_profile(client, db_session, tenant, oidc_provider):
    login_as(client, oidc_provider, "mijn-fout-nieuw")
    response = post_preferences(client, tenant, email="geen-adres")
    assert response.status_code == 400 and "Dit e-mailadres is niet geldig." in response.text
    assert profile_in(db_session, tenant, account_of(db_session, "mijn-fout-nieuw")) is None
    assert changes_in(db_session, tenant) == 0


def test_an_unknown_municipality_is_404(client, oidc_provider, db_session):
    login_as(client, oidc_provider, "mijn-nergens")
    assert client.get("/mijn/nergensdorp/voorkeuren").status_code == 404
    assert client.post("/mijn/nergensdorp/voorkeuren", data=GOOD_FORM).status_code in (400, 404)


def test_staff_cannot_set_the_language(app, db_session, tenant, oidc_provider, client, services):
    login_as(client, oidc_provider, "mijn-taal")
    profile = resident_with_profile(app, db_session, tenant, account_of(db_session, "mijn-taal"), language="nl")
    before = changes_in(db_session, tenant)
    with services(), pytest.raises(ProfileError) as refused:
        update_preferences(db_session, profile, {"language": "fr"}, actor=Actor.staff(1, "balie"), at=AT)
    assert "taalwetgeving" in " ".join(refused.value.errors["language"])
    assert profile.language == "nl" and changes_in(db_session, tenant) == before


def everything_stored(db_session) -> str:
    dump = []
    for table in inspect(db_session.get_bind()).get_table_names():
        dump.extend(str(row) for row in db_session.execute(text(f'SELECT * FROM "{table}"')))
    return "\n".join(dump)


def test_a_desk_profile_is_linked_at_login_with_the_national_number(
        client, db_session, tenant, other_tenant, oidc_provider, caplog, services):
    number, someone_else = national_number("850730", 33), national_number("900101", 42)
    with services():
        set_tenant(db_session, tenant.id)
        desk = create_desk_profile(db_session, tenant, {"name": "Dora Desk", "address": "Kerkstraat 1"},
                                   instance_secret=SECRET, national_number_raw=number,
                                   actor=Actor("medewerker", "balie"), at=AT)
        set_tenant(db_session, other_tenant.id)
        other = create_desk_profile(db_session, other_tenant, {"name": "Iemand Anders"}, instance_secret=SECRET,
                                    national_number_raw=someone_else, actor=Actor("medewerker", "balie"), at=AT)
    db_session.commit()

    with caplog.at_level(logging.DEBUG):
        response = login_as(client, oidc_provider, "mijn-dora", claims={"name": "Dora", "rrn": number})
    assert response.status_code == 302
    account = account_of(db_session, "mijn-dora")
    db_session.expire_all()
    set_tenant(db_session, tenant.id)
    assert db_session.get(Profile, desk.id).account_id == account.id
    set_tenant(db_session, other_tenant.id)
    assert db_session.get(Profile, other.id).account_id is None

    page = client.get("/mijn/").text
    assert (f"Uw profiel bij gemeente {tenant.name}, aangemaakt aan de balie, is nu aan uw account gekoppeld."
            in page)
    assert "Kerkstraat 1" in page and "gekoppeld op" in page
    assert "Iemand Anders" not in page and other_tenant.name not in page
    stored = everything_stored(db_session)
    for trace in (number, number[:9]):
        assert trace not in stored and trace not in caplog.text


def test_a_staff_login_links_nothing(client, db_session, tenant, oidc_provider, services):
    number = national_number("850730", 35)
    with services():
        set_tenant(db_session, tenant.id)
        desk = create_desk_profile(db_session, tenant, {"name": "Sam Staff"}, instance_secret=SECRET,
                                   national_number_raw=number, actor=Actor("medewerker", "balie"), at=AT)
    grant_role(db_session, oidc_provider, "mijn-staff", "onthaal")
    db_session.commit()
    login_as(client, oidc_provider, "mijn-staff", tenant=tenant.slug, claims={"rrn": number})
    db_session.expire_all()
    set_tenant(db_session, tenant.id)
    assert db_session.get(Profile, desk.id).account_id is None


def test_a_receipt_is_only_for_its_owner(app, client, db_session, tenant, oidc_provider):
    login_as(client, oidc_provider, "mijn-bon")
    path = f"/mijn/{tenant.slug}/toestemmingen"
    assert client.post(path, data={"csrf_token": token(client, path), "doel": "contact_email",
                                   "beslissing": "geven"}).status_code == 303
    set_tenant(db_session, tenant.id)
    receipt_id = db_session.scalar(select(ConsentRecord.receipt_id))
    mine = client.get(f"{path}/{receipt_id}.json")
    assert mine.status_code == 200 and mine.json["consentReceiptID"] == receipt_id
    assert mine.headers["Content-Disposition"].startswith("attachment;")
    assert mine.headers["Cache-Control"] == "no-store"

    other = app.test_client()
    login_as(other, oidc_provider, "mijn-bon-ander")
    other.post(path, data={"csrf_token": token(other, path), "doel": "contact_email", "beslissing": "geven"})
    assert other.get(f"{path}/{receipt_id}.json").status_code == 404
    assert client.get(f"{path}/onbestaand.json").status_code == 404


def test_a_case_filed_at_the_desk_opens_for_the_resident_whose_profile_it_is(
        app, client, db_session, tenant, oidc_provider):
    login_as(client, oidc_provider, "mijn-desk", claims={"name": "Dirk"})
    dirk = account_of(db_session, "mijn-desk")
    profile = resident_with_profile(app, db_session, tenant, dirk, name="Dirk Desk")
    with app.test_request_context():
        desk_case = submit_case(db_session, tenant, IntakeRequest(
            type_code="vraag", description="Aan de balie gesteld", profile_id=profile.id),
            channel="balie", actor="onthaal", at=AT).case
    db_session.commit()
    dossier = f"/{tenant.slug}/opvolging/dossier/{desk_case.reference}"

    overview = client.get("/mijn/").text
    assert f'href="{dossier}"' in overview
    assert client.get(dossier).status_code == 200

    stranger = app.test_client()
    login_as(stranger, oidc_provider, "mijn-vreemde")
    assert stranger.get(dossier).status_code == 404
