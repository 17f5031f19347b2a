"""Erasure requests: the resident asks for consent purposes, the municipality's admin carries them out
(core fields emptied, consent withdrawn, plugins erase) or refuses with a reason; nothing across municipalities."""

import html
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.cases.intake import IntakeRequest, submit_case
from core.identity.models import Account
from core.identity.staff import grant_role
from core.profiles import erasure
from core.profiles.models import ConsentRecord, ErasureRequest, Profile
from core.profiles.purposes import allows
from core.profiles.service import Actor, ensure_profile, record_consent
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department
from core.testing.fixtures import login_as
from core.toolkit import Manifest, hookimpl
from plugins.grofvuil.models import Reservation
from plugins.grofvuil.service import plan_round

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHOICES = ("contact_email", "contact_telefoon", "ondersteuning", "grofvuil_historiek")


@pytest.fixture
def town(app, db_session, make_tenant, clock):
    clock.at = AT
    tenant = make_tenant("gemeente-a", name="Gemeente A", plugins={"grofvuil": {}})
    set_tenant(db_session, tenant.id)
    db_session.add(Department(code="milieu", name="Milieu"))
    db_session.flush()
    return tenant


@pytest.fixture
def town_b(make_tenant, db_session, oidc_provider):
    tenant = make_tenant("gemeente-b", name="Gemeente B", plugins={"grofvuil": {}})
    set_tenant(db_session, tenant.id)
    grant_role(db_session, oidc_provider, "b-beheerder", "beheerder")
    db_session.flush()
    return tenant


def person(app, db_session, tenant, subject):
    """A resident's profile with every consent given, contact details and assistance needs."""
    set_tenant(db_session, tenant.id)
    account = db_session.scalar(select(Account).where(Account.subject == subject))
    if account is None:
        account = Account(issuer="https://test-issuer", subject=subject, name=subject)
        db_session.add(account)
        db_session.flush()
    profile = ensure_profile(db_session, account, AT)
    profile.name, profile.email, profile.phone, profile.assistance_needs = (
        subject, f"{subject}@example.be", "+32 470 12 34 56", "Slechthorend")
    with app.test_request_context():
        for code in CHOICES:
            record_consent(db_session, tenant, profile, code, True, actor=Actor.resident(), language="nl", at=AT)
    db_session.flush()
    return profile


def pickup(app, db_session, tenant, profile, collection_round):
    """A grofvuil request of ``profile`` with a place reserved in ``collection_round``."""
    set_tenant(db_session, tenant.id)
    with app.test_request_context():
        case = submit_case(db_session, tenant, IntakeRequest(
            type_code="grofvuil", description="Een oude zetel", data={"zone": "Zaffelare", "stuks": 1},
            profile_id=profile.id), channel="balie", actor="medewerker", at=AT).case
    reservation = Reservation(round_id=collection_round.id, case_id=case.id, created_at=AT)
    db_session.add(reservation)
    db_session.flush()
    return reservation


@pytest.fixture
def rounds(db_session, town):
    set_tenant(db_session, town.id)
    past = plan_round(db_session, "Zaffelare", date.today() - timedelta(days=10), capacity=10)
    coming = plan_round(db_session, "Zaffelare", date.today() + timedelta(days=10), capacity=10)
    return past, coming


@pytest.fixture
def resident(app, client, oidc_provider, db_session, town):
    """An logged in with a profile in municipality A."""
    assert login_as(client, oidc_provider, "inwoner-an").status_code == 302
    return person(app, db_session, town, "inwoner-an")


@pytest.fixture
def admin(app, db_session, oidc_provider, town):
    """A second browser, logged in as municipality A's admin; returns (browser, staff id)."""
    browser = app.test_client()
    set_tenant(db_session, town.id)
    staff_id = grant_role(db_session, oidc_provider, "a-beheerder", "beheerder").staff_id
    db_session.flush()
    assert login_as(browser, oidc_provider, "a-beheerder", tenant=town.slug).status_code == 302
    return browser, staff_id


def token(browser, path):
    return browser.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def ask(client, tenant, *purposes):
    path = f"/mijn/{tenant.slug}/wissen"
    return client.post(path, data={"csrf_token": token(client, path), "doel": list(purposes)})


def handle(browser, tenant, request_id, **form):
    return browser.post(f"/{tenant.slug}/beheer/wissen/{request_id}",
                        data={"csrf_token": token(browser, f"/{tenant.slug}/beheer/wissen"), **form})


def stored_requests(db_session, tenant):
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    return list(db_session.scalars(select(ErasureRequest).order_by(ErasureRequest.id)))


