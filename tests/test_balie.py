"""The front office: finding a person, opening the 360° view only with a reason (one access-log row the
resident sees), consent hiding what it does not allow, contact moments, acting on the resident's behalf,
letters for offline residents, and nothing across municipalities or roles."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.cases import handling
from core.cases.intake import IntakeRequest, submit_case
from core.cases.models import Case
from core.contact.models import ContactMoment
from core.identity.models import Account
from core.identity.staff import grant_role
from core.outbox.models import OutboxMessage
from core.profiles.access_log import entries_for_profile
from core.profiles.models import AccessLogEntry, ConsentRecord, PreferenceChange, Profile
from core.profiles.service import Actor, create_desk_profile, record_consent
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department
from core.testing.fixtures import login_as

NRN = "85073003328"  # a valid national register number (check digits 28)
AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture
def town(db_session, make_tenant, clock):
    clock.at = AT
    tenant = make_tenant("gemeente-a", name="Lochristi")
    set_tenant(db_session, tenant.id)
    db_session.add(Department(code="burgerzaken", name="Burgerzaken"))
    db_session.flush()
    return tenant


def make_staff(db_session, oidc_provider, tenant, subject, role, name=""):
    set_tenant(db_session, tenant.id)
    if role == "behandelaar" and not db_session.scalar(select(Department.id).where(Department.code == "burgerzaken")):
        db_session.add(Department(code="burgerzaken", name="Burgerzaken"))
    granted = grant_role(db_session, oidc_provider, subject, role, "burgerzaken" if role == "behandelaar" else None,
                         name=name)
    db_session.flush()
    return granted.staff_id


def browser(app, oidc_provider, tenant, subject):
    client = app.test_client()
    assert login_as(client, oidc_provider, subject, tenant=tenant.slug).status_code == 302
    return client


@pytest.fixture
def desk(app, db_session, oidc_provider, town, client):
    """Olga, onthaal in municipality A, logged in (``client`` resets the login rate limit)."""
    make_staff(db_session, oidc_provider, town, "a-onthaal", "onthaal", name="Olga Onthaal")
    return browser(app, oidc_provider, town, "a-onthaal")


def make_profile(app, db_session, tenant, *, consents=(), number=None, **details):
    values = {"name": "Gaëlle Désiré", "birth_date": "1985-07-30", "address": "Dorpsstraat 12, 9080 Lochristi",
              "email": "gaelle@example.be", "phone": "+32 9 123 45 67", **details}
    set_tenant(db_session, tenant.id)
    with app.test_request_context():
        profile = create_desk_profile(db_session, tenant, values, instance_secret=app.config["SECRET_KEY"],
                                      national_number_raw=number, actor=Actor("medewerker", "balie"), at=AT)
        for code in consents:
            record_consent(db_session, tenant, profile, code, True, actor=Actor.resident(), language="nl", at=AT)
    db_session.flush()
    return profile


def file_question(app, db_session, tenant, profile, at=AT, description="Wanneer is het containerpark open?"):
    set_tenant(db_session, tenant.id)
    with app.test_request_context():
        case = submit_case(db_session, tenant, IntakeRequest(type_code="vraag", description=description,
                                                             reporter_name=profile.name, profile_id=profile.id),
                           channel="balie", actor="staff:1", at=at).case
    db_session.flush()
    return case


def csrf(client, path):
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def open_profile(client, tenant, profile, reason="balie", **form):
    base = f"/{tenant.slug}/balie/personen/{profile.id}"
    token = csrf(client, f"{base}/openen")
    return client.post(f"{base}/openen", data={"csrf_token": token, "reden": reason, **form})


def access_rows(db_session, tenant, profile):
    set_tenant(db_session, tenant.id)
    return list(db_session.scalars(select(AccessLogEntry).where(AccessLogEntry.profile_id == profile.id)))


def rescope(db_session, tenant):
    """Requests leave the connection's tenant setting behind (PostgreSQL); see what they stored."""
    set_tenant(db_session, tenant.id)
    db_session.expire_all()


def count(db_session, tenant, model, *where):
    rescope(db_session, tenant)
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


# --- Opening with a reason ------------------------------------------------------------------


