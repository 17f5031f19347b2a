"""The resident's case pages, through the real app: report, confirm, follow up, photos, routing, /mijn."""

import io
import re
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.cases import handling
from core.cases.models import Attachment, Case, CaseEvent, CaseFollower
from core.identity.models import UserSession
from core.identity.staff import grant_role
from core.outbox.models import OutboxMessage
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department
from core.testing.fixtures import login_as

INSIDE = ("51.10", "3.82")  # inside the test kit's square
NEARBY = ("51.1001", "3.82")  # about 11 m further
OUTSIDE = ("50.85", "4.35")  # Brussels
AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
EAST = {"type": "Polygon", "coordinates": [[[3.90, 51.08], [3.94, 51.08], [3.94, 51.12], [3.90, 51.12],
                                            [3.90, 51.08]]]}
DEPARTMENTS = (("milieu", "Milieu"), ("openbare_werken", "Openbare werken"), ("burgerzaken", "Burgerzaken"))


def town_with_departments(db_session, make_tenant, slug, **fields):
    tenant = make_tenant(slug, plugins={"openbare_ruimte": {}}, **fields)
    set_tenant(db_session, tenant.id)
    for code, name in DEPARTMENTS:
        db_session.add(Department(code=code, name=name))
    db_session.flush()
    return tenant


@pytest.fixture
def town(db_session, make_tenant):
    return town_with_departments(db_session, make_tenant, "gemeente-a")


def token(client, path):
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def count(db_session, tenant, model):
    set_tenant(db_session, tenant.id)
    return db_session.scalar(select(func.count()).select_from(model))


def cases_of(db_session, tenant):
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    return list(db_session.scalars(select(Case).order_by(Case.id)))


def photo(fmt="PNG", size=(40, 30)):
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, format=fmt)
    return out.getvalue()


def post_report(client, tenant, **fields):
    data = {"csrf_token": token(client, f"/{tenant.slug}/melding"), "type": "zwerfvuil",
            "beschrijving": "Blikjes langs de Dorpsstraat", "lat": INSIDE[0], "lon": INSIDE[1], "kanaal": "e-mail",
            **fields}
    return client.post(f"/{tenant.slug}/melding", data=data, content_type="multipart/form-data")


def file_report(client, tenant, **fields):
    """File a report through the form; returns (reference, follow-up path) from the confirmation."""
    response = post_report(client, tenant, **fields)
    assert response.status_code == 303, response.text
    assert response.headers["Location"].endswith(f"/{tenant.slug}/melding/ontvangen")
    page = client.get(f"/{tenant.slug}/melding/ontvangen").text
    reference = re.search(r"Uw referentienummer is ([A-Z]+-\d{4}-\d{5})", page).group(1)
    path = re.search(rf"(/{tenant.slug}/opvolging/[A-Za-z0-9_-]{{20,}})", page).group(1)
    return reference, path


def follow_up_headers_are_strict(response):
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


# --- Filing ---------------------------------------------------------------------------------


def test_the_form_comes_in_two_steps_with_the_types_own_questions(client, town):
    first = client.get(f"/{town.slug}/melding")
    assert first.status_code == 200
    assert '<optgroup label="Iets melden">' in first.text and '<optgroup label="Een vraag stellen">' in first.text
    assert '<option value="sluikstort">Sluikstort</option>' in first.text
    assert '<label for="type">' in first.text
    second = client.get(f"/{town.slug}/melding", query_string={"type": "sluikstort"})
    assert second.status_code == 200
    page = second.text
    assert '<label for="extra-volume">Hoeveel ligt er? (verplicht)</label>' in page
    assert '<option value="klein">Een zak of minder</option>' in page
    assert 'enctype="multipart/form-data"' in page
    assert '<input type="file" id="fotos" name="fotos" multiple accept="image/*"' in page
    assert "<legend>Uw contactgegevens (niet verplicht)</legend>" in page
    wegdek = client.get(f"/{town.slug}/melding", query_string={"type": "wegdek"}).text
    assert 'type="checkbox" id="extra-gevaarlijk" name="extra-gevaarlijk"' in wegdek
    question = client.get(f"/{town.slug}/melding", query_string={"type": "vraag"}).text
    assert "<legend>Uw contactgegevens (verplicht)</legend>" in question
    unknown = client.get(f"/{town.slug}/melding", query_string={"type": "bestaatniet"})
    assert unknown.status_code == 400 and "Kies een soort melding of vraag uit de lijst." in unknown.text