def test_a_request_reaches_only_its_own_municipalitys_queue(client, db_session, town, town_b, resident, admin,
                                                             oidc_provider, app):
    page = client.get(f"/mijn/{town.slug}/wissen")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Rekening houden met uw noden" in page.text and "Uw vorige grofvuilophalingen" in page.text
    assert 'value="dossierbehandeling"' not in page.text, "a required purpose is not on offer"

    response = ask(client, town, "contact_email", "ondersteuning")
    assert response.status_code == 302
    [request] = stored_requests(db_session, town)
    assert request.purposes == ["contact_email", "ondersteuning"] and request.status == "open"
    assert "In behandeling" in client.get(f"/mijn/{town.slug}/wissen").text

    browser, _staff_id = admin
    queue = browser.get(f"/{town.slug}/beheer/wissen")
    assert queue.status_code == 200 and queue.headers["Cache-Control"] == "no-store"
    assert f"Verzoek {request.id} van inwoner-an" in html.unescape(queue.text)

    other = app.test_client()
    assert login_as(other, oidc_provider, "b-beheerder", tenant=town_b.slug).status_code == 302
    assert "inwoner-an" not in other.get(f"/{town_b.slug}/beheer/wissen").text
    assert handle(other, town_b, request.id, actie="uitvoeren").status_code == 404
    assert other.post(f"/{town.slug}/beheer/wissen/{request.id}",
                      data={"csrf_token": token(other, f"/{town_b.slug}/beheer/wissen"),
                            "actie": "uitvoeren"}).status_code == 404
    assert stored_requests(db_session, town)[0].status == "open"


def test_carrying_out_erases_the_purposes_in_the_core_and_in_grofvuil(app, client, db_session, town, resident, admin,
                                                                      rounds):
    past, coming = rounds
    neighbour = person(app, db_session, town, "inwoner-bert")
    old_pickup, planned_pickup = (pickup(app, db_session, town, resident, past),
                                  pickup(app, db_session, town, resident, coming))
    neighbours_pickup = pickup(app, db_session, town, neighbour, past)
    old_id, planned_id, neighbours_id = old_pickup.id, planned_pickup.id, neighbours_pickup.id
    assert ask(client, town, "contact_email", "ondersteuning", "grofvuil_historiek").status_code == 302
    [request] = stored_requests(db_session, town)

    browser, staff_id = admin
    response = handle(browser, town, request.id, actie="uitvoeren")
    assert response.status_code == 302
    assert "Het verzoek is uitgevoerd" in browser.get(response.headers["Location"]).text

    [request] = stored_requests(db_session, town)
    assert (request.status, request.handled_by_id) == ("uitgevoerd", staff_id)
    profile = db_session.get(Profile, resident.id)
    assert (profile.email, profile.assistance_needs) == ("", "")
    assert profile.phone == "+32 470 12 34 56", "a purpose not asked for keeps its data"
    with app.test_request_context():
        assert not allows(db_session, town, profile, "contact_email")
        assert not allows(db_session, town, profile, "ondersteuning")
        assert allows(db_session, town, profile, "contact_telefoon")
    withdrawn = db_session.scalars(select(ConsentRecord).where(ConsentRecord.profile_id == profile.id,
                                                               ConsentRecord.granted.is_(False))).all()
    assert {(r.purpose_code, r.actor_kind, r.staff_id) for r in withdrawn} == {
        ("contact_email", "medewerker", staff_id), ("ondersteuning", "medewerker", staff_id),
        ("grofvuil_historiek", "medewerker", staff_id)}
    left = set(db_session.scalars(select(Reservation.id)))
    assert old_id not in left, "the past pickup was kept under the withdrawn consent: erased"
    assert planned_id in left, "a planned pickup is still needed for the collection"
    assert neighbours_id in left, "another resident's data is untouched"
    assert db_session.get(Profile, neighbour.id).email == "inwoner-bert@example.be"
    assert "Uitgevoerd" in client.get(f"/mijn/{town.slug}/wissen").text


class BrokenEraser:
    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="kapot", version="0.1.0", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_erase_profile(self, session, tenant, profile, purposes):
        raise RuntimeError("database of the module is down")