def test_the_360_view_cannot_be_seen_without_a_reason(app, db_session, town, desk):
    profile = make_profile(app, db_session, town, consents=("contact_email",))
    view = f"/{town.slug}/balie/personen/{profile.id}"

    response = desk.get(view)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{view}/openen")
    form = desk.get(f"{view}/openen")
    assert form.status_code == 200 and "Gaëlle Désiré" in form.text and "1985" in form.text
    assert "gaelle@example.be" not in form.text and "Dorpsstraat" not in form.text
    assert access_rows(db_session, town, profile) == []

    for bad, message in (({"reden": ""}, "Kies waarom u dit profiel opent."),
                         ({"reden": "andere", "andere": "  "}, "Beschrijf de reden."),
                         ({"reden": "andere", "andere": "x" * 201}, "Hoogstens 200 tekens."),
                         ({"reden": "zaak", "referentie": "XX-2026-00001"}, "Geef de referentie van een zaak")):
        refused = desk.post(f"{view}/openen", data={"csrf_token": csrf(desk, f"{view}/openen"), **bad})
        assert refused.status_code == 400 and message in refused.text
        assert "gaelle@example.be" not in refused.text
    assert access_rows(db_session, town, profile) == []
    assert desk.get(view).status_code == 302  # still closed


def test_opening_with_a_reason_writes_one_row_the_resident_sees(app, db_session, oidc_provider, town, desk, clock):
    resident = app.test_client()
    assert login_as(resident, oidc_provider, "inwoner-gaelle").status_code == 302
    set_tenant(db_session, None)
    account = db_session.scalar(select(Account).where(Account.subject == "inwoner-gaelle"))
    profile = make_profile(app, db_session, town, consents=("contact_email",))
    profile.account_id = account.id
    db_session.flush()
    case = file_question(app, db_session, town, profile)
    view = f"/{town.slug}/balie/personen/{profile.id}"

    opened = open_profile(desk, town, profile, "zaak", referentie=case.reference.lower())
    assert opened.status_code == 303 and opened.headers["Location"].endswith(view)
    page = desk.get(view)
    assert page.status_code == 200 and "gaelle@example.be" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert desk.get(view).status_code == 200  # a reload within the window is the same opening
    rows = access_rows(db_session, town, profile)
    assert len(rows) == 1
    row = rows[0]
    assert row.actor_kind == "medewerker" and row.actor_label == "Olga Onthaal (onthaal)"
    assert row.reason == f"behandeling van zaak {case.reference}"
    assert {"name", "address", "email", "toestemmingen", "meldingen", "contactmomenten"} <= set(row.shown)
    assert "assistance_needs" not in row.shown  # no consent for ondersteuning: not shown, not logged as shown
    assert [e.id for e in entries_for_profile(db_session, profile.id)] == [row.id]

    mine = resident.get(f"/mijn/{town.slug}/toegang")
    assert mine.status_code == 200
    assert "Olga Onthaal (onthaal)" in mine.text and f"behandeling van zaak {case.reference}" in mine.text

    clock.advance(minutes=20)
    assert desk.get(view).status_code == 200  # still the same opening (and the login stays active)
    clock.advance(minutes=11)  # the opening has expired: a new reason is needed (and a new row)
    assert desk.get(view).status_code == 302
    assert open_profile(desk, town, profile, "andere", andere="Terugbelverzoek").status_code == 303
    assert [r.reason for r in access_rows(db_session, town, profile)] == [
        f"behandeling van zaak {case.reference}", "andere: Terugbelverzoek"]


def test_an_opening_belongs_to_the_staff_member_who_gave_the_reason(app, db_session, oidc_provider, town, desk):
    profile = make_profile(app, db_session, town)
    assert open_profile(desk, town, profile).status_code == 303
    make_staff(db_session, oidc_provider, town, "a-beheerder", "beheerder", name="Bea Beheer")
    colleague = browser(app, oidc_provider, town, "a-beheerder")
    assert colleague.get(f"/{town.slug}/balie/personen/{profile.id}").status_code == 302


# --- Consent decides what is shown ------------------------------------------------------------