def test_filing_through_the_form_lands_exactly_one_web_case(client, town, db_session):
    response = post_report(client, town, type="sluikstort", **{"extra-volume": "middel"}, naam="An",
                           email="an@example.be", fotos=[(io.BytesIO(photo()), "foto.png")])
    assert response.status_code == 303
    [case] = cases_of(db_session, town)
    assert case.channel == "web" and case.type_code == "sluikstort" and case.status == "nieuw"
    assert case.data == {"volume": "middel"} and case.reporter_email == "an@example.be"
    assert (case.lat, case.lon) == (51.10, 3.82) and case.department.code == "milieu"
    assert [(e.kind, e.actor) for e in db_session.scalars(select(CaseEvent))] == [("created", "burger")]
    assert count(db_session, town, Attachment) == 1
    assert count(db_session, town, OutboxMessage) == 1, "the confirmation e-mail"


def test_a_logged_in_resident_is_the_reporter_and_is_prefilled(client, town, db_session, oidc_provider):
    login_as(client, oidc_provider, "inwoner-an", claims={"name": "An Peeters", "email": "an@example.be"})
    form = client.get(f"/{town.slug}/melding", query_string={"type": "zwerfvuil"}).text
    assert 'value="An Peeters"' in form and 'value="an@example.be"' in form
    post_report(client, town)
    [case] = cases_of(db_session, town)
    assert case.reporter_account_id is not None


def not_an_image():
    return [(io.BytesIO(b"this is a text file"), "foto.jpg")]


BAD = [
    ({"type": "bestaatniet"}, "Kies een soort melding of vraag uit de lijst.", "type"),
    ({"type": "sluikstort"}, "Kies een antwoord bij ‘Hoeveel ligt er?’.", "extra-volume"),
    ({"type": "sluikstort", "extra-volume": "heel-veel"}, "Kies bij ‘Hoeveel ligt er?’ een van de mogelijkheden.",
     "extra-volume"),
    ({"type": "wegdek", "extra-gevaarlijk": "misschien"}, "‘Is het gevaarlijk?’ kan alleen aangevinkt of leeg zijn.",
     "extra-gevaarlijk"),
    ({"lat": OUTSIDE[0], "lon": OUTSIDE[1]}, "Deze plaats ligt niet in gemeente Gemeente-A.", "locatie"),
    ({"lat": "noord", "lon": "3.82"}, "Geef een geldige plaats", "locatie"),
    ({"lat": "", "lon": ""}, "Duid de plaats aan op de kaart of geef een adres.", "locatie"),
    ({"beschrijving": "x" * 4001}, "De beschrijving mag hoogstens 4000 tekens lang zijn.", "beschrijving"),
    ({"email": "geen-adres"}, "Dit e-mailadres is niet geldig.", "email"),
    ({"kanaal": "brief"}, "Voor een antwoord per brief hebben we uw adres nodig.", "postadres"),
    ({"type": "vraag", "lat": "", "lon": ""}, "Voor deze vraag hebben we een manier nodig om u te antwoorden.",
     "contact"),
    ({"fotos": "not-an-image"}, "Dit bestand is geen foto (JPEG, PNG of WebP).", "fotos"),
]


@pytest.mark.parametrize(("fields", "message", "slot"), BAD, ids=[b[2] + "-" + str(i) for i, b in enumerate(BAD)])
def test_bad_input_is_refused_clearly_and_nothing_is_stored(client, town, db_session, fields, message, slot):
    if fields.get("fotos") == "not-an-image":
        fields = {**fields, "fotos": not_an_image()}
    response = post_report(client, town, **fields)
    assert response.status_code == 400
    assert message in response.text
    assert 'class="error-summary"' in response.text
    assert f'id="fout-{slot}"' in response.text
    assert re.search(f'aria-describedby="[^"]*fout-{slot}"', response.text), "the field points at its message"
    assert f'href="#{ {"locatie": "lat", "contact": "email"}.get(slot, slot)}"' in response.text, "summary links"
    for model in (Case, CaseEvent, Attachment, OutboxMessage):
        assert count(db_session, town, model) == 0


