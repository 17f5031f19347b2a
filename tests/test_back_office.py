"""The case handlers' back office and staff filing a case for a resident: the queue (filters, keyset pages,
a constant number of queries), the case page and its actions, merging, and nothing across municipalities."""

import html
import io
import re
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.cases import handling
from core.cases.intake import IntakeRequest, submit_case
from core.cases.models import Case, CaseEvent
from core.identity.staff import grant_role
from core.outbox.models import OutboxMessage
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department
from core.testing.fixtures import login_as

AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # 11:00 in Brussels
INSIDE = (51.10, 3.82)
REFERENCE = re.compile(r">([A-Z]{2}-\d{4}-\d{5})</a></td>")


@pytest.fixture
def town(app, db_session, make_tenant, clock):
    """Municipality A with the public-space reports and three departments; the clock is two weeks on."""
    clock.at = datetime(2026, 12, 12, 9, 0, tzinfo=UTC)
    tenant = make_tenant("gemeente-a", plugins={"openbare_ruimte": {}})
    set_tenant(db_session, tenant.id)
    for code, name in (("milieu", "Milieu"), ("openbare_werken", "Openbare werken"), ("burgerzaken", "Burgerzaken")):
        db_session.add(Department(code=code, name=name))
    db_session.flush()
    return tenant


def file_case(app, db_session, tenant, at=AT, **fields):
    values = {"type_code": "zwerfvuil", "description": "Blikjes langs de Dorpsstraat", "lat": INSIDE[0],
              "lon": INSIDE[1], "reporter_email": "an@example.be", "reporter_name": "An Peeters", **fields}
    set_tenant(db_session, tenant.id)
    with app.test_request_context():
        case = submit_case(db_session, tenant, IntakeRequest(**values), channel="web", actor="burger", at=at).case
    db_session.flush()
    return case


def make_staff(db_session, oidc_provider, tenant, subject, role, department=None, name=""):
    set_tenant(db_session, tenant.id)
    granted = grant_role(db_session, oidc_provider, subject, role, department, name=name)
    db_session.flush()
    return granted.staff_id


def log_in(client, oidc_provider, tenant, subject):
    assert login_as(client, oidc_provider, subject, tenant=tenant.slug).status_code == 302


def fresh(db_session, tenant, case):
    """The case as the database has it now (requests run in their own session)."""
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    return db_session.get(Case, case.id)


