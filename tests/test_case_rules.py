"""Rules that protect residents when cases are found, merged, reopened or purged."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.cases import following, handling
from core.cases.intake import IntakeRequest, case_by_token, nearby_open_cases, submit_case
from core.cases.models import Case, CaseFollower
from core.cases.retention import purge
from core.outbox.models import OutboxMessage
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HERE = (51.10, 3.82)


@pytest.fixture
def town(app, db_session, make_tenant):
    tenant = make_tenant("gemeente-a", plugins={"openbare_ruimte": {}})
    set_tenant(db_session, tenant.id)
    for code in ("milieu", "openbare_werken", "burgerzaken"):
        db_session.add(Department(code=code, name=code))
    db_session.flush()
    return tenant


def file(app, db_session, town, at=AT, **fields):
    values = {"type_code": "zwerfvuil", "description": "Blikjes", "lat": HERE[0], "lon": HERE[1], **fields}
    with app.test_request_context():
        return submit_case(db_session, town, IntakeRequest(**values), channel="web", actor="burger", at=at)


def test_a_question_is_never_offered_as_a_duplicate(app, db_session, town):
    file(app, db_session, town, type_code="vraag", description="Mijn dossier bij het OCMW",
         reporter_email="peeters@example.be")
    assert nearby_open_cases(db_session, "vraag", *HERE, 500) == []


def test_the_follow_step_refuses_questions(app, client, db_session, town):
    question = file(app, db_session, town, type_code="vraag", description="Persoonlijk",
                    reporter_email="peeters@example.be").case
    client.get(f"/{town.slug}/melding")
    token = client.get(f"/{town.slug}/melding?type=zwerfvuil").text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(f"/{town.slug}/melding/volgen", data={
        "csrf_token": token, "type": "vraag", "referentie": question.reference, "lat": HERE[0], "lon": HERE[1],
        "email": "nieuwsgierig@example.be"})
    assert response.status_code == 404
    assert db_session.scalars(select(CaseFollower)).all() == []


def test_reopening_forgets_the_old_outcome(app, db_session, town):
    case = file(app, db_session, town).case
    with app.test_request_context():
        handling.change_state(db_session, town, case, "afgehandeld", actor="staff:1", at=AT, resolution="opgelost",
                              note="Opgeraapt")
        handling.give_satisfaction(db_session, case, False, at=AT)
        with pytest.raises(handling.HandlingError, match="al gezegd"):
            handling.give_satisfaction(db_session, case, True, at=AT)
        handling.request_reopen(db_session, case, "Er ligt nog meer", at=AT)
    assert case.status == "heropend"
    assert (case.resolution, case.resolution_note, case.referred_to, case.satisfied) == (None, None, None, None)


def test_merging_carries_followers_and_earlier_duplicates_along(app, db_session, town):
    first = file(app, db_session, town).case
    second = file(app, db_session, town).case
    third = file(app, db_session, town, reporter_email="derde@example.be").case
    with app.test_request_context():
        handling.merge(db_session, town, first, second, actor="staff:1", at=AT)
        buur = following.follow_case(db_session, town, second, "buur@example.be", AT).follower
        following.confirm(buur, AT)
        following.follow_case(db_session, town, second, "vreemde@example.be", AT)
        following.confirm(following.follow_case(db_session, town, third, "buur@example.be", AT).follower, AT)
        handling.merge(db_session, town, second, third, actor="staff:1", at=AT)
        db_session.expire_all()
        assert db_session.get(Case, first.id).merged_into_id == third.id
        # Confirmed or not as before; an address that followed both is one follower of the parent.
        moved = db_session.scalars(select(CaseFollower).order_by(CaseFollower.email)).all()
        assert [(f.case_id, f.email, f.confirmed_at is not None) for f in moved] == [
            (third.id, "buur@example.be", True), (third.id, "vreemde@example.be", False)]
        question = file(app, db_session, town, type_code="vraag", reporter_email="x@example.be").case
        with pytest.raises(handling.HandlingError, match="niet samengevoegd"):
            handling.merge(db_session, town, question, db_session.get(Case, third.id), actor="staff:1", at=AT)


def test_a_purged_question_cannot_gain_personal_content_again(app, db_session, town):
    result = file(app, db_session, town, type_code="vraag", description="Persoonlijke vraag",
                  reporter_email="peeters@example.be")
    purge(app, AT + timedelta(days=31))
    set_tenant(db_session, town.id)  # purge's own sessions share this test's connection and its settings
    db_session.expire_all()
    case = db_session.get(Case, result.case.id)
    assert case.purged_at is not None
    assert case_by_token(db_session, result.follow_token) is None, "the follow-up link is dead"
    with app.test_request_context():
        for action in (lambda: handling.request_reopen(db_session, case, "Mijn rijksregisternummer is …", at=AT),
                       lambda: handling.change_state(db_session, town, case, "heropend", actor="staff:1", at=AT),
                       lambda: handling.message_resident(db_session, town, case, "Dag", actor="staff:1", at=AT)):
            with pytest.raises(handling.HandlingError, match="gearchiveerd"):
                action()
    assert db_session.scalars(select(OutboxMessage).where(OutboxMessage.body.like("%Dag%"))).all() == []
