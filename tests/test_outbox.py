"""The outbox worker: real SMTP on loopback, retries with backoff, at most once, letters in the print queue."""

import email
import smtplib
import socket
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.cases.intake import IntakeRequest, submit_case
from core.clock import as_utc
from core.identity.staff import grant_role
from core.outbox.letters import render_letter, to_latin1
from core.outbox.models import OutboxMessage
from core.outbox.service import enqueue
from core.outbox.worker import BACKOFF, MAX_ATTEMPTS, deliver_due, recover_stuck, safe_error
from core.storage import storage
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department
from core.testing.fixtures import login_as

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port(app):
    """A free loopback port the app sends to; nothing listens until ``smtp_server`` starts."""
    port = free_port()
    saved = app.config["SMTP_HOST"], app.config["SMTP_PORT"]
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    yield port
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = saved


@contextmanager
def smtp_server(port):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def town(db_session, make_tenant):
    tenant = make_tenant("gemeente-a", name="Lochristi")
    set_tenant(db_session, tenant.id)
    db_session.add(Department(code="burgerzaken", name="Burgerzaken"))
    db_session.flush()
    return tenant


def ask(app, db_session, tenant, clock, **fields):
    """A question filed now; returns its first outbox row (the confirmation)."""
    values = {"type_code": "vraag", "description": "Wanneer is het containerpark open?",
              "reporter_name": "Zoë Brëughel", "reporter_email": "zoe@example.be", **fields}
    set_tenant(db_session, tenant.id)
    with app.test_request_context():
        case = submit_case(db_session, tenant, IntakeRequest(**values), channel="web", actor="burger",
                           at=clock.now()).case
    db_session.flush()
    return db_session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)).one()


def reload(db_session, tenant, message_id):
    set_tenant(db_session, tenant.id)  # the worker's sessions changed the transaction's settings
    db_session.expire_all()
    return db_session.get(OutboxMessage, message_id)


def test_an_email_reaches_a_real_smtp_server_once(app, db_session, town, clock, smtp_port):
    message = ask(app, db_session, town, clock)
    with smtp_server(smtp_port) as inbox:
        report = deliver_due(app)
        assert report.sent == [message.id]
        assert deliver_due(app).claimed == 0, "a sent row is never taken again"
    assert len(inbox.envelopes) == 1
    assert inbox.envelopes[0].rcpt_tos == ["zoe@example.be"]
    received = inbox.messages()[0]
    assert received["To"] == "zoe@example.be"
    assert received["Subject"] == message.subject and "VR-" in received["Subject"]
    assert "Lochristi" in received["From"] and app.config["MAIL_FROM"] in received["From"]
    assert received["Content-Language"] == "nl" and received["Auto-Submitted"] == "auto-generated"
    body = received.get_body(preferencelist=("plain",))
    assert body.get_content_charset() == "utf-8"
    assert "Dag Zoë Brëughel" in body.get_content()
    row = reload(db_session, town, message.id)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None and row.last_error is None


def test_with_the_server_down_the_message_waits_and_is_delivered_once_later(app, db_session, town, clock,
                                                                            smtp_port):
    message = ask(app, db_session, town, clock)
    report = deliver_due(app)  # nothing listens on the port
    assert report.retrying == [message.id] and not report.sent
    row = reload(db_session, town, message.id)
    assert row.status == "pending" and row.attempts == 1
    assert as_utc(row.next_attempt_at) == clock.now() + BACKOFF[0]
    assert row.last_error.startswith("ConnectionRefusedError")
    assert "zoe@example.be" not in row.last_error

    with smtp_server(smtp_port) as inbox:
        assert deliver_due(app).claimed == 0, "not before the backoff has passed"
        clock.advance(minutes=2)
        assert deliver_due(app).sent == [message.id]
        assert deliver_due(app).claimed == 0
        clock.advance(days=1)
        assert deliver_due(app).claimed == 0
    assert len(inbox.envelopes) == 1
    row = reload(db_session, town, message.id)
    assert row.status == "sent" and row.attempts == 2