def test_a_photo_over_the_size_limit_is_refused(app, client, town, db_session):
    app.config["MAX_PHOTO_BYTES"], limit = 1000, app.config["MAX_PHOTO_BYTES"]
    try:
        big = photo("PNG", (400, 400)) + b"\0" * 1000
        response = post_report(client, town, fotos=[(io.BytesIO(big), "groot.png")])
    finally:
        app.config["MAX_PHOTO_BYTES"] = limit
    assert response.status_code == 400
    assert "Een foto mag hoogstens 0 MB zijn." in response.text
    assert "Uw foto’s zijn nog niet bewaard. Kies ze opnieuw" in response.text
    assert count(db_session, town, Case) == 0 and count(db_session, town, Attachment) == 0


def test_more_photos_than_allowed_are_refused(client, town, db_session):
    six = [(io.BytesIO(photo()), f"foto{i}.png") for i in range(6)]
    response = post_report(client, town, fotos=six)
    assert response.status_code == 400 and "U kunt hoogstens 5 foto&#39;s meesturen." in response.text
    assert count(db_session, town, Case) == 0 and count(db_session, town, Attachment) == 0


def test_an_integer_question_is_a_number_field_and_refuses_words(client, db_session, make_tenant):
    pilot = make_tenant("pilootgemeente", plugins={"grofvuil": {}})
    form = client.get(f"/{pilot.slug}/melding", query_string={"type": "grofvuil"}).text
    assert 'type="number" id="extra-stuks" name="extra-stuks" value="" step="1" min="1" max="20" required' in form
    response = post_report(client, pilot, type="grofvuil", lat="", lon="", email="k@example.be",
                           **{"extra-zone": "Zaffelare", "extra-stuks": "veel"})
    assert response.status_code == 400
    assert "Geef bij ‘Aantal stuks’ een getal." in response.text
    assert count(db_session, pilot, Case) == 0


# --- Duplicates -----------------------------------------------------------------------------


def test_nearby_open_reports_are_shown_first_and_can_be_followed_instead(client, town, db_session):
    first, _path = file_report(client, town)
    other = client.application.test_client()
    shown = post_report(other, town, lat=NEARBY[0], lon=NEARBY[1], email="buur@example.be")
    assert shown.status_code == 200
    assert "Is dit al gemeld?" in shown.text and first in shown.text
    assert 'name="bevestigd" value="1"' in shown.text
    assert len(cases_of(db_session, town)) == 1, "nothing stored at the duplicate step"

    csrf = token(other, f"/{town.slug}/melding")
    follow = {"csrf_token": csrf, "referentie": first, "type": "zwerfvuil", "lat": NEARBY[0], "lon": NEARBY[1]}
    refused = other.post(f"/{town.slug}/melding/volgen", data={**follow, "email": "geen-adres"})
    assert refused.status_code == 400 and "Dit e-mailadres is niet geldig." in refused.text
    assert count(db_session, town, CaseFollower) == 0
    followed = other.post(f"/{town.slug}/melding/volgen", data={**follow, "email": "buur@example.be"})
    assert followed.status_code == 200 and "Bevestig daar dat u deze melding wilt volgen." in followed.text
    # Only once the address's owner confirms (tests/test_following.py) do they hear news.
    assert [(f.email, f.confirmed_at) for f in db_session.scalars(select(CaseFollower))] == [("buur@example.be", None)]
    assert len(cases_of(db_session, town)) == 1

    # Following works only for a case the duplicate step could show: not by guessing a reference.
    far = {**follow, "lat": "51.11", "email": "buur@example.be"}
    assert other.post(f"/{town.slug}/melding/volgen", data=far).status_code == 404

    anyway = post_report(other, town, lat=NEARBY[0], lon=NEARBY[1], bevestigd="1")
    assert anyway.status_code == 303
    assert len(cases_of(db_session, town)) == 2