def events(db_session, tenant, case):
    set_tenant(db_session, tenant.id)
    return list(db_session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def outbox(db_session, tenant, case=None):
    set_tenant(db_session, tenant.id)
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if case is not None:
        query = query.where(OutboxMessage.case_id == case.id)
    return list(db_session.scalars(query))


def token(client, path):
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def references(page):
    return REFERENCE.findall(page.text)


def post(client, tenant, case_reference, action, **form):
    base = f"/{tenant.slug}/behandeling/{case_reference}"
    return client.post(f"{base}/{action}", data={"csrf_token": token(client, f"/{tenant.slug}/behandeling/"), **form})


@pytest.fixture
def handler(client, oidc_provider, db_session, town):
    """Logged in as Mila, behandelaar for Milieu in municipality A; returns her staff id."""
    staff_id = make_staff(db_session, oidc_provider, town, "a-milieu", "behandelaar", "milieu", name="Mila Milieu")
    log_in(client, oidc_provider, town, "a-milieu")
    return staff_id


# --- The queue -----------------------------------------------------------------------------


def test_the_queue_starts_with_the_handlers_departments_and_open_cases(app, client, db_session, town, handler):
    litter = file_case(app, db_session, town)
    road = file_case(app, db_session, town, type_code="wegdek")
    question = file_case(app, db_session, town, type_code="vraag", lat=None, lon=None)
    done = file_case(app, db_session, town, description="Al opgeruimd")
    with app.test_request_context():
        handling.change_state(db_session, town, done, "afgehandeld", actor="staff:1", at=AT, resolution="opgelost")
    db_session.flush()
    base = f"/{town.slug}/behandeling/"

    page = client.get(base)
    assert page.status_code == 200
    assert references(page) == [litter.reference]  # milieu only, open only
    assert "Zwerfvuil" in page.text and "Nieuw" in page.text and "Milieu" in page.text
    assert "28-11-2026, 11:00" in page.text  # created, in Brussels time
    assert "te laat" in page.text  # due 5 December, it is 12 December
    assert references(client.get(base, query_string={"dienst": "alle"})) == [
        question.reference, road.reference, litter.reference]
    assert references(client.get(base, query_string={"dienst": "openbare_werken"})) == [road.reference]
    assert references(client.get(base, query_string={"status": "afgehandeld"})) == [done.reference]
    assert references(client.get(base, query_string={"status": "alle"})) == [done.reference, litter.reference]
    assert references(client.get(base, query_string={"dienst": "alle", "soort": "wegdek"})) == [road.reference]
    assert references(client.get(base, query_string={"dienst": "alle", "zoek": road.reference.lower()})) == [
        road.reference]
    assert references(client.get(base, query_string={"mij": "1"})) == []
    set_tenant(db_session, town.id)  # requests leave the connection's tenant setting behind (PostgreSQL)
    with app.test_request_context():
        handling.assign(db_session, litter, handler, actor="staff:1", at=AT)
    db_session.flush()
    mine = client.get(base, query_string={"mij": "1"})
    assert references(mine) == [litter.reference] and "Mila Milieu" in mine.text
    for bad in ({"status": "weg"}, {"dienst": "nergens"}, {"soort": "onbekend"}, {"na": "abc"}):
        assert client.get(base, query_string=bad).status_code == 400


def test_a_beheerder_sees_every_department_by_default(app, client, db_session, town, oidc_provider):
    litter = file_case(app, db_session, town)
    road = file_case(app, db_session, town, type_code="wegdek")
    make_staff(db_session, oidc_provider, town, "a-baas", "beheerder")
    log_in(client, oidc_provider, town, "a-baas")
    assert references(client.get(f"/{town.slug}/behandeling/")) == [road.reference, litter.reference]


def test_keyset_pages_have_no_duplicates_and_no_gaps(app, client, db_session, town, handler):
    filed = [file_case(app, db_session, town).reference for _ in range(101)]
    seen, pages, url = [], 0, f"/{town.slug}/behandeling/"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += references(page)
        pages += 1
        following = re.search(r'<a href="([^"]+)" rel="next">Volgende</a>', page.text)
        url = html.unescape(following.group(1)) if following else None
    assert pages == 3
    assert seen == list(reversed(filed))  # newest first, each exactly once


def test_the_queue_runs_the_same_number_of_queries_for_2_and_50_cases(app, client, db_session, town, handler,
                                                                      oidc_provider, query_counter):
    colleagues = [handler] + [make_staff(db_session, oidc_provider, town, f"a-collega-{n}", "behandelaar", "milieu",
                                         name=f"Collega {n}") for n in range(3)]

    def add(n):
        for i in range(n):
            case = file_case(app, db_session, town, type_code=("zwerfvuil", "sluikstort")[i % 2],
                             data={"volume": "klein"} if i % 2 else {})
            with app.test_request_context():
                handling.assign(db_session, case, colleagues[i % 4], actor="staff:1", at=AT)
        db_session.flush()

    url = f"/{town.slug}/behandeling/"
    add(2)
    client.get(url)  # warm caches (case types, translations)
    with query_counter as small:
        page = client.get(url)
    assert len(references(page)) == 2
    add(48)
    with query_counter as full:
        page = client.get(url)
    assert len(references(page)) == 50 and "Collega 2" in page.text
    assert full.count == small.count, "\n".join(full.statements)


# --- One case ------------------------------------------------------------------------------


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, format="JPEG")
    return out.getvalue()