def test_after_six_failed_attempts_a_message_fails_for_good(app, db_session, town, clock, smtp_port):
    message = ask(app, db_session, town, clock)
    waits = []
    for _attempt in range(MAX_ATTEMPTS):
        before = clock.now()
        assert deliver_due(app).claimed == 1
        row = reload(db_session, town, message.id)
        if row.status == "pending":
            waits.append(as_utc(row.next_attempt_at) - before)
        clock.advance(hours=13)
    assert waits == list(BACKOFF)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert deliver_due(app).claimed == 0


def test_a_message_being_sent_is_not_taken_again_and_only_recovered_explicitly(app, db_session, town, clock,
                                                                              smtp_port):
    message = ask(app, db_session, town, clock)
    message.status = "sending"  # another worker claimed it a moment ago
    message.next_attempt_at = clock.now()
    db_session.flush()
    with smtp_server(smtp_port) as inbox:
        assert deliver_due(app).claimed == 0
        assert recover_stuck(app) == [], "not stuck yet"
        clock.advance(minutes=16)
        assert deliver_due(app).claimed == 0, "the worker never retries a row by itself"
        assert recover_stuck(app) == [message.id]
        row = reload(db_session, town, message.id)
        assert row.status == "pending" and row.attempts == 1 and "recovered" in row.last_error
        assert deliver_due(app).sent == [message.id]
    assert len(inbox.envelopes) == 1


def test_a_stopping_worker_puts_unstarted_messages_back(app, db_session, town, clock, smtp_port):
    first = ask(app, db_session, town, clock)
    second = ask(app, db_session, town, clock, reporter_email="an@example.be")
    stop = threading.Event()
    stop.set()
    assert deliver_due(app, stop=stop).claimed == 0
    for message in (first, second):
        row = reload(db_session, town, message.id)
        assert row.status == "pending" and row.attempts == 0


def test_errors_are_stored_without_the_recipient():
    refused = smtplib.SMTPRecipientsRefused({"an@example.be": (550, b"5.1.1 <an@example.be>: unknown user")})
    assert safe_error(refused, "an@example.be") == "SMTPRecipientsRefused: recipient refused (550)"
    rejected = smtplib.SMTPDataError(554, b"Message for an@example.be rejected")
    assert safe_error(rejected, "an@example.be") == "SMTPDataError: 554 Message for [ontvanger] rejected"
    letter = OSError(28, "No space left on device")
    assert safe_error(letter, "An Peeters\nDorpsstraat 1") == "OSError: No space left on device"
    assert len(safe_error(ValueError("x" * 1000), "a@b.be")) == 300


@pytest.fixture
def letter(app, db_session, town, clock, smtp_port):
    """A resident who wants letters: the confirmation becomes a PDF, no e-mail is sent."""
    message = ask(app, db_session, town, clock, preferred_channel="brief", reporter_name="Zoë ‘Brëughel’",
                  reporter_address="Dorpsstraat 1 … bus 2\n9080 Lochristi", reporter_email="zoe@example.be")
    assert message.channel == "brief"
    with smtp_server(smtp_port) as inbox:
        assert deliver_due(app).sent == [message.id]
    assert inbox.envelopes == []
    return reload(db_session, town, message.id)


def test_a_letter_is_a_pdf_in_storage(app, letter, town):
    assert letter.status == "sent" and letter.sent_at is not None
    assert letter.document_key == f"letters/{town.slug}/{letter.id}.pdf"
    with app.app_context():
        pdf = storage().get(letter.document_key)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")


@pytest.mark.skipif(not (DEJAVU / "DejaVuSans.ttf").exists(), reason="fonts-dejavu-core is not installed")
def test_letters_embed_a_unicode_font(app, letter):
    with app.app_context():
        pdf = storage().get(letter.document_key)
    assert b"DejaVuSans" in pdf


def test_without_the_font_a_letter_is_transliterated_not_refused():
    assert to_latin1("‘Zoë’ … 5 € — Łódź") == "'Zoë' ... 5 EUR - Lódz"
    pdf = render_letter(sender="Gemeente Lochristi", recipient="Zoë ‘B’\nDorpsstraat 1", subject="Uw ‘vraag’",
                        body="Dag Zoë, … ĳs", at=datetime.now(UTC),
                        language="fr", font_dir=Path("/nergens"))
    assert pdf.startswith(b"%PDF-")


