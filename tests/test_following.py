"""Following someone else's report needs the address's owner to agree, and every follower can leave."""

import logging
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from core.cases import handling
from core.cases.following import forget_unconfirmed_followers
from core.cases.intake import IntakeRequest, submit_case
from core.cases.models import Case, CaseFollower
from core.logs import JsonFormatter, redact
from core.outbox.models import OutboxMessage
from core.tenancy.isolation import across_tenants, set_tenant
from core.tenancy.models import Department

INSIDE = (51.10, 3.82)
NEARBY = ("51.1001", "3.82")  # about 11 m further: the duplicate step shows the report
NEIGHBOUR = "buur@example.be"
NEWS = "Nieuws over"


@pytest.fixture
def town(db_session, make_tenant):
    tenant = make_tenant("gemeente-a", plugins={"openbare_ruimte": {}})
    set_tenant(db_session, tenant.id)
    db_session.add(Department(code="milieu", name="Milieu"))
    db_session.flush()
    return tenant


@pytest.fixture
def report(app, db_session, town, clock):
    """An open litter report of someone else, with its own confirmation mail to its reporter."""
    with app.test_request_context():
        case = submit_case(db_session, town, IntakeRequest(
            type_code="zwerfvuil", description="Blikjes langs de Dorpsstraat", lat=INSIDE[0], lon=INSIDE[1],
            reporter_email="an@example.be"), channel="web", actor="burger", at=clock.now()).case
    db_session.flush()
    return SimpleNamespace(id=case.id, reference=case.reference)  # requests leave the ORM object expired


def csrf(client, path):
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def ask_to_follow(client, tenant, case, email=NEIGHBOUR):
    data = {"csrf_token": csrf(client, f"/{tenant.slug}/melding"), "referentie": case.reference, "type": "zwerfvuil",
            "lat": NEARBY[0], "lon": NEARBY[1], "email": email}
    return client.post(f"/{tenant.slug}/melding/volgen", data=data)


def mails_to(db_session, tenant, email=NEIGHBOUR):
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    return list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)
                                   .order_by(OutboxMessage.id)))


def followers(db_session, tenant):
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    return list(db_session.scalars(select(CaseFollower)))


def link_in(message, tenant):
    """The path of the follower link in a mail (confirmation or unsubscribe)."""
    return re.search(rf"https?://[^/\s]+(/{tenant.slug}/volgen/[A-Za-z0-9_-]+)", message.body).group(1)


def change(app, db_session, tenant, case, status, **details):
    set_tenant(db_session, tenant.id)
    with app.test_request_context():
        handling.change_state(db_session, tenant, db_session.get(Case, case.id), status, actor="staff:1",
                              at=datetime(2026, 12, 1, tzinfo=UTC), **details)
    db_session.flush()


def confirmed_follower(app, client, db_session, town, report):
    """Follow, open the mailed link, and confirm with the button; returns the browser."""
    ask_to_follow(client, town, report)
    [mail] = mails_to(db_session, town)
    client.get(link_in(mail, town))
    answer = client.post(f"/{town.slug}/volgen/bevestigen", data={"csrf_token": csrf(client, f"/{town.slug}/volgen")})
    assert answer.status_code == 303
    return client


def test_following_sends_one_confirmation_mail_and_no_news_until_confirmed(app, client, db_session, town, report):
    page = ask_to_follow(client, town, report)
    assert page.status_code == 200
    assert f"We stuurden een e-mail naar {NEIGHBOUR}. Bevestig daar dat u deze melding wilt volgen." in page.text
    [mail] = mails_to(db_session, town)
    assert mail.subject == f"Bevestig dat u melding {report.reference} wilt volgen"
    assert f"{app.config['BASE_URL']}/{town.slug}/volgen/" in mail.body
    [follower] = followers(db_session, town)
    assert follower.confirmed_at is None and link_in(mail, town).rsplit("/", 1)[1] not in follower.token_hash

    change(app, db_session, town, report, "in_behandeling")
    assert len(mails_to(db_session, town)) == 1, "no case news before the owner confirmed"
    assert [m.subject for m in mails_to(db_session, town, "an@example.be")][-1].startswith(NEWS)


