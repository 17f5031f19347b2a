"""QR share (DESIGN §6), through the real app: make a code, scan it, count and log views, refuse the rest."""

import hashlib
import io
import logging
import re
import xml.etree.ElementTree as ET
from datetime import date
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, inspect, select, text

from core.cases.intake import IntakeRequest, submit_case
from core.identity.models import Account
from core.identity.staff import grant_role
from core.logs import JsonFormatter, redact
from core.profiles.access_log import entries_for_profile
from core.profiles.models import Share
from core.profiles.service import ensure_profile
from core.tenancy.files import RESERVED_SLUGS
from core.tenancy.isolation import set_tenant
from core.testing.fixtures import login_as

PHONE = "+32 470 12 34 56"
ADDRESS = "Dorpsstraat 7, 9080 Lochristi"
EMAIL = "els.peeters@example.be"
NAME = "Els Peeters"
DESCRIPTION = "Mijn buurman parkeert altijd voor mijn oprit"
ANYONE_LABEL = "Iemand aan wie u de code toonde"


def csrf(client, path):
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def account_of(db_session, oidc_provider, subject):
    return db_session.scalar(select(Account).where(Account.issuer == oidc_provider, Account.subject == subject))


def resident_with_profile(app, client, db_session, oidc_provider, tenant, subject="inwoner-els", with_case=True):
    """Log in a resident who has a filled-in profile and one question at ``tenant``; returns (profile, case)."""
    response = login_as(client, oidc_provider, subject, claims={"name": NAME, "email": EMAIL})
    assert response.status_code == 302
    account = account_of(db_session, oidc_provider, subject)
    set_tenant(db_session, tenant.id)
    with app.test_request_context():
        profile = ensure_profile(db_session, account, app.extensions["fygitaal.clock"].now())
        profile.phone, profile.address, profile.birth_date = PHONE, ADDRESS, date(1980, 5, 17)
        case = None
        if with_case:
            case = submit_case(db_session, tenant, IntakeRequest(
                type_code="vraag", description=DESCRIPTION, reporter_account_id=account.id, reporter_name=NAME,
                reporter_email=EMAIL), channel="web", actor="burger", at=app.extensions["fygitaal.clock"].now()).case
    db_session.flush()
    return profile, case


@pytest.fixture
def els(app, client, db_session, oidc_provider, tenant):
    return resident_with_profile(app, client, db_session, oidc_provider, tenant)


def make_share(client, tenant, **fields):
    data = {"csrf_token": csrf(client, f"/{tenant.slug}/"), "velden": ["name", "address"], "ontvanger": "iedereen",
            "doel": "Aanvraag parkeerkaart", "duur": "15", "bekijken": "1", **fields}
    return client.post(f"/mijn/{tenant.slug}/delen", data=data)


def share_with_link(client, tenant, **fields):
    """Make a share through the form; returns (detail path, link) from the share's page."""
    response = make_share(client, tenant, **fields)
    assert response.status_code == 303, response.text
    detail = response.headers["Location"]
    page = client.get(detail)
    assert page.status_code == 200
    link = re.search(r'class="follow-link">([^<]+)<', page.text).group(1)
    return detail, link


def path_of(link):
    return urlsplit(link).path


def shares(db_session, tenant):
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    return list(db_session.scalars(select(Share).order_by(Share.id)))