def test_a_failing_plugin_leaves_nothing_half_done_and_the_request_open(app, db_session, make_tenant, register_plugin,
                                                                         oidc_provider, caplog):
    register_plugin(BrokenEraser(), "kapot")
    tenant = make_tenant("gemeente-k", plugins={"kapot": {}, "grofvuil": {}})
    set_tenant(db_session, tenant.id)
    db_session.add(Department(code="milieu", name="Milieu"))
    staff_id = grant_role(db_session, oidc_provider, "k-beheerder", "beheerder").staff_id
    profile = person(app, db_session, tenant, "inwoner-kim")
    old_pickup = pickup(app, db_session, tenant, profile,
                        plan_round(db_session, "Zaffelare", date.today() - timedelta(days=3), 5))
    with app.test_request_context():
        request = erasure.request_erasure(db_session, tenant, profile, ["contact_email", "grofvuil_historiek"], AT)
        with pytest.raises(erasure.ErasureError) as failed:
            erasure.carry_out(db_session, tenant, request, staff_id, AT)
        assert allows(db_session, tenant, profile, "contact_email")
    assert "kapot" in str(failed.value)
    assert request.status == "open" and "kapot" in request.explanation
    assert db_session.get(Profile, profile.id).email == "inwoner-kim@example.be"
    assert db_session.get(Reservation, old_pickup.id) is not None, "grofvuil's erasure was rolled back too"
    assert any("kapot" in r.getMessage() for r in caplog.records)


def test_a_refusal_needs_an_explanation(client, db_session, town, resident, admin):
    assert ask(client, town, "contact_telefoon").status_code == 302
    [request] = stored_requests(db_session, town)
    browser, _staff_id = admin

    response = handle(browser, town, request.id, actie="weigeren", uitleg="   ")
    assert response.status_code == 400
    assert "Leg uit waarom het verzoek geweigerd wordt" in html.unescape(response.text)
    assert stored_requests(db_session, town)[0].status == "open"
    assert handle(browser, town, request.id, actie="iets").status_code == 400
    assert stored_requests(db_session, town)[0].status == "open"

    reason = "Uw telefoonnummer is nodig voor de lopende herstelling aan uw woning."
    assert handle(browser, town, request.id, actie="weigeren", uitleg=reason).status_code == 302
    assert stored_requests(db_session, town)[0].status == "geweigerd"
    profile = db_session.get(Profile, resident.id)
    assert profile.phone == "+32 470 12 34 56"
    page = client.get(f"/mijn/{town.slug}/wissen").text
    assert "Geweigerd" in page and reason in html.unescape(page)
    assert handle(browser, town, request.id, actie="uitvoeren").status_code == 400, "a handled request stays handled"


@pytest.mark.parametrize(("purposes", "message"), [
    ((), "Kies minstens één doel"),
    (("dossierbehandeling",), "‘Uw meldingen en vragen behandelen’ kunt u niet laten wissen: Verplicht, omdat"),
    (("bestaat_niet",), "Dit doel bestaat niet bij gemeente Gemeente A."),
    (("contact_email", "bestaat_niet"), "Dit doel bestaat niet"),
])
def test_a_bad_request_is_refused_and_nothing_is_stored(client, db_session, town, resident, purposes, message):
    response = ask(client, town, *purposes)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert stored_requests(db_session, town) == []


def test_one_open_request_at_a_time(client, db_session, town, resident):
    assert ask(client, town, "contact_email").status_code == 302
    response = ask(client, town, "ondersteuning")
    assert response.status_code == 400
    assert "U hebt al een verzoek dat de gemeente nog behandelt" in response.text
    assert len(stored_requests(db_session, town)) == 1


def test_staff_without_beheer_are_refused_and_strangers_must_log_in(app, client, db_session, oidc_provider, town):
    set_tenant(db_session, town.id)
    profile = person(app, db_session, town, "inwoner-cas")
    db_session.add(ErasureRequest(profile_id=profile.id, purposes=["contact_email"], created_at=AT))
    grant_role(db_session, oidc_provider, "a-onthaal", "onthaal")
    db_session.flush()
    [request] = stored_requests(db_session, town)

    anonymous = app.test_client()
    assert "/login" in anonymous.get(f"/mijn/{town.slug}/wissen").headers["Location"]
    assert f"/{town.slug}/login" in anonymous.get(f"/{town.slug}/beheer/wissen").headers["Location"]

    assert login_as(client, oidc_provider, "a-onthaal", tenant=town.slug).status_code == 302
    assert client.get(f"/{town.slug}/beheer/wissen").status_code == 403
    assert client.post(f"/{town.slug}/beheer/wissen/{request.id}",
                       data={"csrf_token": token(client, "/"), "actie": "uitvoeren"}).status_code == 403
    assert stored_requests(db_session, town)[0].status == "open"


def test_a_resident_without_a_profile_in_that_municipality_gets_404(client, oidc_provider, town, town_b, resident):
    assert client.get(f"/mijn/{town_b.slug}/wissen").status_code == 404