def test_the_link_changes_nothing_and_leads_to_a_token_free_page(app, client, db_session, town, report):
    ask_to_follow(client, town, report)
    path = link_in(mails_to(db_session, town)[0], town)
    opened = client.get(path)
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/{town.slug}/volgen")
    assert opened.headers["Cache-Control"] == "no-store" and opened.headers["Referrer-Policy"] == "no-referrer"
    assert followers(db_session, town)[0].confirmed_at is None, "a GET confirms nothing (mail scanners)"
    page = client.get(f"/{town.slug}/volgen")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert report.reference in page.text and "Zwerfvuil" in page.text and "Nog niet bevestigd" in page.text
    assert "Ja, ik volg deze melding" in page.text and "Schrijf mij uit" in page.text
    assert path.rsplit("/", 1)[1] not in page.text


def test_confirmed_followers_hear_the_news_with_a_way_out_and_leaving_stops_it(app, client, db_session, town,
                                                                             report):
    browser = confirmed_follower(app, client, db_session, town, report)
    assert followers(db_session, town)[0].confirmed_at is not None
    assert "Bevestigd: u krijgt een e-mail" in browser.get(f"/{town.slug}/volgen").text

    change(app, db_session, town, report, "in_behandeling")
    news = mails_to(db_session, town)[-1]
    assert news.subject.startswith(NEWS) and "Schrijf u uit via" in news.body
    unsubscribe = link_in(news, town)
    assert re.fullmatch(rf"/{town.slug}/volgen/\d+-[A-Za-z0-9_-]{{43}}", unsubscribe)

    # The link in the news mail works in another browser, without the confirmation token.
    elsewhere = app.test_client()
    assert elsewhere.get(unsubscribe).status_code == 303
    page = elsewhere.get(f"/{town.slug}/volgen")
    assert "Bevestigd" in page.text and "Ja, ik volg deze melding" not in page.text
    assert elsewhere.post(f"/{town.slug}/volgen/uitschrijven").status_code == 400, "CSRF"
    assert len(followers(db_session, town)) == 1
    left = elsewhere.post(f"/{town.slug}/volgen/uitschrijven",
                          data={"csrf_token": csrf(elsewhere, f"/{town.slug}/volgen")})
    assert left.status_code == 303
    assert "U bent uitgeschreven" in elsewhere.get(f"/{town.slug}/volgen").text
    assert followers(db_session, town) == []

    change(app, db_session, town, report, "afgehandeld", resolution="opgelost")
    assert not [m for m in mails_to(db_session, town) if m.status == "pending" and m.body], "nothing more"
    assert elsewhere.get(unsubscribe).status_code == 404, "the link died with the row"


def test_asking_again_within_the_hour_sends_no_second_mail(app, client, db_session, town, report, clock):
    ask_to_follow(client, town, report)
    again = ask_to_follow(app.test_client(), town, report, email="Buur@Example.BE")
    assert again.status_code == 200 and f"We stuurden een e-mail naar {NEIGHBOUR}" in again.text
    assert len(mails_to(db_session, town)) == 1 and len(followers(db_session, town)) == 1
    first = link_in(mails_to(db_session, town)[0], town)

    clock.advance(hours=1, minutes=1)
    ask_to_follow(client, town, report)
    mails = mails_to(db_session, town)
    assert len(mails) == 2
    assert client.get(first).status_code == 404, "only the newest link works"
    assert client.get(link_in(mails[1], town)).status_code == 303


def test_the_page_does_not_tell_whether_an_address_already_follows(app, client, db_session, town, report):
    stranger_says = ask_to_follow(app.test_client(), town, report, email="nieuw@example.be").text
    confirmed_follower(app, client, db_session, town, report)
    page = ask_to_follow(app.test_client(), town, report)
    assert page.status_code == 200
    def main(text):  # the page's content, without the per-browser CSRF token
        return text.split('id="inhoud"')[1].split("</main>")[0]

    assert main(page.text).replace(NEIGHBOUR, "X") == main(stranger_says).replace("nieuw@example.be", "X")
    assert len(mails_to(db_session, town)) == 1  # the confirmed address got no second mail