def test_a_consent_withdrawal_hides_the_section_on_the_next_load(app, db_session, town, desk):
    profile = make_profile(app, db_session, town, consents=("contact_email", "ondersteuning"),
                           assistance_needs="Slechthorend: spreek traag en duidelijk")
    view = f"/{town.slug}/balie/personen/{profile.id}"
    open_profile(desk, town, profile)
    page = desk.get(view).text
    assert "gaelle@example.be" in page and "Slechthorend: spreek traag en duidelijk" in page
    assert "Verborgen: geen toestemming voor U contacteren per e-mail" not in page

    withdrawn = desk.post(f"{view}/toestemming", data={"csrf_token": csrf(desk, view), "doel": "contact_email",
                                                        "beslissing": "intrekken", "kanaal": "telefoon"})
    assert withdrawn.status_code == 303
    page = desk.get(view).text
    assert "gaelle@example.be" not in page
    assert "Verborgen: geen toestemming voor U contacteren per e-mail" in page
    rescope(db_session, town)
    record = db_session.scalars(select(ConsentRecord).where(ConsentRecord.profile_id == profile.id)
                                .order_by(ConsentRecord.id.desc())).first()
    assert (record.granted, record.actor_kind, record.channel) == (False, "medewerker", "telefoon")
    assert record.staff_id is not None

    set_tenant(db_session, town.id)
    with app.test_request_context():
        record_consent(db_session, town, profile, "ondersteuning", False, actor=Actor.resident(), language="nl",
                       at=AT + timedelta(minutes=1))
    db_session.flush()
    page = desk.get(view).text
    assert "Slechthorend" not in page
    assert "Verborgen: geen toestemming voor Rekening houden met uw noden" in page


def test_refused_consent_changes_store_nothing(app, db_session, town, desk):
    profile = make_profile(app, db_session, town)
    view = f"/{town.slug}/balie/personen/{profile.id}"
    open_profile(desk, town, profile)
    for bad, message in (({"doel": "dossierbehandeling", "beslissing": "intrekken", "kanaal": "balie"}, "Verplicht"),
                         ({"doel": "contact_email", "beslissing": "", "kanaal": "balie"}, "Kies of de inwoner"),
                         ({"doel": "contact_email", "beslissing": "geven", "kanaal": "fax"}, "Kies langs welk kanaal"),
                         ({"doel": "onbekend", "beslissing": "geven", "kanaal": "balie"}, "Dit doel bestaat niet")):
        refused = desk.post(f"{view}/toestemming", data={"csrf_token": csrf(desk, view), **bad})
        assert refused.status_code == 400 and message in refused.text
    assert count(db_session, town, ConsentRecord, ConsentRecord.profile_id == profile.id) == 0


# --- Search -----------------------------------------------------------------------------------


def test_search_finds_people_by_each_criterion_and_shows_no_details(app, db_session, town, desk):
    gaelle = make_profile(app, db_session, town, number=NRN)
    other = make_profile(app, db_session, town, name="Jan Peeters", birth_date="1950-01-02", address="Kerkstraat 3",
                         email="jan@example.be", phone="")
    case = file_question(app, db_session, town, other)
    base = f"/{town.slug}/balie/"

    def found(**criteria):
        page = desk.post(base, data={"csrf_token": csrf(desk, base), **criteria})
        assert page.status_code == 200, page.text
        return [int(i) for i in re.findall(r"/balie/personen/(\d+)/openen", page.text)]

    assert desk.get(base).status_code == 200
    assert found(naam="gaelle  DESIRE", geboortedatum="1985-07-30") == [gaelle.id]
    assert found(naam="Gaëlle Désiré", geboortedatum="1985-07-31") == []
    assert found(adres="DORPSSTRAAT") == [gaelle.id]
    assert found(email="Gaelle@Example.be") == [gaelle.id]
    assert found(telefoon="09/123.45.67") == [gaelle.id]
    assert found(telefoon="0032 9 123 45 67") == [gaelle.id]
    assert found(referentie=case.reference.lower()) == [other.id]
    page = desk.post(base, data={"csrf_token": csrf(desk, base), "adres": "straat"})
    assert "Dorpsstraat" not in page.text and "gaelle@example.be" not in page.text  # name, birth year, id only
    assert "Gaëlle Désiré" in page.text and "1985" in page.text

    by_number = desk.post(f"{base}rijksregisternummer",
                          data={"csrf_token": csrf(desk, base), "rijksregisternummer": "85.07.30-033.28"})
    assert by_number.status_code == 200
    assert [int(i) for i in re.findall(r"/balie/personen/(\d+)/openen", by_number.text)] == [gaelle.id]
    assert NRN not in by_number.text and "85.07.30-033.28" not in by_number.text
    assert NRN not in str(db_session.scalar(select(Profile.national_number_hash).where(Profile.id == gaelle.id)))


