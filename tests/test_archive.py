"""Closed cases are removed after the municipality's archive term (``archive_days``), with what hangs on them."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.cases.following import confirm, follow_case
from core.cases.handling import change_state, merge, message_resident
from core.cases.intake import IntakeRequest, submit_case
from core.cases.models import Attachment, Case, CaseEvent, CaseFollower
from core.contact.models import ContactMoment
from core.identity.models import Account
from core.outbox.models import OutboxMessage
from core.plugins import hookimpl
from core.plugins.manifest import Manifest
from core.profiles.service import Actor, ensure_profile, record_consent
from core.storage import storage
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department
from plugins.grofvuil.models import Reservation
from plugins.grofvuil.service import plan_round

INSIDE = (51.101234, 3.824567)  # inside the test kit's square
TODAY = date.today()
AT = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
TERM = 365


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(out, format="JPEG")
    return out.getvalue()


def municipality(db_session, make_tenant, slug, plugins=None):
    """A municipality that removes closed cases after a year and keeps reporters for ten (so only the archive
    term touches the cases here)."""
    tenant = make_tenant(slug, plugins={"openbare_ruimte": {}, **(plugins or {})}, archive_days=TERM,
                         report_anonymise_days=3650)
    set_tenant(db_session, tenant.id)
    for code, name in (("burgerzaken", "Burgerzaken"), ("milieu", "Milieu")):
        db_session.add(Department(code=code, name=name))
    db_session.flush()
    return tenant


@pytest.fixture
def town(db_session, make_tenant, clock):
    clock.at = AT
    return municipality(db_session, make_tenant, "gemeente-a", plugins={"grofvuil": {}})


def resident(app, db_session, tenant, subject):
    """A resident who wants a pickup history, so grofvuil's own retention keeps their reservations."""
    set_tenant(db_session, tenant.id)
    account = Account(issuer="https://test-issuer", subject=subject, name=subject)
    db_session.add(account)
    db_session.flush()
    profile = ensure_profile(db_session, account, AT)
    with app.test_request_context():
        record_consent(db_session, tenant, profile, "grofvuil_historiek", True, actor=Actor.resident(),
                       language="nl", at=AT)
    return profile


def report(app, db_session, tenant, clock, *, close=True, **fields):
    """A report with a photo, a confirmed follower and a message to its reporter (outbox rows)."""
    values = {"type_code": "zwerfvuil", "description": "Blikjes langs de Kerkweg", "reporter_name": "An Peeters",
              "reporter_email": "an@example.be", "lat": INSIDE[0], "lon": INSIDE[1], "photos": [photo()], **fields}
    set_tenant(db_session, tenant.id)
    with app.test_request_context():
        case = submit_case(db_session, tenant, IntakeRequest(**values), channel="web", actor="burger",
                           at=clock.now()).case
        confirm(follow_case(db_session, tenant, case, "buur@example.be", clock.now()).follower, clock.now())
        message_resident(db_session, tenant, case, "Dag An, we komen morgen.", actor="staff:1", at=clock.now())
        if close:
            change_state(db_session, tenant, case, "afgehandeld", actor="staff:1", at=clock.now(),
                         resolution="opgelost")
    db_session.flush()
    return case


def pickup(app, db_session, tenant, clock, profile):
    """A closed grofvuil case with its reservation, which references the case."""
    set_tenant(db_session, tenant.id)
    collection = plan_round(db_session, "Zaffelare", TODAY + timedelta(days=3), capacity=10)
    with app.test_request_context():
        case = submit_case(db_session, tenant, IntakeRequest(
            type_code="grofvuil", description="Een oude kast", data={"zone": "Zaffelare", "stuks": 1},
            profile_id=profile.id), channel="web", actor="burger", at=clock.now()).case
        db_session.add(Reservation(round_id=collection.id, case_id=case.id, created_at=clock.now()))
        change_state(db_session, tenant, case, "afgehandeld", actor="staff:1", at=clock.now(), resolution="opgelost")
    db_session.flush()
    return case


def purge(runner):
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    return result.output


def exists(db_session, tenant, case_id):
    set_tenant(db_session, tenant.id)  # the purge's sessions changed the transaction's settings
    db_session.expire_all()
    return db_session.get(Case, case_id) is not None


def count(db_session, model, case_id):
    return db_session.scalar(select(func.count()).select_from(model).where(model.case_id == case_id))