# --- Confirmation and follow-up -------------------------------------------------------------


def test_the_confirmation_shows_the_reference_and_link_once(client, town):
    response = post_report(client, town)
    page = client.get(response.headers["Location"])
    follow_up_headers_are_strict(page)
    reference = re.search(r"Uw referentienummer is ([A-Z]+-\d{4}-\d{5})", page.text).group(1)
    link = re.search(rf"/{town.slug}/opvolging/([A-Za-z0-9_-]{{20,}})", page.text).group(1)
    again = client.get(f"/{town.slug}/melding/ontvangen")
    assert again.status_code == 200
    assert link not in again.text and reference not in again.text
    assert "Deze bevestiging is al getoond" in again.text


def test_the_token_is_exchanged_for_a_token_free_url(client, town):
    reference, path = file_report(client, town)
    token_value = path.rsplit("/", 1)[1]
    browser = client.application.test_client()
    exchanged = browser.get(path)
    assert exchanged.status_code == 303
    follow_up_headers_are_strict(exchanged)
    location = exchanged.headers["Location"]
    assert location.endswith(f"/{town.slug}/opvolging/dossier/{reference}") and token_value not in location
    dossier = browser.get(location)
    assert dossier.status_code == 200
    follow_up_headers_are_strict(dossier)
    assert reference in dossier.text and "Nieuw" in dossier.text and token_value not in dossier.text
    # A browser that never had the link sees nothing.
    stranger = client.application.test_client()
    assert stranger.get(location).status_code == 404


def test_a_forged_token_gets_a_clear_404_and_stores_nothing(client, town, other_tenant, db_session):
    _reference, path = file_report(client, town)
    set_tenant(db_session, None)
    sessions_before = db_session.scalar(select(func.count()).select_from(UserSession))
    browser = client.application.test_client()
    forged = browser.get(f"/{town.slug}/opvolging/vervalst-{'x' * 30}")
    assert forged.status_code == 404
    assert "Deze opvolgingslink werkt niet" in forged.text
    follow_up_headers_are_strict(forged)
    # The real token of A's case does not work at another municipality's address.
    assert browser.get(path.replace(town.slug, other_tenant.slug)).status_code == 404
    set_tenant(db_session, None)
    assert db_session.scalar(select(func.count()).select_from(UserSession)) == sessions_before


def post_on_dossier(client, tenant, reference, action, **data):
    csrf = token(client, f"/{tenant.slug}/opvolging/dossier/{reference}")
    return client.post(f"/{tenant.slug}/opvolging/dossier/{reference}/{action}", data={"csrf_token": csrf, **data})


def close(app, db_session, tenant, reference, status="afgehandeld", **details):
    set_tenant(db_session, tenant.id)
    case = db_session.scalar(select(Case).where(Case.reference == reference))
    with app.test_request_context():
        handling.change_state(db_session, tenant, case, status, actor="medewerker", at=AT, **details)
    db_session.flush()


def events(db_session, tenant):
    set_tenant(db_session, tenant.id)
    return [e.kind for e in db_session.scalars(select(CaseEvent).order_by(CaseEvent.id))]