def test_search_with_bad_input_says_what_to_fix(app, db_session, town, desk):
    base = f"/{town.slug}/balie/"
    for criteria, message in (({"naam": "", "adres": ""}, "Vul minstens één zoekveld in."),
                              ({"adres": "x" * 201}, "hoogstens 200 tekens"),
                              ({"naam": "Jan"}, "samen met de geboortedatum"),
                              ({"naam": "Jan", "geboortedatum": "30-07-1985"}, "jjjj-mm-dd"),
                              ({"adres": "ab"}, "minstens 3 tekens")):
        page = desk.post(base, data={"csrf_token": csrf(desk, base), **criteria})
        assert page.status_code == 400 and message in page.text, criteria
    for number, message in (("", "Geef een rijksregisternummer."), ("85073003329", "niet geldig"),
                            ("1" * 201, "hoogstens 200 tekens")):
        page = desk.post(f"{base}rijksregisternummer", data={"csrf_token": csrf(desk, base),
                                                              "rijksregisternummer": number})
        assert page.status_code == 400 and message in page.text
        if number:
            assert number not in page.text


def test_the_national_number_search_is_a_post_with_csrf(app, db_session, town, desk):
    base = f"/{town.slug}/balie/"
    person = make_profile(app, db_session, town, number=NRN)
    # Every search is a POST: what identifies a person stays out of URLs and access logs.
    by_query = desk.get(base, query_string={"naam": "Gaëlle Désiré", "geboortedatum": "1985-07-30"})
    assert by_query.status_code == 200 and f"/balie/personen/{person.id}/openen" not in by_query.text
    assert desk.post(base, data={"adres": "Dorpsstraat"}).status_code in (400, 403)
    assert desk.get(f"{base}rijksregisternummer").status_code == 405
    assert desk.post(f"{base}rijksregisternummer", data={"rijksregisternummer": NRN}).status_code in (400, 403)


# --- A new profile ------------------------------------------------------------------------------


def test_a_new_profile_for_someone_without_an_account(app, db_session, town, desk):
    url = f"/{town.slug}/balie/personen/nieuw"
    form = {"kanaal": "telefoon", "naam": "Marcel Offline", "geboortedatum": "1941-03-04",
            "adres": "Molenstraat 1, 9080 Lochristi", "rijksregisternummer": NRN, "toestemming_ondersteuning": "1",
            "ondersteuning": "Slechtziend"}
    refused = desk.post(url, data={"csrf_token": csrf(desk, url), **form, "rijksregisternummer": "12345678901"})
    assert refused.status_code == 400 and "Dit rijksregisternummer is niet geldig." in refused.text
    assert "12345678901" not in refused.text
    refused = desk.post(url, data={"csrf_token": csrf(desk, url), **form, "kanaal": "web"})
    assert refused.status_code == 400 and "Kies of de inwoner aan de balie staat of belt." in refused.text
    assert count(db_session, town, Profile) == 0

    created = desk.post(url, data={"csrf_token": csrf(desk, url), **form})
    assert created.status_code == 303
    rescope(db_session, town)
    profile = db_session.scalar(select(Profile))
    assert profile.account_id is None and profile.created_by == "medewerker" and profile.national_number_hash
    page = desk.get(created.headers["Location"])
    assert page.status_code == 200 and "Slechtziend" in page.text and "aan de telefoon" in page.text
    assert [r.reason for r in access_rows(db_session, town, profile)] == ["aan de telefoon"]


# --- Contact moments, preferences, on behalf -----------------------------------------------------