def test_the_case_page_shows_everything_a_handler_needs(app, client, db_session, town, handler):
    case = file_case(app, db_session, town, type_code="sluikstort", data={"volume": "middel"}, photos=[jpeg()],
                     reporter_phone="09 123 45 67", address="Dorpsstraat 1")
    twin = file_case(app, db_session, town, type_code="sluikstort", data={"volume": "groot"},
                     lat=INSIDE[0] + 0.0001)
    elsewhere = file_case(app, db_session, town, type_code="sluikstort", data={"volume": "klein"},
                          lat=INSIDE[0] + 0.01)
    with app.test_request_context():
        handling.add_note(db_session, case, "Buurman zegt: al een week", actor=f"staff:{handler}", at=AT)
    db_session.flush()
    page = client.get(f"/{town.slug}/behandeling/{case.reference}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.text
    for expected in ("An Peeters", "an@example.be", "09 123 45 67", "Dorpsstraat 1", "Hoeveel ligt er?",
                     "Enkele zakken", "Sluikstort", "28-11-2026, 11:00", "Buurman zegt: al een week",
                     "intern, niet zichtbaar voor de melder", "Mila Milieu", "te laat"):
        assert expected in text, expected
    photo = fresh(db_session, town, case).attachments[0]
    twin, elsewhere = fresh(db_session, town, twin), fresh(db_session, town, elsewhere)
    assert f'href="/{town.slug}/bijlagen/{photo.id}"' in text
    states = re.search(r'<select id="nieuwe-status".*?</select>', text, re.S).group(0)
    assert re.findall(r'value="(\w+)"', states) == ["in_behandeling", "wacht_op_burger", "afgehandeld",
                                                    "doorverwezen", "geannuleerd"]
    assert twin.reference in text and elsewhere.reference not in text
    assert 'name="richting" value="daarin"' in text and 'name="richting" value="hierin"' in text
    assert "sjabloon=afgehandeld" in text
    prefilled = client.get(f"/{town.slug}/behandeling/{case.reference}", query_string={"sjabloon": "afgehandeld"})
    assert "heeft het probleem opgelost. Bedankt voor uw melding!</textarea>" in prefilled.text
    assert client.get(f"/{town.slug}/bijlagen/{photo.id}").status_code == 200  # staff may open the photo


def test_unknown_references_are_404(client, town, handler):
    assert client.get(f"/{town.slug}/behandeling/ZV-2026-99999").status_code == 404
    assert post(client, town, "ZV-2026-99999", "notitie", notitie="x").status_code == 404


def test_assign_and_release(app, client, db_session, town, handler, oidc_provider):
    case = file_case(app, db_session, town)
    colleague = make_staff(db_session, oidc_provider, town, "a-jan", "behandelaar", "milieu", name="Jan Janssens")
    response = post(client, town, case.reference, "toewijzen", medewerker=str(colleague))
    assert response.status_code == 303 and response.headers["Location"].endswith(case.reference)
    assert fresh(db_session, town, case).assignee_id == colleague
    assert events(db_session, town, case)[-1].kind == "assigned"
    page = client.get(f"/{town.slug}/behandeling/{case.reference}")
    assert "De toewijzing is bewaard." in page.text and "Jan Janssens" in page.text
    assert "Jan Janssens" in client.get(f"/{town.slug}/behandeling/").text
    assert post(client, town, case.reference, "toewijzen", medewerker="").status_code == 303
    assert fresh(db_session, town, case).assignee_id is None


def test_assigning_to_someone_who_is_not_active_staff_is_refused(app, client, db_session, town, handler):
    case = file_case(app, db_session, town)
    before = len(events(db_session, town, case))
    for bad in ("999999", "iemand"):
        response = post(client, town, case.reference, "toewijzen", medewerker=bad)
        assert response.status_code == 400
        assert "Deze medewerker bestaat niet of is niet actief." in response.text
    assert fresh(db_session, town, case).assignee_id is None
    assert len(events(db_session, town, case)) == before


def test_state_changes_are_recorded_and_the_reporter_is_told(app, client, db_session, town, handler):
    case = file_case(app, db_session, town)
    assert len(outbox(db_session, town, case)) == 1  # the confirmation
    response = post(client, town, case.reference, "status", status="in_behandeling", toelichting="Ploeg komt")
    assert response.status_code == 303
    assert fresh(db_session, town, case).status == "in_behandeling"
    last = events(db_session, town, case)[-1]
    assert (last.kind, last.from_status, last.to_status, last.actor) == ("status", "nieuw", "in_behandeling",
                                                                        f"staff:{handler}")
    assert last.visible_to_citizen and last.body == "Ploeg komt"
    told = outbox(db_session, town, case)[-1]
    assert told.channel == "e-mail" and told.recipient == "an@example.be" and "In behandeling" in told.subject

    assert post(client, town, case.reference, "status", status="afgehandeld", resolutie="opgelost").status_code == 303
    closed = fresh(db_session, town, case)
    assert closed.status == "afgehandeld" and closed.resolution == "opgelost" and closed.closed_at is not None
    assert "Opgelost" in outbox(db_session, town, case)[-1].body
    page = client.get(f"/{town.slug}/behandeling/{case.reference}")
    assert "De status is gewijzigd" in page.text
    states = re.search(r'<select id="nieuwe-status".*?</select>', page.text, re.S).group(0)
    assert re.findall(r'value="(\w+)"', states) == ["heropend"]

    assert post(client, town, case.reference, "status", status="heropend").status_code == 303
    assert post(client, town, case.reference, "status", status="doorverwezen",
                doorverwezen_naar="De Vlaamse Waterweg").status_code == 303
    assert fresh(db_session, town, case).referred_to == "De Vlaamse Waterweg"


@pytest.mark.parametrize(("form", "message"), [
    ({"status": "heropend"}, "Een dossier met status ‘Nieuw’ kan niet naar ‘Heropend’."),
    ({"status": "samengevoegd"}, "Samenvoegen doet u met ‘samenvoegen’"),
    ({"status": "vergeten"}, "Onbekende status vergeten."),
    ({"status": ""}, "Kies een nieuwe status."),
    ({"status": "afgehandeld"}, "Kies hoe het dossier is afgehandeld"),
    ({"status": "afgehandeld", "resolutie": "niet_opgelost"}, "Zeg waarom het niet opgelost is"),
    ({"status": "doorverwezen"}, "Zeg naar wie het dossier doorverwezen is."),
    ({"status": "doorverwezen", "doorverwezen_naar": "x" * 201}, "hoogstens 200 tekens"),
])
def test_a_refused_state_change_says_why_and_changes_nothing(app, client, db_session, town, handler, form, message):
    case = file_case(app, db_session, town)
    before = (len(events(db_session, town, case)), len(outbox(db_session, town)))
    response = post(client, town, case.reference, "status", **form)
    assert response.status_code == 400
    assert message in response.text and "Er is niets gewijzigd" in response.text
    unchanged = fresh(db_session, town, case)
    assert (unchanged.status, unchanged.resolution, unchanged.closed_at) == ("nieuw", None, None)
    assert (len(events(db_session, town, case)), len(outbox(db_session, town))) == before


def test_a_message_reaches_the_resident_and_a_note_stays_internal(app, client, db_session, town, handler):
    case = file_case(app, db_session, town)
    assert post(client, town, case.reference, "bericht", bericht="We komen dinsdag kijken.").status_code == 303
    sent = events(db_session, town, case)[-1]
    assert (sent.kind, sent.visible_to_citizen, sent.body) == ("message_to_citizen", True, "We komen dinsdag kijken.")
    mail = outbox(db_session, town, case)[-1]
    assert mail.channel == "e-mail" and "We komen dinsdag kijken." in mail.body and case.reference in mail.subject
    mails = len(outbox(db_session, town))

    assert post(client, town, case.reference, "notitie", notitie="Melder is een buurman").status_code == 303
    noted = events(db_session, town, case)[-1]
    assert (noted.kind, noted.visible_to_citizen, noted.actor) == ("note", False, f"staff:{handler}")
    assert len(outbox(db_session, town)) == mails  # a note tells nobody
    page = client.get(f"/{town.slug}/behandeling/{case.reference}")
    assert "Melder is een buurman" in page.text and "We komen dinsdag kijken." in page.text

    for action, field in (("bericht", "bericht"), ("notitie", "notitie")):
        refused = post(client, town, case.reference, action, **{field: "   "})
        assert refused.status_code == 400 and "Schrijf eerst een tekst." in refused.text
    assert len(events(db_session, town, case)) == 3 and len(outbox(db_session, town)) == mails


def test_merging_a_duplicate_and_telling_its_reporter_when_the_parent_is_resolved(app, client, db_session, town,
                                                                                  handler):
    parent = file_case(app, db_session, town)
    duplicate = file_case(app, db_session, town, lat=INSIDE[0] + 0.0001, reporter_email="bert@example.be",
                          reporter_name="Bert")
    page = client.get(f"/{town.slug}/behandeling/{duplicate.reference}")
    assert parent.reference in page.text
    response = post(client, town, duplicate.reference, "samenvoegen", ander=parent.reference, richting="daarin")
    assert response.status_code == 303
    merged = fresh(db_session, town, duplicate)
    assert merged.status == "samengevoegd" and merged.merged_into_id == parent.id
    assert events(db_session, town, duplicate)[-1].kind == "merged"
    assert events(db_session, town, parent)[-1].kind == "merged_in"
    assert parent.reference in outbox(db_session, town, duplicate)[-1].body
    assert f">{duplicate.reference}</a>" in client.get(f"/{town.slug}/behandeling/{parent.reference}").text
    told = len(outbox(db_session, town, duplicate))

    assert post(client, town, parent.reference, "status", status="afgehandeld", resolutie="opgelost").status_code == 303
    news = outbox(db_session, town, duplicate)
    assert len(news) == told + 1
    assert news[-1].recipient == "bert@example.be"
    assert f"samengevoegd met {parent.reference}" in news[-1].body
    assert f"De status van {parent.reference} is nu: Afgehandeld" in news[-1].body, "what happened to the parent"
    assert "Opgelost" in news[-1].body


def test_merging_the_other_way_and_refusals(app, client, db_session, town, handler, other_tenant):
    keep = file_case(app, db_session, town)
    duplicate = file_case(app, db_session, town, lat=INSIDE[0] + 0.0001)
    theirs = file_case(app, db_session, other_tenant, type_code="vraag", lat=None, lon=None)
    for form, message in (({"ander": "ZV-2026-99999", "richting": "daarin"}, "Er is geen melding ZV-2026-99999"),
                          ({"ander": theirs.reference, "richting": "daarin"}, "Er is geen melding"),
                          ({"ander": keep.reference, "richting": "opzij"}, "Kies welke melding in welke opgaat."),
                          ({"ander": keep.reference, "richting": "hierin"}, "niet met zichzelf")):
        refused = post(client, town, keep.reference, "samenvoegen", **form)
        assert refused.status_code == 400 and message in refused.text, message
    assert fresh(db_session, town, keep).status == "nieuw"
    assert post(client, town, keep.reference, "samenvoegen", ander=duplicate.reference,
                richting="hierin").status_code == 303
    assert fresh(db_session, town, duplicate).merged_into_id == keep.id
    assert fresh(db_session, town, keep).status == "nieuw"
    again = post(client, town, keep.reference, "samenvoegen", ander=duplicate.reference, richting="hierin")
    assert again.status_code == 400 and "Alleen openstaande meldingen" in again.text


# --- Staff filing a case for a resident ----------------------------------------------------


@pytest.fixture
def desk(client, oidc_provider, db_session, town):
    """Logged in as front-office staff of municipality A; returns the staff id."""
    staff_id = make_staff(db_session, oidc_provider, town, "a-onthaal", "onthaal", name="Olga Onthaal")
    log_in(client, oidc_provider, town, "a-onthaal")
    return staff_id


def test_the_desk_files_a_report_for_someone_who_wants_letters(app, client, db_session, town, desk):
    form_url = f"/{town.slug}/balie/melding"
    first = client.get(form_url)
    assert first.status_code == 200 and "Sluikstort" in first.text and 'name="kanaal"' not in first.text
    form = client.get(form_url, query_string={"soort": "sluikstort"})
    assert 'name="kanaal"' in form.text and "Hoeveel ligt er?" in form.text
    response = client.post(form_url, data={
        "csrf_token": token(client, form_url), "soort": "sluikstort", "kanaal": "telefoon",
        "beschrijving": "Matras achter de kerk", "extra-volume": "groot", "adres": "Kerkplein",
        "naam": "Maria Claes", "telefoon": "09 111 22 33", "postadres": "Kerkstraat 3\n9000 Gent",
        "voorkeur": "brief", "taal": "nl"})
    assert response.status_code == 303, response.text
    received = client.get(response.headers["Location"])
    set_tenant(db_session, town.id)
    case = db_session.scalars(select(Case)).one()
    assert received.status_code == 200 and case.reference in received.text
    assert received.headers["Cache-Control"] == "no-store"
    assert f"/{town.slug}/opvolging/" in received.text
    assert client.get(response.headers["Location"]).status_code == 302  # the link is shown once
    assert (case.channel, case.preferred_channel, case.data) == ("telefoon", "brief", {"volume": "groot"})
    assert case.reporter_address == "Kerkstraat 3\n9000 Gent" and case.reporter_email is None
    assert events(db_session, town, case)[0].actor == f"staff:{desk}"
    letters = outbox(db_session, town, case)
    assert [m.channel for m in letters] == ["brief"]
    assert "Maria Claes" in letters[0].recipient and "Kerkstraat 3" in letters[0].recipient


def test_the_desk_files_a_question_by_e_mail(app, client, db_session, town, desk):
    form_url = f"/{town.slug}/balie/melding"
    response = client.post(form_url, data={
        "csrf_token": token(client, form_url), "soort": "vraag", "kanaal": "e-mail",
        "beschrijving": "Wanneer is het containerpark open?", "email": "jo@example.be", "taal": "fr"})
    assert response.status_code == 303
    set_tenant(db_session, town.id)
    case = db_session.scalars(select(Case)).one()
    assert (case.channel, case.language, case.department.code) == ("e-mail", "fr", "burgerzaken")
    assert [(m.channel, m.recipient) for m in outbox(db_session, town, case)] == [("e-mail", "jo@example.be")]


@pytest.mark.parametrize(("changes", "message"), [
    ({"voorkeur": "brief", "postadres": ""}, "Voor een antwoord per brief hebben we uw adres nodig."),
    ({"kanaal": "web"}, "Kies langs welk kanaal de melding binnenkwam."),
    ({"extra-volume": ""}, "Kies een antwoord bij ‘Hoeveel ligt er?’."),
    ({"beschrijving": ""}, "Beschrijf wat er aan de hand is."),
    ({"lat": "noord", "lon": "3.82"}, "Geef een geldige plaats"),
    ({"adres": ""}, "Duid de plaats aan op de kaart of geef een adres."),
    ({"voorkeur": "duif"}, "Kies hoe de inwoner een antwoord wil krijgen."),
    ({"taal": "xx"}, "Kies de taal van de inwoner."),
    ({"lat": "50.85", "lon": "4.35"}, "ligt niet in gemeente"),
    ({"email": "geen-adres"}, "Dit e-mailadres is niet geldig."),
])
def test_the_desk_form_refuses_bad_input_clearly_and_stores_nothing(app, client, db_session, town, desk, changes,
                                                                    message):
    form_url = f"/{town.slug}/balie/melding"
    form = {"csrf_token": token(client, form_url), "soort": "sluikstort", "kanaal": "balie",
            "beschrijving": "Matras", "extra-volume": "klein", "adres": "Kerkplein", "naam": "Maria",
            "postadres": "Kerkstraat 3", "voorkeur": "brief", **changes}
    response = client.post(form_url, data=form)
    assert response.status_code == 400
    assert message in response.text and "Er is niets bewaard." in response.text
    assert 'aria-invalid="true"' in response.text
    set_tenant(db_session, town.id)
    assert db_session.scalar(select(func.count()).select_from(Case)) == 0
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_desk_form_shows_every_problem_at_once(client, db_session, town, desk):
    form_url = f"/{town.slug}/balie/melding"
    response = client.post(form_url, data={"csrf_token": token(client, form_url), "soort": "sluikstort",
                                           "kanaal": "", "beschrijving": "", "voorkeur": "brief"})
    assert response.status_code == 400
    for message in ("Kies langs welk kanaal de melding binnenkwam.", "Beschrijf wat er aan de hand is.",
                    "Kies een antwoord bij ‘Hoeveel ligt er?’.", "Voor een antwoord per brief hebben we uw adres nodig."):
        assert message in response.text, message
    assert '<a href="#kanaal">' in response.text and '<a href="#beschrijving">' in response.text
    set_tenant(db_session, town.id)
    assert db_session.scalar(select(func.count()).select_from(Case)) == 0


def test_an_unknown_kind_at_the_desk_is_refused(client, town, desk):
    form_url = f"/{town.slug}/balie/melding"
    assert client.get(form_url, query_string={"soort": "bestaatniet"}).status_code == 400
    refused = client.post(form_url, data={"csrf_token": token(client, form_url), "soort": "bestaatniet"})
    assert refused.status_code == 400 and "Kies een soort melding of vraag" in refused.text


# --- Other municipalities ------------------------------------------------------------------


def test_staff_of_another_municipality_get_404_everywhere_and_change_nothing(app, client, db_session, town,
                                                                             other_tenant, oidc_provider):
    case = file_case(app, db_session, town)
    twin = file_case(app, db_session, town, lat=INSIDE[0] + 0.0001)
    make_staff(db_session, oidc_provider, other_tenant, "b-baas", "beheerder")
    log_in(client, oidc_provider, other_tenant, "b-baas")
    csrf = token(client, f"/{other_tenant.slug}/behandeling/")
    before = (len(events(db_session, town, case)), len(outbox(db_session, town)))
    base = f"/{town.slug}/behandeling"
    assert client.get(f"{base}/").status_code == 404
    assert client.get(f"{base}/{case.reference}").status_code == 404
    for action, form in (("toewijzen", {"medewerker": ""}), ("status", {"status": "geannuleerd"}),
                         ("bericht", {"bericht": "Hallo"}), ("notitie", {"notitie": "Hallo"}),
                         ("samenvoegen", {"ander": twin.reference, "richting": "daarin"})):
        assert client.post(f"{base}/{case.reference}/{action}", data={"csrf_token": csrf, **form}).status_code == 404
    desk = f"/{town.slug}/balie/melding"
    assert client.get(desk).status_code == 404
    assert client.post(desk, data={"csrf_token": csrf, "soort": "zwerfvuil", "kanaal": "balie",
                                   "beschrijving": "x", "adres": "Markt"}).status_code == 404
    assert client.get(f"{desk}/ontvangen").status_code == 404
    unchanged = fresh(db_session, town, case)
    assert (unchanged.status, unchanged.assignee_id) == ("nieuw", None)
    assert (len(events(db_session, town, case)), len(outbox(db_session, town))) == before
    assert db_session.scalar(select(func.count()).select_from(Case)) == 2
    # Their own back office does not show A's cases either.
    assert case.reference not in client.get(f"/{other_tenant.slug}/behandeling/").text


def test_a_case_of_another_municipality_is_not_found_by_its_reference(app, client, db_session, town, handler,
                                                                      other_tenant):
    theirs = file_case(app, db_session, other_tenant, type_code="vraag", lat=None, lon=None)
    assert client.get(f"/{town.slug}/behandeling/{theirs.reference}").status_code == 404
    assert post(client, town, theirs.reference, "notitie", notitie="x").status_code == 404
    assert theirs.reference not in client.get(f"/{town.slug}/behandeling/?dienst=alle&status=alle").text
    assert len(events(db_session, other_tenant, theirs)) == 1