def test_wrong_unknown_or_expired_links_get_a_clear_404(app, client, db_session, town, report, clock):
    ask_to_follow(client, town, report)
    path = link_in(mails_to(db_session, town)[0], town)
    follower = followers(db_session, town)[0]
    for wrong in ("x" * 32, path.rsplit("/", 1)[1][:-1] + "A", f"{follower.id}-{'A' * 43}",
                  f"{follower.id + 1}-{'A' * 43}", "x" * 200):
        answer = client.get(f"/{town.slug}/volgen/{wrong}")
        assert answer.status_code == 404 and "Deze link werkt niet (meer)" in answer.text
        assert answer.headers["Cache-Control"] == "no-store"
    stranger = app.test_client()
    assert stranger.get(f"/{town.slug}/volgen").status_code == 404
    assert stranger.post(f"/{town.slug}/volgen/bevestigen",
                         data={"csrf_token": csrf(stranger, f"/{town.slug}/melding")}).status_code == 404
    assert followers(db_session, town)[0].confirmed_at is None

    clock.advance(days=7)
    assert client.get(path).status_code == 404, "a confirmation link works 7 days"


def test_another_municipality_slug_with_a_valid_link_is_404(app, client, db_session, town, report, make_tenant):
    other = make_tenant("gemeente-b", plugins={"openbare_ruimte": {}})
    ask_to_follow(client, town, report)
    path = link_in(mails_to(db_session, town)[0], town)
    assert client.get(path.replace(f"/{town.slug}/", f"/{other.slug}/")).status_code == 404
    assert client.get(path).status_code == 303
    # The session entry of A's link opens nothing under B's address either.
    assert client.get(f"/{other.slug}/volgen").status_code == 404
    token = csrf(client, f"/{other.slug}/melding")
    assert client.post(f"/{other.slug}/volgen/bevestigen", data={"csrf_token": token}).status_code == 404
    assert followers(db_session, town)[0].confirmed_at is None


def test_the_token_reaches_no_log_line(app, client, db_session, town, report, caplog):
    caplog.set_level(logging.DEBUG)
    confirmed_follower(app, client, db_session, town, report)
    change(app, db_session, town, report, "in_behandeling")
    paths = [link_in(m, town) for m in mails_to(db_session, town)]
    for path in paths:
        client.get(path)
    secrets = [path.rsplit("/", 1)[1] for path in paths]
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert not [line for line in lines for secret in secrets if secret in line]
    # The server's access log line for each link (gunicorn, werkzeug) goes through the same formatter.
    for path, secret in zip(paths, secrets, strict=True):
        request_line = logging.makeLogRecord({"msg": '10.0.0.1 - - "GET %s HTTP/1.1" 303 -', "args": (path,)})
        assert secret not in JsonFormatter().format(request_line) and "/volgen/…" in redact(path)
    assert redact("/gemeente-a/volgen/uitschrijven") == "/gemeente-a/volgen/uitschrijven"


def test_an_invalid_address_is_refused_and_nothing_is_stored(app, client, db_session, town, report):
    for wrong in ("geen-adres", "", "a@b", f"{'x' * 250}@example.be"):
        answer = ask_to_follow(client, town, report, email=wrong)
        assert answer.status_code == 400 and "Dit e-mailadres is niet geldig." in answer.text
    assert followers(db_session, town) == []
    set_tenant(db_session, town.id)
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 1, "only the reporter's receipt"


def test_opening_follower_links_is_rate_limited(app, client, town):
    answers = [client.get(f"/{town.slug}/volgen/{'x' * 32}").status_code for _ in range(11)]
    assert answers[:10] == [404] * 10 and answers[10] == 429


def test_unconfirmed_requests_are_forgotten_after_7_days(app, client, runner, db_session, town, report, clock):
    confirmed_follower(app, client, db_session, town, report)
    ask_to_follow(app.test_client(), town, report, email="vreemde@example.be")
    assert len(mails_to(db_session, town, "vreemde@example.be")) == 1

    with across_tenants(db_session, "test: the retention step"):
        assert forget_unconfirmed_followers(db_session, clock.now() + timedelta(days=6, hours=23)) == 0
    db_session.commit()
    clock.advance(days=7)
    assert runner.invoke(args=["purge"]).exit_code == 0  # the retention run does it
    assert [f.email for f in followers(db_session, town)] == [NEIGHBOUR]
    assert mails_to(db_session, town, "vreemde@example.be") == [], "its confirmation mail went too"