def test_contact_moments_are_checked_and_shown_in_the_timeline(app, db_session, town, desk):
    profile = make_profile(app, db_session, town)
    mine = file_question(app, db_session, town, profile)
    other = file_question(app, db_session, town, make_profile(app, db_session, town, name="Iemand Anders"))
    view = f"/{town.slug}/balie/personen/{profile.id}"
    open_profile(desk, town, profile, "telefoon")
    good = {"kanaal": "telefoon", "onderwerp": "Vraag over het containerpark", "samenvatting": "Uren doorgegeven.",
            "zaak": mine.reference, "uitkomst": "beantwoord"}
    for bad, message in (({"onderwerp": " "}, "Geef het onderwerp van het contact."),
                         ({"onderwerp": "x" * 201}, "hoogstens 200 tekens"),
                         ({"samenvatting": "x" * 4001}, "hoogstens 4000 tekens"),
                         ({"kanaal": "fax"}, "Kies het kanaal van het contact."),
                         ({"uitkomst": "misschien"}, "Kies de uitkomst van het contact."),
                         ({"zaak": other.reference}, f"{other.reference} is geen zaak van deze persoon.")):
        refused = desk.post(f"{view}/contact", data={"csrf_token": csrf(desk, view), **good, **bad})
        assert refused.status_code == 400 and message in refused.text, bad
    assert count(db_session, town, ContactMoment) == 0

    assert desk.post(f"{view}/contact", data={"csrf_token": csrf(desk, view), **good}).status_code == 303
    rescope(db_session, town)
    moment = db_session.scalar(select(ContactMoment))
    assert (moment.case_id, moment.channel, moment.outcome) == (mine.id, "telefoon", "beantwoord")
    page = desk.get(view).text
    assert "Vraag over het containerpark" in page and "Uren doorgegeven." in page and "Olga Onthaal" in page


def test_preferences_changed_on_behalf_are_recorded_as_such_and_the_language_is_refused(app, db_session, town,
                                                                                         desk):
    profile = make_profile(app, db_session, town)
    view = f"/{town.slug}/balie/personen/{profile.id}"
    open_profile(desk, town, profile)
    before = count(db_session, town, PreferenceChange)
    refused = desk.post(f"{view}/voorkeuren", data={"csrf_token": csrf(desk, view), "language": "fr",
                                                    "address": "Nieuwstraat 1", "kanaal": "balie"})
    assert refused.status_code == 400
    assert "Alleen de inwoner zelf kiest de taal van de contacten (taalwetgeving)." in refused.text
    refused = desk.post(f"{view}/voorkeuren", data={"csrf_token": csrf(desk, view), "address": "Nieuwstraat 1",
                                                    "no_digital_contact_getoond": "1", "no_digital_contact": "1",
                                                    "preferred_channel": "e-mail", "kanaal": "balie"})
    assert refused.status_code == 400 and "Wie geen digitaal contact wil" in refused.text
    rescope(db_session, town)
    assert db_session.get(Profile, profile.id).address.startswith("Dorpsstraat")
    assert count(db_session, town, PreferenceChange) == before

    changed = desk.post(f"{view}/voorkeuren", data={"csrf_token": csrf(desk, view), "address": "Nieuwstraat 1",
                                                    "no_digital_contact_getoond": "1", "no_digital_contact": "1",
                                                    "preferred_channel": "brief", "language": "nl",
                                                    "kanaal": "balie"})
    assert changed.status_code == 303
    rescope(db_session, town)
    fresh = db_session.get(Profile, profile.id)
    assert (fresh.address, fresh.no_digital_contact, fresh.preferred_channel) == ("Nieuwstraat 1", True, "brief")
    change = db_session.scalars(select(PreferenceChange).order_by(PreferenceChange.id.desc())).first()
    assert change.actor_kind == "medewerker" and change.staff_id is not None and change.channel == "balie"
    assert set(change.fields) == {"address", "no_digital_contact", "preferred_channel"}
    page = desk.get(view).text
    assert "Geen digitaal contact." in page and "door een medewerker namens de inwoner" in page


