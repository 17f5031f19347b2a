"""Retention: questions past their term close and lose their personal content; old reports lose their reporter."""

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.cases.following import confirm, follow_case
from core.cases.handling import add_information, change_state, message_resident
from core.cases.intake import IntakeRequest, submit_case
from core.cases.models import Attachment, Case, CaseEvent, CaseFollower
from core.cases.retention import PURGED_DESCRIPTION
from core.clock import as_utc
from core.outbox.models import OutboxMessage
from core.outbox.worker import deliver_due
from core.storage import storage
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department

INSIDE = (51.101234, 3.824567)  # inside the test kit's square


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def town(db_session, make_tenant):
    return municipality(db_session, make_tenant, "gemeente-a")


def municipality(db_session, make_tenant, slug, **fields):
    tenant = make_tenant(slug, plugins={"openbare_ruimte": {}}, **fields)
    set_tenant(db_session, tenant.id)
    for code, name in (("burgerzaken", "Burgerzaken"), ("milieu", "Milieu")):
        db_session.add(Department(code=code, name=name))
    db_session.flush()
    return tenant


def file_case(app, db_session, tenant, clock, **fields):
    values = {"type_code": "vraag", "description": "Mag ik mijn haag snoeien tot op de rooilijn? Mijn buur "
              "Jan Peeters klaagt.", "reporter_name": "An Peeters", "reporter_email": "an@example.be",
              "reporter_phone": "09 123 45 67", "reporter_address": "Dorpsstraat 1, 9080 Lochristi",
              "lat": INSIDE[0], "lon": INSIDE[1], "address": "Dorpsstraat 1", **fields}
    set_tenant(db_session, tenant.id)
    with app.test_request_context():
        case = submit_case(db_session, tenant, IntakeRequest(**values), channel="web", actor="burger",
                           at=clock.now()).case
    db_session.flush()
    return case


def purge(runner):
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    return result.output


def reload(db_session, tenant, case):
    set_tenant(db_session, tenant.id)  # the purge's session changed the transaction's settings
    db_session.expire_all()
    return db_session.get(Case, case.id)


def count(db_session, model, case):
    return db_session.scalar(select(func.count()).select_from(model).where(model.case_id == case.id))


def test_a_question_untouched_for_30_days_loses_its_personal_content(app, db_session, town, clock, runner):
    question = file_case(app, db_session, town, clock, photos=[photo()], data={})
    with app.test_request_context():
        confirm(follow_case(db_session, town, question, "buur@example.be", clock.now()).follower, clock.now())
        message_resident(db_session, town, question, "Dag An, mag ik uw perceelnummer?", actor="staff:1",
                         at=clock.now())
    db_session.flush()
    key = db_session.scalars(select(Attachment.storage_key).where(Attachment.case_id == question.id)).one()
    created, department = question.created_at, question.department_id
    assert count(db_session, OutboxMessage, question) == 3  # receipt, the follower's confirmation link, message

    clock.advance(days=29, hours=23)
    assert "0 questions purged" in purge(runner)
    assert reload(db_session, town, question).purged_at is None

    clock.advance(hours=1, minutes=1)
    output = purge(runner)
    assert "gemeente-a: 1 questions closed, 1 questions purged, 0 reports anonymised" in output
    question = reload(db_session, town, question)
    assert question.description == PURGED_DESCRIPTION and "Peeters" not in question.description
    assert question.data == {} and question.address is None
    assert (question.reporter_name, question.reporter_email, question.reporter_phone, question.reporter_address,
            question.reporter_account_id, question.preferred_channel) == (None,) * 6
    assert (question.lat, question.lon) == (51.101, 3.825)
    assert as_utc(question.purged_at) == clock.now()
    # The anonymous metadata stays, for trends.
    assert (question.type_code, question.kind, question.channel, question.department_id) == (
        "vraag", "vraag", "web", department)
    assert as_utc(question.created_at) == as_utc(created)
    assert question.status == "afgehandeld" and question.resolution == "verlopen"
    assert as_utc(question.closed_at) == clock.now()
    events = list(db_session.scalars(select(CaseEvent).where(CaseEvent.case_id == question.id)))
    assert all(event.body is None for event in events)
    assert [(e.actor, e.to_status) for e in events if e.kind == "status"] == [("systeem", "afgehandeld")]
    assert count(db_session, CaseFollower, question) == 0
    assert count(db_session, Attachment, question) == 0
    assert count(db_session, OutboxMessage, question) == 0
    with app.app_context(), pytest.raises(FileNotFoundError):
        storage().get(key)

    # Idempotent: a second run finds nothing more to do.
    assert "0 questions closed, 0 questions purged, 0 reports anonymised" in purge(runner)
    assert reload(db_session, town, question).description == PURGED_DESCRIPTION


def test_a_question_with_recent_activity_is_kept(app, db_session, town, clock, runner):
    question = file_case(app, db_session, town, clock)
    clock.advance(days=20)
    add_information(db_session, question, "Het gaat om de haag aan de straatkant.", at=clock.now())
    db_session.flush()
    clock.advance(days=11)
    assert "0 questions purged" in purge(runner)
    question = reload(db_session, town, question)
    assert question.status == "nieuw" and question.reporter_email == "an@example.be" and question.purged_at is None
    assert "haag" in question.description

    clock.advance(days=20)  # 31 days after the resident's last message
    purge(runner)
    assert reload(db_session, town, question).purged_at is not None