def test_add_information_reopen_and_satisfaction(app, client, town, db_session):
    reference, _path = file_report(client, town)
    dossier = f"/{town.slug}/opvolging/dossier/{reference}"
    page = client.get(dossier).text
    assert "Informatie toevoegen" in page and "Bent u tevreden?" not in page

    added = post_on_dossier(client, town, reference, "aanvullen", aanvulling="Het ligt er nu ook aan de overkant.")
    assert added.status_code == 303
    assert "Het ligt er nu ook aan de overkant." in client.get(dossier).text

    before = events(db_session, town)
    for action, data, message in [
        ("aanvullen", {"aanvulling": "  "}, "Schrijf eerst een tekst."),
        ("heropenen", {"reden": "Nog niet opgelost"}, "Alleen een afgesloten dossier kan heropend worden."),
        ("tevredenheid", {"tevreden": "ja"}, "U kunt pas zeggen of u tevreden bent als het dossier afgesloten is."),
    ]:
        refused = post_on_dossier(client, town, reference, action, **data)
        assert refused.status_code == 400, action
        assert message in refused.text and 'class="error-summary"' in refused.text
    assert events(db_session, town) == before

    close(app, db_session, town, reference, resolution="opgelost", note="De blikjes zijn opgeraapt.")
    page = client.get(dossier).text
    assert "Afgehandeld" in page and "Opgelost" in page and "De blikjes zijn opgeraapt." in page
    assert "Bent u tevreden?" in page and "Informatie toevoegen" not in page
    closed_add = post_on_dossier(client, town, reference, "aanvullen", aanvulling="Nog iets")
    assert closed_add.status_code == 400 and "Dit dossier is afgesloten." in closed_add.text
    assert post_on_dossier(client, town, reference, "tevredenheid", tevreden="misschien").status_code == 400

    unhappy = post_on_dossier(client, town, reference, "tevredenheid", tevreden="nee")
    assert unhappy.status_code == 303 and unhappy.headers["Location"].endswith("#heropenen")
    page = client.get(dossier).text
    assert "Jammer dat u niet tevreden bent" in page and 'id="reden"' in page
    assert cases_of(db_session, town)[0].satisfied is False
    assert post_on_dossier(client, town, reference, "heropenen", reden="").status_code == 400

    reopened = post_on_dossier(client, town, reference, "heropenen", reden="Er ligt alweer vuil.")
    assert reopened.status_code == 303
    assert cases_of(db_session, town)[0].status == "heropend"
    assert "Heropend" in client.get(dossier).text

    stranger = client.application.test_client()
    csrf = token(stranger, f"/{town.slug}/melding")
    assert stranger.post(f"{dossier}/aanvullen", data={"csrf_token": csrf, "aanvulling": "x"}).status_code == 404


def test_the_dossier_tells_a_referral_and_a_merge_honestly(app, client, town, db_session):
    referred, _path = file_report(client, town)
    close(app, db_session, town, referred, status="doorverwezen", referred_to="De Watergroep")
    page = client.get(f"/{town.slug}/opvolging/dossier/{referred}").text
    assert "Doorverwezen naar" in page and "De Watergroep" in page

    parent, _path = file_report(client, town, lat="51.11")
    duplicate, _path = file_report(client, town, lat="51.11", bevestigd="1")
    set_tenant(db_session, town.id)
    cases = {c.reference: c for c in db_session.scalars(select(Case))}
    with app.test_request_context():
        handling.merge(db_session, town, cases[duplicate], cases[parent], actor="medewerker", at=AT)
    db_session.flush()
    page = client.get(f"/{town.slug}/opvolging/dossier/{duplicate}").text
    assert "Samengevoegd met" in page and parent in page
    assert "Bent u tevreden?" not in page and 'id="reden"' not in page


# --- Photos ---------------------------------------------------------------------------------


def test_a_photo_is_served_only_to_those_allowed(app, client, town, other_tenant, db_session, oidc_provider):
    reference, _path = file_report(client, town, fotos=[(io.BytesIO(photo("JPEG")), "foto.jpg")])
    set_tenant(db_session, town.id)
    attachment = db_session.scalars(select(Attachment)).one()
    url = f"/{town.slug}/bijlagen/{attachment.id}"
    assert f'href="{url}"' in client.get(f"/{town.slug}/opvolging/dossier/{reference}").text

    mine = client.get(url)
    assert mine.status_code == 200 and mine.mimetype == "image/jpeg"
    assert mine.headers["Content-Disposition"].startswith("attachment;")
    assert mine.headers["Cache-Control"] == "private, no-store"
    assert mine.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(mine.data)).format == "JPEG"

    assert app.test_client().get(url).status_code == 404, "another visitor"
    resident = app.test_client()
    login_as(resident, oidc_provider, "inwoner-x")
    assert resident.get(url).status_code == 404, "a logged-in resident who did not report it"

    set_tenant(db_session, town.id)
    grant_role(db_session, oidc_provider, "a-behandelaar", "behandelaar", "milieu")
    grant_role(db_session, oidc_provider, "a-onthaal", "onthaal")
    set_tenant(db_session, other_tenant.id)
    grant_role(db_session, oidc_provider, "b-beheerder", "beheerder")
    db_session.flush()
    for subject, tenant, expected in [("a-behandelaar", town, 200), ("a-onthaal", town, 200),
                                      ("b-beheerder", other_tenant, 404)]:
        staff = app.test_client()
        assert login_as(staff, oidc_provider, subject, tenant=tenant.slug).status_code == 302
        assert staff.get(url).status_code == expected, subject
    # And the attachment is not reachable through the other municipality's address either.
    assert client.get(f"/{other_tenant.slug}/bijlagen/{attachment.id}").status_code == 404