def test_a_closed_case_past_the_term_goes_with_everything_that_hangs_on_it(app, db_session, town, clock, runner):
    profile = resident(app, db_session, town, "an")
    old = report(app, db_session, town, clock)
    moment = ContactMoment(profile_id=profile.id, channel="telefoon", topic="Zwerfvuil", case_id=old.id,
                           outcome="melding_aangemaakt", created_at=clock.now())
    db_session.add(moment)
    db_session.flush()
    old_id, moment_id = old.id, moment.id
    key = db_session.scalars(select(Attachment.storage_key).where(Attachment.case_id == old_id)).one()
    for model in (CaseEvent, CaseFollower, OutboxMessage):
        assert count(db_session, model, old_id) > 0
    still_open = report(app, db_session, town, clock, close=False)  # as old, but never closed
    clock.advance(days=100)
    recent = report(app, db_session, town, clock)

    clock.advance(days=TERM - 100, minutes=-1)
    assert "gemeente-a: 0 questions closed" in purge(runner)
    assert exists(db_session, town, old_id), "one minute before the term the case is still there"

    clock.advance(minutes=2)
    output = purge(runner)
    assert "gemeente-a: 0 questions closed, 0 questions purged, 0 reports anonymised, 0 plugin rows removed, " \
           "1 cases removed after the archive term" in output
    assert not exists(db_session, town, old_id)
    for model in (Attachment, CaseEvent, CaseFollower, OutboxMessage):
        assert count(db_session, model, old_id) == 0, model.__name__
    with app.app_context(), pytest.raises(FileNotFoundError):
        storage().get(key)
    moment = db_session.get(ContactMoment, moment_id)
    assert moment is not None and moment.case_id is None and moment.topic == "Zwerfvuil"
    assert exists(db_session, town, still_open.id) and exists(db_session, town, recent.id)

    assert "0 cases removed after the archive term" in purge(runner)  # idempotent
    assert exists(db_session, town, still_open.id) and exists(db_session, town, recent.id)


def test_a_duplicate_and_the_case_it_was_merged_into_both_go_even_in_separate_batches(
        app, db_session, town, clock, runner, monkeypatch):
    monkeypatch.setattr("core.cases.retention.BATCH", 1)  # the parent goes while the duplicate still points at it
    parent = report(app, db_session, town, clock, close=False)
    duplicate = report(app, db_session, town, clock, close=False)
    with app.test_request_context():
        merge(db_session, town, duplicate, parent, actor="staff:1", at=clock.now())
        change_state(db_session, town, parent, "afgehandeld", actor="staff:1", at=clock.now(), resolution="opgelost")
    db_session.flush()
    ids = (parent.id, duplicate.id)
    clock.advance(days=TERM + 1)
    assert "2 cases removed after the archive term" in purge(runner)
    assert not any(exists(db_session, town, case_id) for case_id in ids)


def test_the_grofvuil_reservation_of_a_removed_case_goes_first(app, db_session, town, clock, runner):
    case_id = pickup(app, db_session, town, clock, resident(app, db_session, town, "kast")).id
    clock.advance(days=TERM + 1)
    assert "gemeente-a: 0 questions closed, 0 questions purged, 0 reports anonymised, 0 plugin rows removed, " \
           "1 cases removed after the archive term" in purge(runner)
    assert not exists(db_session, town, case_id)
    assert db_session.scalar(select(func.count()).select_from(Reservation)) == 0


class Broken:
    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="kapot", version="1", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_cases_removed(self, session, tenant, case_ids):
        raise RuntimeError("the plugin's own bug")


def test_a_failing_plugin_keeps_its_municipalitys_batch_and_the_others_go_on(
        app, db_session, make_tenant, register_plugin, clock, runner, caplog):
    clock.at = AT
    register_plugin(Broken(), "kapot")
    broken = municipality(db_session, make_tenant, "gemeente-k", plugins={"kapot": {}, "grofvuil": {}})
    kept = pickup(app, db_session, broken, clock, resident(app, db_session, broken, "kast")).id
    fine = municipality(db_session, make_tenant, "gemeente-f")
    gone = report(app, db_session, fine, clock).id
    db_session.commit()
    clock.advance(days=TERM + 1)

    output = purge(runner)
    assert "gemeente-k: 0 questions closed, 0 questions purged, 0 reports anonymised, 0 plugin rows removed, " \
           "0 cases removed after the archive term" in output
    assert "gemeente-f: 0 questions closed, 0 questions purged, 0 reports anonymised, 0 plugin rows removed, " \
           "1 cases removed after the archive term" in output
    assert any("plugin kapot failed in fygitaal_cases_removed" in r.getMessage() for r in caplog.records)
    assert exists(db_session, broken, kept)
    assert db_session.scalar(select(func.count()).select_from(Reservation)) == 1, "grofvuil's deletion undone"
    assert count(db_session, CaseEvent, kept) > 0
    assert not exists(db_session, fine, gone)


def test_a_case_still_referenced_by_a_disabled_plugin_is_kept_and_logged(
        app, db_session, make_tenant, clock, runner, caplog):
    clock.at = AT
    tenant = municipality(db_session, make_tenant, "gemeente-s", plugins={"grofvuil": {}})
    kept = pickup(app, db_session, tenant, clock, resident(app, db_session, tenant, "kast")).id
    gone = report(app, db_session, tenant, clock).id
    tenant.plugins = {"openbare_ruimte": {}}  # grofvuil switched off: its hook is no longer called here
    tenant.config_version += 1
    db_session.commit()
    clock.advance(days=TERM + 1)

    assert "0 cases removed after the archive term" in purge(runner)
    assert any("cases of gemeente-s kept for the next run: other rows still reference them" in r.getMessage()
               for r in caplog.records)
    assert exists(db_session, tenant, kept) and exists(db_session, tenant, gone), "nothing half removed"
    assert count(db_session, CaseEvent, gone) > 0 and count(db_session, Attachment, gone) == 1