def staff_client(app, db_session, oidc_provider, tenant, subject, role="onthaal"):
    set_tenant(db_session, tenant.id)
    if role == "behandelaar":
        db_session.add(Department(code="wegen", name="Wegen"))
    grant_role(db_session, oidc_provider, subject, role, "wegen" if role == "behandelaar" else None)
    db_session.flush()
    browser = app.test_client()
    assert login_as(browser, oidc_provider, subject, tenant=tenant.slug).status_code == 302
    return browser


def test_the_front_office_prints_letters_of_its_own_municipality(app, db_session, oidc_provider, letter, town,
                                                                make_tenant, client):
    other = make_tenant("gemeente-b")
    page_url = f"/{town.slug}/balie/afdrukken"
    pdf_url = f"{page_url}/{letter.id}.pdf"

    front_office = staff_client(app, db_session, oidc_provider, town, "a-onthaal")
    page = front_office.get(page_url)
    assert page.status_code == 200
    assert letter.subject in page.text and pdf_url in page.text and "Zoë ‘Brëughel’" in page.text
    download = front_office.get(pdf_url)
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in download.headers["Cache-Control"] and "private" in download.headers["Cache-Control"]
    assert front_office.get(f"{page_url}/{letter.id + 1000}.pdf").status_code == 404

    elsewhere = staff_client(app, db_session, oidc_provider, other, "b-onthaal")
    assert elsewhere.get(page_url).status_code == 404
    assert elsewhere.get(pdf_url).status_code == 404
    assert elsewhere.get(f"/{other.slug}/balie/afdrukken/{letter.id}.pdf").status_code == 404
    own_queue = elsewhere.get(f"/{other.slug}/balie/afdrukken")
    assert own_queue.status_code == 200 and letter.subject not in own_queue.text

    handler = staff_client(app, db_session, oidc_provider, town, "a-behandelaar", role="behandelaar")
    assert handler.get(page_url).status_code == 403 and handler.get(pdf_url).status_code == 403

    for url in (page_url, pdf_url):
        anonymous = client.get(url)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_worker_command_delivers_once(app, db_session, town, clock, smtp_port, runner):
    message = ask(app, db_session, town, clock)
    with smtp_server(smtp_port) as inbox:
        result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 to retry later, 0 failed" in result.output
    assert len(inbox.envelopes) == 1
    assert reload(db_session, town, message.id).status == "sent"


def test_messages_of_every_municipality_are_delivered(app, db_session, town, make_tenant, clock, smtp_port):
    other = make_tenant("gemeente-b", name="Moerbeke")
    set_tenant(db_session, other.id)
    enqueue(db_session, channel="e-mail", recipient="b@example.be", subject="Moerbeke", body="Dag", at=clock.now())
    ask(app, db_session, town, clock)
    with smtp_server(smtp_port) as inbox:
        assert len(deliver_due(app).sent) == 2
    assert sorted(e.rcpt_tos[0] for e in inbox.envelopes) == ["b@example.be", "zoe@example.be"]
    senders = sorted(m["From"] for m in inbox.messages())
    assert "Lochristi" in senders[0] and "Moerbeke" in senders[1]


def test_the_claim_is_one_statement_that_skips_rows_other_workers_lock(app, db_session, town, clock, smtp_port,
                                                                      query_counter, is_postgresql):
    ask(app, db_session, town, clock)
    with query_counter as counted:
        deliver_due(app)
    claims = [s for s in counted.statements if s.lstrip().upper().startswith("UPDATE") and "RETURNING" in s]
    assert len(claims) == 1
    if is_postgresql:
        assert "FOR UPDATE SKIP LOCKED" in claims[0]


def test_operators_see_the_outbox_and_recover_stuck_messages(app, db_session, town, clock, runner):
    message = ask(app, db_session, town, clock)
    message.status, message.next_attempt_at = "sending", clock.now()
    db_session.flush()
    status = runner.invoke(args=["outbox", "status"])
    assert status.exit_code == 0 and "sending  1" in status.output and "pending  0" in status.output
    assert "no messages stuck" in runner.invoke(args=["outbox", "recover"]).output
    clock.advance(minutes=20)
    recovered = runner.invoke(args=["outbox", "recover"])
    assert recovered.exit_code == 0 and f"1 messages back in the queue: {message.id}" in recovered.output
    assert "pending  1" in runner.invoke(args=["outbox", "status"]).output