# --- Platform level and /mijn ---------------------------------------------------------------


def test_a_platform_report_goes_to_the_municipality_that_contains_it(client, db_session, make_tenant):
    west = town_with_departments(db_session, make_tenant, "west")
    east = town_with_departments(db_session, make_tenant, "oost", boundary=EAST)
    assert client.get("/melding").status_code == 200
    csrf = token(client, "/melding")
    routed = client.post("/melding", data={"csrf_token": csrf, "lat": "51.10", "lon": "3.92"})
    assert routed.status_code == 303
    assert routed.headers["Location"].endswith(f"/{east.slug}/melding?lat=51.1&lon=3.92")
    step = client.get(routed.headers["Location"]).text
    assert 'name="lat" value="51.1"' in step and 'name="lon" value="3.92"' in step
    form = client.get(f"/{west.slug}/melding", query_string={"type": "zwerfvuil", "lat": "51.1", "lon": "3.82"}).text
    assert 'id="lat" name="lat" value="51.1"' in form

    outside = client.post("/melding", data={"csrf_token": csrf, "lat": OUTSIDE[0], "lon": OUTSIDE[1]})
    assert outside.status_code == 400
    assert "Deze plaats ligt in geen enkele gemeente van Fygitaal." in outside.text
    assert 'aria-describedby="fout-locatie"' in outside.text
    garbled = client.post("/melding", data={"csrf_token": csrf, "lat": "ergens", "lon": ""})
    assert garbled.status_code == 400 and "Geef een geldige plaats" in garbled.text


def test_my_cases_lists_only_my_own_across_municipalities(app, client, db_session, make_tenant, oidc_provider):
    a = town_with_departments(db_session, make_tenant, "gemeente-a")
    b = town_with_departments(db_session, make_tenant, "gemeente-b")
    moved = client.get("/mijn/meldingen")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/mijn/")
    anonymous = client.get("/mijn/")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].endswith("/login?next=/mijn/")

    login_as(client, oidc_provider, "inwoner-an")
    in_a, _path = file_report(client, a)
    in_b, _path = file_report(client, b, type="groen")
    someone_else = app.test_client()
    login_as(someone_else, oidc_provider, "inwoner-bert")
    theirs, _path = file_report(someone_else, a, type="wegdek")
    anonymously = app.test_client()
    file_report(anonymously, a, type="riolering")

    mine = client.get("/mijn/")
    assert mine.headers["Cache-Control"] == "no-store", "personal data stays out of caches"
    page = mine.text
    assert f'href="/{a.slug}/opvolging/dossier/{in_a}"' in page
    assert f'href="/{b.slug}/opvolging/dossier/{in_b}"' in page
    assert theirs not in page and "RI-" not in page

    # The reporter's account opens its dossiers from another browser too; others' stay 404.
    elsewhere = app.test_client()
    login_as(elsewhere, oidc_provider, "inwoner-an")
    assert elsewhere.get(f"/{b.slug}/opvolging/dossier/{in_b}").status_code == 200
    assert elsewhere.get(f"/{a.slug}/opvolging/dossier/{theirs}").status_code == 404


def test_the_municipality_home_links_to_the_form(client, town):
    assert f'href="/{town.slug}/melding"' in client.get(f"/{town.slug}/").text