def assert_private(response):
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_qr_holds_exactly_the_link_and_no_personal_data(app, client, db_session, tenant, els):
    detail, link = share_with_link(client, tenant)
    token = link.rsplit("/", 1)[1]
    assert link == f"{app.config['BASE_URL']}/delen/{token}"
    assert len(token) >= 43  # 32 random bytes
    [share] = shares(db_session, tenant)
    assert share.token_hash == hashlib.sha256(token.encode()).hexdigest()  # only the hash is stored

    png = client.get(f"{detail}/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert_private(png)
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert decoded.text == link

    svg = client.get(f"{detail}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert_private(svg)
    root = ET.fromstring(svg.data)
    assert root.tag.endswith("svg")
    assert not root.findall(".//{http://www.w3.org/2000/svg}script")
    for personal in (NAME, "Peeters", PHONE, ADDRESS, EMAIL, token):
        assert personal not in svg.text
    page = client.get(detail).text
    assert f'src="{detail}/qr.png"' in page and f'href="{detail}/qr.svg"' in page


def test_scanning_shows_the_chosen_fields_only_and_logs_the_view(app, client, db_session, tenant, els):
    profile, case = els
    detail, link = share_with_link(client, tenant, zaken=[str(case.id)], doel="Inschrijving sportkamp")
    scanner = app.test_client()

    opened = scanner.get(path_of(link))
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/delen/bekijken"  # the token stays behind
    assert_private(opened)
    page = scanner.get("/delen/bekijken")
    assert page.status_code == 200
    assert_private(page)
    for chosen in (NAME, ADDRESS, case.reference, tenant.name):
        assert chosen in page.text
    for not_chosen in (PHONE, EMAIL, "1980", DESCRIPTION, "Inschrijving sportkamp"):
        assert not_chosen not in page.text
    assert scanner.get("/delen/bekijken").status_code == 200  # a reload counts no other view

    set_tenant(db_session, tenant.id)
    [share] = shares(db_session, tenant)
    assert share.views == 1
    [entry] = entries_for_profile(db_session, profile.id)
    assert (entry.actor_kind, entry.actor_label, entry.reason) == ("deellink", ANYONE_LABEL, "Inschrijving sportkamp")
    assert entry.shown == ["name", "address", "zaken"]
    access = client.get(f"/mijn/{tenant.slug}/toegang")
    assert access.status_code == 200 and ANYONE_LABEL in access.text
    mine = client.get(detail)
    assert ANYONE_LABEL in mine.text and "1 van 1 keer" in mine.text


def test_a_code_stops_after_the_allowed_views(app, client, db_session, tenant, els):
    _detail, link = share_with_link(client, tenant, bekijken="2")
    for _scan in range(2):
        assert app.test_client().get(path_of(link)).status_code == 303
    late = app.test_client().get(path_of(link))
    assert late.status_code == 410
    assert "zo vaak bekeken" in late.text
    assert_private(late)
    assert shares(db_session, tenant)[0].views == 2
    assert len(entries_for_profile(db_session, els[0].id)) == 2


def test_a_code_stops_when_its_window_ends(app, client, db_session, tenant, els, clock):
    _detail, link = share_with_link(client, tenant, duur="5", bekijken="3")
    scanner = app.test_client()
    assert scanner.get(path_of(link)).status_code == 303
    clock.advance(minutes=5, seconds=1)
    assert scanner.get("/delen/bekijken").status_code == 410  # the open page ends with the window too
    late = app.test_client().get(path_of(link))
    assert late.status_code == 410 and "voorbij" in late.text
    assert shares(db_session, tenant)[0].views == 1


def test_a_revoked_code_answers_410(app, client, db_session, tenant, els):
    detail, link = share_with_link(client, tenant, bekijken="3")
    scanner = app.test_client()
    assert scanner.get(path_of(link)).status_code == 303
    response = client.post(f"{detail}/intrekken", data={"csrf_token": csrf(client, detail)})
    assert response.status_code == 303
    page = client.get(detail).text
    assert "ingetrokken" in page and "qr.png" not in page
    assert scanner.get("/delen/bekijken").status_code == 410
    late = app.test_client().get(path_of(link))
    assert late.status_code == 410 and "ingetrokken" in late.text
    assert shares(db_session, tenant)[0].views == 1


def test_a_municipality_code_opens_only_for_that_municipalitys_staff(app, client, db_session, oidc_provider, tenant,
                                                                      other_tenant, els):
    set_tenant(db_session, other_tenant.id)
    grant_role(db_session, oidc_provider, "b-onthaal", "onthaal")
    set_tenant(db_session, tenant.id)
    grant_role(db_session, oidc_provider, "a-onthaal", "onthaal")
    db_session.flush()
    _detail, link = share_with_link(client, tenant, ontvanger=other_tenant.slug, bekijken="5")

    anonymous = app.test_client().get(path_of(link))
    assert anonymous.status_code == 404 and "opent niet" in anonymous.text
    assert_private(anonymous)
    wrong_staff = app.test_client()
    login_as(wrong_staff, oidc_provider, "a-onthaal", tenant=tenant.slug)  # staff, but of the issuing municipality
    assert wrong_staff.get(path_of(link)).status_code == 404
    assert wrong_staff.get("/delen/bekijken").status_code == 404
    assert shares(db_session, tenant)[0].views == 0  # refusals count nothing
    assert entries_for_profile(db_session, els[0].id) == []

    recipient = app.test_client()
    login_as(recipient, oidc_provider, "b-onthaal", tenant=other_tenant.slug, claims={"name": "Jan Balie"})
    assert recipient.get(path_of(link)).status_code == 303
    page = recipient.get("/delen/bekijken")
    assert page.status_code == 200 and NAME in page.text
    assert shares(db_session, tenant)[0].views == 1
    [entry] = entries_for_profile(db_session, els[0].id)
    assert entry.actor_label == f"Jan Balie, gemeente {other_tenant.name}"


def test_the_token_reaches_no_log_line(app, client, db_session, tenant, els, caplog):
    caplog.set_level(logging.DEBUG)
    _detail, link = share_with_link(client, tenant, bekijken="1")
    token = link.rsplit("/", 1)[1]
    scanner = app.test_client()
    scanner.get(path_of(link))
    scanner.get(path_of(link))  # used up: the 410 path logs nothing either
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert lines and not [line for line in lines if token in line]
    request_line = logging.makeLogRecord({"msg": '10.0.0.1 - - "GET %s HTTP/1.1" 303 -', "args": (path_of(link),)})
    assert token not in JsonFormatter().format(request_line) and "/delen/…" in redact(path_of(link))
    assert redact("/delen/bekijken") == "/delen/bekijken"
    assert not [e for e in entries_for_profile(db_session, els[0].id) if token in f"{e.actor_label}{e.reason}"]


def test_opening_links_is_rate_limited(app, client):
    scanner = app.test_client()
    answers = [scanner.get(f"/delen/{'x' * 43}").status_code for _ in range(11)]
    assert answers[:10] == [404] * 10 and answers[10] == 429


def test_others_cannot_see_or_revoke_a_share(app, client, db_session, oidc_provider, tenant, other_tenant, els):
    detail, _link = share_with_link(client, tenant)
    share_id = shares(db_session, tenant)[0].id
    other = app.test_client()
    resident_with_profile(app, other, db_session, oidc_provider, tenant, subject="inwoner-piet", with_case=False)
    for path in (detail, f"{detail}/qr.png", f"{detail}/qr.svg"):
        assert other.get(path).status_code == 404
    assert other.post(f"{detail}/intrekken", data={"csrf_token": csrf(other, "/")}).status_code == 404
    # The same share id under another municipality's URL does not exist either.
    assert client.get(f"/mijn/{other_tenant.slug}/delen/{share_id}").status_code == 404
    assert shares(db_session, tenant)[0].revoked_at is None
    anonymous = app.test_client()
    for path in (f"/mijn/{tenant.slug}/delen", detail):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_resident_without_a_profile_is_told_there_is_nothing_to_share(client, oidc_provider, other_tenant, els):
    page = client.get(f"/mijn/{other_tenant.slug}/delen")
    assert page.status_code == 200 and "nog niets om te delen" in page.text


def test_the_form_offers_fields_cases_recipients_and_windows(client, tenant, other_tenant, els):
    page = client.get(f"/mijn/{tenant.slug}/delen").text
    assert els[1].reference in page and other_tenant.name in page
    assert 'value="15" selected' in page and 'value="1440"' in page
    assert 'name="velden" value="phone"' in page


def test_the_code_cannot_be_shown_in_a_later_session(app, client, db_session, oidc_provider, tenant, els):
    detail, _link = share_with_link(client, tenant)
    later = app.test_client()
    login_as(later, oidc_provider, "inwoner-els")
    page = later.get(detail)
    assert page.status_code == 200 and "niet meer tonen" in page.text and "qr.png" not in page.text
    assert later.get(f"{detail}/qr.png").status_code == 404


@pytest.mark.parametrize(("fields", "message"), [
    ({"duur": "1441"}, "hoogstens 24 uur"),
    ({"duur": "4"}, "minstens 5 minuten"),
    ({"bekijken": "0"}, "1 tot 20 keer"),
    ({"bekijken": "21"}, "1 tot 20 keer"),
    ({"velden": ["name", "national_number"]}, "alleen gegevens uit de lijst"),
    ({"velden": [], "zaken": []}, "minstens één gegeven"),
    ({"doel": "   "}, "Zeg waarvoor"),
    ({"doel": "x" * 201}, "Hoogstens 200 tekens"),
    ({"ontvanger": "nergensdorp"}, "Kies een gemeente uit de lijst"),
])
def test_bad_input_is_refused_and_nothing_is_stored(client, db_session, tenant, els, fields, message):
    response = make_share(client, tenant, **fields)
    assert response.status_code == 400
    assert message in response.text
    assert 'class="error-summary"' in response.text
    assert shares(db_session, tenant) == []


def test_someone_elses_case_cannot_be_shared(app, client, db_session, oidc_provider, tenant, els):
    other = app.test_client()
    _profile, foreign_case = resident_with_profile(app, other, db_session, oidc_provider, tenant, subject="inwoner-piet")
    for case_id in (str(foreign_case.id), "abc"):
        response = make_share(client, tenant, zaken=[case_id])
        assert response.status_code == 400 and "uw eigen meldingen" in response.text
    set_tenant(db_session, tenant.id)
    assert db_session.scalar(select(func.count()).select_from(Share)) == 0


def test_a_good_numeric_window_is_accepted(client, db_session, tenant, els):
    assert make_share(client, tenant, duur="90", bekijken="20").status_code == 303
    [share] = shares(db_session, tenant)
    assert (share.expires_at - share.created_at).total_seconds() == 90 * 60 and share.max_views == 20


def test_no_municipality_can_take_the_delen_slug():
    assert "delen" in RESERVED_SLUGS



def test_the_token_is_in_no_table_not_even_the_live_session(app, client, db_session, tenant, els):
    detail, link = share_with_link(client, tenant, velden=["name"])
    token = link.rsplit("/", 1)[1]
    dump = []
    for table in inspect(db_session.get_bind()).get_table_names():
        dump.extend(str(row) for row in db_session.execute(text(f'SELECT * FROM "{table}"')))
    assert dump and not [row for row in dump if token in row]
    assert link in client.get(detail).text  # the resident's own session still shows the code