def test_an_offline_residents_answer_is_a_letter_in_the_print_queue_and_no_email(app, db_session, oidc_provider,
                                                                                 town, desk, runner):
    url = f"/{town.slug}/balie/personen/nieuw"
    created = desk.post(url, data={
        "csrf_token": csrf(desk, url), "kanaal": "balie", "naam": "Marcel Offline", "adres": "Molenstraat 1\n9080 "
        "Lochristi", "email": "marcel@example.be", "geen_digitaal_contact": "1", "voorkeur": "brief",
        "toestemming_contact_email": "1"})  # even with e-mail consent: no digital contact wins
    assert created.status_code == 303
    view = created.headers["Location"]
    rescope(db_session, town)
    profile = db_session.scalar(select(Profile).where(Profile.name == "Marcel Offline"))

    form_url = f"{view}/melding"
    assert desk.get(form_url, query_string={"soort": "vraag"}).status_code == 200
    refused = desk.post(form_url, data={"csrf_token": csrf(desk, form_url), "soort": "vraag", "kanaal": "web",
                                        "beschrijving": ""})
    assert refused.status_code == 400 and "Kies langs welk kanaal" in refused.text
    assert "Beschrijf wat er aan de hand is." in refused.text
    assert count(db_session, town, Case) == 0
    filed = desk.post(form_url, data={"csrf_token": csrf(desk, form_url), "soort": "vraag", "kanaal": "balie",
                                      "beschrijving": "Hoe vraag ik een parkeerkaart aan?"})
    assert filed.status_code == 303
    set_tenant(db_session, town.id)
    case = db_session.scalar(select(Case))
    assert (case.profile_id, case.channel, case.kind) == (profile.id, "balie", "vraag")
    moment = db_session.scalar(select(ContactMoment))
    assert (moment.case_id, moment.outcome, moment.channel) == (case.id, "melding_aangemaakt", "balie")
    assert case.reference in desk.get(view).text

    make_staff(db_session, oidc_provider, town, "a-behandelaar", "behandelaar")
    with app.test_request_context():
        handling.message_resident(db_session, town, case, "U vraagt de kaart aan met het formulier in bijlage.",
                                  actor="staff:2", at=AT)
    db_session.flush()
    messages = list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)))
    assert {m.channel for m in messages} == {"brief"} and len(messages) == 2  # confirmation and answer
    assert all("Molenstraat 1" in m.recipient for m in messages)

    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    rescope(db_session, town)
    assert {m.status for m in db_session.scalars(select(OutboxMessage))} == {"sent"}
    assert count(db_session, town, OutboxMessage, OutboxMessage.channel == "e-mail") == 0
    reference = case.reference
    queue = desk.get(f"/{town.slug}/balie/afdrukken")
    assert queue.status_code == 200
    assert f"Bericht over {reference}" in queue.text and "Marcel Offline" in queue.text


# --- The timeline: keyset pages, a constant number of queries -------------------------------------


def add_history(db_session, tenant, profile, moments, start=AT):
    set_tenant(db_session, tenant.id)
    for index in range(moments):
        db_session.add(ContactMoment(profile_id=profile.id, channel="telefoon", topic=f"Gesprek {index:02d}",
                                     summary="", outcome="beantwoord", created_at=start - timedelta(hours=index)))
    db_session.flush()


def test_the_timeline_pages_newest_first(app, db_session, town, desk):
    profile = make_profile(app, db_session, town)
    add_history(db_session, town, profile, 29)  # with the profile's creation: 30 items
    view = f"/{town.slug}/balie/personen/{profile.id}"
    open_profile(desk, town, profile)
    first = desk.get(view)
    assert "Gegevens gewijzigd" in first.text  # the profile's creation, at the same time as Gesprek 00
    assert re.findall(r"Gesprek (\d\d)", first.text) == [f"{i:02d}" for i in range(24)]
    older = re.search(r'href="([^"]+)" rel="next">Oudere', first.text).group(1).replace("&amp;", "&")
    second = desk.get(older)
    assert re.findall(r"Gesprek (\d\d)", second.text) == ["24", "25", "26", "27", "28"]
    assert "Gegevens gewijzigd" not in second.text and 'rel="next"' not in second.text
    assert desk.get(view, query_string={"tot": "gisteren"}).status_code == 400


def test_the_360_view_runs_the_same_number_of_queries_whatever_the_history(app, db_session, town, desk,
                                                                         query_counter):
    small = make_profile(app, db_session, town, name="Klein Dossier")
    large = make_profile(app, db_session, town, name="Groot Dossier")
    for profile, extra in ((small, 1), (large, 40)):
        for index in range(extra):
            file_question(app, db_session, town, profile, at=AT - timedelta(days=index + 1))
        add_history(db_session, town, profile, 1 if profile is small else 18)
    for profile in (small, large):
        open_profile(desk, town, profile)
        desk.get(f"/{town.slug}/balie/personen/{profile.id}")  # warm the caches a running worker has
    counts = {}
    for profile in (small, large):
        with query_counter as counted:
            page = desk.get(f"/{town.slug}/balie/personen/{profile.id}")
        assert page.status_code == 200
        counts[profile.name] = counted.count
    items = {p.name: len(re.findall(r"<li>\s*<time", desk.get(f"/{town.slug}/balie/personen/{p.id}").text))
             for p in (small, large)}
    assert items == {"Klein Dossier": 3, "Groot Dossier": 25}  # 60 in all, a page of 25
    assert counts["Klein Dossier"] == counts["Groot Dossier"], counts


# --- Roles and municipalities ---------------------------------------------------------------------