def test_a_closed_question_is_purged_too_but_keeps_its_resolution(app, db_session, town, clock, runner):
    question = file_case(app, db_session, town, clock)
    with app.test_request_context():
        change_state(db_session, town, question, "afgehandeld", actor="staff:1", at=clock.now(),
                     resolution="opgelost", note="Tot op de rooilijn mag, An.")
    db_session.flush()
    clock.advance(days=31)
    assert "0 questions closed, 1 questions purged" in purge(runner)
    question = reload(db_session, town, question)
    assert question.resolution == "opgelost" and question.resolution_note is None
    assert question.reporter_name is None


def test_each_municipality_keeps_questions_for_its_own_term(app, db_session, town, make_tenant, clock, runner):
    patient = municipality(db_session, make_tenant, "gemeente-c", question_days=60)
    here = file_case(app, db_session, town, clock)
    there = file_case(app, db_session, patient, clock)
    clock.advance(days=31)
    output = purge(runner)
    assert "gemeente-a: 1 questions closed" in output and "gemeente-c" not in output
    assert reload(db_session, town, here).purged_at is not None
    there = reload(db_session, patient, there)
    assert there.purged_at is None and there.reporter_name == "An Peeters" and there.status == "nieuw"

    clock.advance(days=30)
    assert "gemeente-c: 1 questions closed, 1 questions purged" in purge(runner)
    assert reload(db_session, patient, there).purged_at is not None


@pytest.fixture
def anonymise_after_100_days(db_session, town):
    town.report_anonymise_days = 100
    db_session.flush()


def report(app, db_session, town, clock, close=True):
    case = file_case(app, db_session, town, clock, type_code="zwerfvuil", description="Blikjes langs de Kerkweg",
                     photos=[photo()])
    with app.test_request_context():
        confirm(follow_case(db_session, town, case, "buur@example.be", clock.now()).follower, clock.now())
        message_resident(db_session, town, case, "Dag An, we komen morgen.", actor="staff:1", at=clock.now())
        if close:
            change_state(db_session, town, case, "afgehandeld", actor="staff:1", at=clock.now(), resolution="opgelost")
    db_session.flush()
    return case


def test_reports_lose_their_reporter_after_the_configured_period(app, db_session, town, clock, runner,
                                                                anonymise_after_100_days):
    old = report(app, db_session, town, clock)
    still_open = report(app, db_session, town, clock, close=False)
    clock.advance(days=50)
    recent = report(app, db_session, town, clock)
    clock.advance(days=51)

    assert "gemeente-a: 0 questions closed, 0 questions purged, 1 reports anonymised" in purge(runner)
    old = reload(db_session, town, old)
    assert (old.reporter_name, old.reporter_email, old.reporter_phone, old.reporter_address,
            old.reporter_account_id) == (None,) * 5
    assert old.purged_at is not None
    assert old.description == "Blikjes langs de Kerkweg" and (old.lat, old.lon) == INSIDE
    assert old.status == "afgehandeld" and old.resolution == "opgelost"
    assert count(db_session, CaseFollower, old) == 0
    assert count(db_session, Attachment, old) == 1, "the photo shows the place, not the reporter"
    assert count(db_session, OutboxMessage, old) == 0
    bodies = {e.kind: e.body for e in db_session.scalars(select(CaseEvent).where(CaseEvent.case_id == old.id))}
    assert bodies["message_to_citizen"] is None

    for kept in (still_open, recent):
        kept = reload(db_session, town, kept)
        assert kept.reporter_email == "an@example.be" and kept.purged_at is None
        assert count(db_session, CaseFollower, kept) == 1
    assert "0 reports anonymised" in purge(runner)


def test_letters_of_a_purged_question_go_too_even_one_being_delivered(app, db_session, town, clock, runner):
    question = file_case(app, db_session, town, clock, preferred_channel="brief")
    assert deliver_due(app).sent, "the confirmation letter is in the print queue"
    set_tenant(db_session, town.id)
    with app.test_request_context():
        message_resident(db_session, town, question, "Dag An, hier is uw antwoord.", actor="staff:1",
                         at=clock.now())
    db_session.flush()
    confirmation, answer = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.case_id == question.id).order_by(OutboxMessage.id)).all()
    answer.status = "sending"  # a worker is delivering it while the purge runs
    db_session.flush()
    letter = confirmation.document_key
    clock.advance(days=31)

    assert "1 questions purged" in purge(runner)
    set_tenant(db_session, town.id)
    db_session.expire_all()
    confirmation = db_session.get(OutboxMessage, confirmation.id)
    assert (confirmation.status, confirmation.recipient, confirmation.body, confirmation.document_key) == (
        "sent", "", "", None)
    with app.app_context(), pytest.raises(FileNotFoundError):
        storage().get(letter)
    answer = db_session.get(OutboxMessage, answer.id)
    assert answer.recipient, "left to the worker while it is being delivered"

    answer.status, answer.document_key = "sent", f"letters/{town.slug}/{answer.id}.pdf"  # the worker finishes
    db_session.flush()
    with app.app_context():
        storage().put(answer.document_key, b"%PDF-1.3")
    purge(runner)
    set_tenant(db_session, town.id)
    db_session.expire_all()
    answer = db_session.get(OutboxMessage, answer.id)
    assert (answer.recipient, answer.body, answer.document_key) == ("", "", None)
    with app.app_context(), pytest.raises(FileNotFoundError):
        storage().get(f"letters/{town.slug}/{answer.id}.pdf")