def routes(slug, profile_id):
    base = f"/{slug}/balie"
    person = f"{base}/personen/{profile_id}"
    return [("GET", f"{base}/"), ("POST", f"{base}/rijksregisternummer"), ("GET", f"{base}/personen/nieuw"),
            ("POST", f"{base}/personen/nieuw"), ("GET", f"{person}/openen"), ("POST", f"{person}/openen"),
            ("GET", person), ("POST", f"{person}/contact"), ("POST", f"{person}/voorkeuren"),
            ("POST", f"{person}/toestemming"), ("GET", f"{person}/melding"), ("POST", f"{person}/melding")]


def test_every_balie_route_refuses_other_municipalities_wrong_roles_and_visitors(app, db_session, oidc_provider,
                                                                              town, other_tenant, client, desk):
    profile = make_profile(app, db_session, town)
    theirs = make_profile(app, db_session, other_tenant, name="Van Elders")
    make_staff(db_session, oidc_provider, other_tenant, "b-onthaal", "onthaal")
    elsewhere = browser(app, oidc_provider, other_tenant, "b-onthaal")
    make_staff(db_session, oidc_provider, town, "a-behandelaar", "behandelaar")
    handler = browser(app, oidc_provider, town, "a-behandelaar")
    token_b, token_h, token_a = csrf(elsewhere, "/"), csrf(handler, "/"), csrf(desk, "/")
    assert open_profile(desk, town, profile).status_code == 303
    for method, url in routes(town.slug, profile.id):
        assert elsewhere.open(url, method=method, data={"csrf_token": token_b}).status_code == 404, url
        assert handler.open(url, method=method, data={"csrf_token": token_h}).status_code == 403, url
        anonymous = client.open(url, method=method)
        assert anonymous.status_code in (302, 400), url
        if method == "GET":
            assert "/login" in anonymous.headers["Location"], url
    for method, url in routes(town.slug, theirs.id):
        if "/personen/" in url and "/nieuw" not in url:  # another municipality's profile does not exist here
            assert desk.open(url, method=method, data={"csrf_token": token_a}).status_code == 404, url
    for method, url in routes(other_tenant.slug, theirs.id):  # their own pages, under their own slug
        assert desk.open(url, method=method, data={"csrf_token": token_a}).status_code == 404, url
    assert access_rows(db_session, other_tenant, theirs) == []


def test_a_profile_without_a_birth_date_or_name_still_opens(app, db_session, town, desk):
    profile = make_profile(app, db_session, town, birth_date="", email="", phone="")
    assert open_profile(desk, town, profile, "post").status_code == 303
    page = desk.get(f"/{town.slug}/balie/personen/{profile.id}")
    assert page.status_code == 200 and "brief/e-mail van de inwoner" in page.text
    assert date(1985, 7, 30).isoformat() not in page.text


def test_demo_residents_are_seeded_once_through_the_real_services(app, db_session, oidc_provider, town, runner):
    from core.contact.demo_data import DESK_RESIDENTS, seed_demo_contacts

    residents = (("inwoner-an", "An Vermeulen"),)
    with app.test_request_context():
        assert seed_demo_contacts(app, [town.slug], residents, oidc_provider) == len(DESK_RESIDENTS) + 1
        assert seed_demo_contacts(app, [town.slug], residents, oidc_provider) == 0  # a second run adds nothing
    rescope(db_session, town)
    profiles = {p.name: p for p in db_session.scalars(select(Profile))}
    assert profiles["An Vermeulen"].account_id is not None
    offline = profiles["Maria Van den Bossche"]
    assert offline.account_id is None and offline.no_digital_contact and "Lochristi" in offline.address
    assert count(db_session, town, ContactMoment) >= 5
    letters = list(db_session.scalars(select(OutboxMessage)))
    assert letters and {m.channel for m in letters} == {"brief"}  # her question's confirmation, on paper


def test_the_access_log_keeps_the_reason_in_one_language_whoever_opens(app, db_session, town, desk):
    profile = make_profile(app, db_session, town)
    desk.set_cookie("taal", "fr")
    refused = open_profile(desk, town, profile, "andere", andere="")
    assert refused.status_code == 400 and "Décrivez le motif." in refused.text  # errors in her language
    assert open_profile(desk, town, profile, "telefoon").status_code == 303
    assert [row.reason for row in access_rows(db_session, town, profile)] == ["aan de telefoon"]
