"""The pilot's own process: a pickup request checks the zone and reserves a place in a round."""

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.cases.intake import IntakeError, IntakeRequest, announce, submit_case
from core.cases.models import Case, CaseEvent
from core.cases.types import case_types_for
from core.outbox.models import OutboxMessage
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department
from core.toolkit import Manifest, hookimpl
from plugins.grofvuil.models import Reservation
from plugins.grofvuil.service import plan_round

NOW = datetime.now(UTC)


@pytest.fixture
def pilot(app, db_session, make_tenant):
    tenant = make_tenant("pilootgemeente", plugins={"grofvuil": {"max_items": 4}})
    set_tenant(db_session, tenant.id)
    db_session.add(Department(code="milieu", name="Milieu"))
    plan_round(db_session, "Zaffelare", date.today() + timedelta(days=5), capacity=1)
    plan_round(db_session, "Zaffelare", date.today() + timedelta(days=12), capacity=5)
    db_session.flush()
    return tenant


def request_pickup(db_session, tenant, **data):
    return submit_case(db_session, tenant, IntakeRequest(
        type_code="grofvuil", description="Een oude zetel en een kast", data={"zone": "Zaffelare", "stuks": 2, **data},
        reporter_email="karim@example.be"), channel="web", actor="burger", at=NOW)


def test_only_the_pilot_municipality_offers_the_pickup(app, pilot, make_tenant):
    other = make_tenant("andere")
    with app.test_request_context():
        assert "grofvuil" in case_types_for(pilot)
        assert "grofvuil" not in case_types_for(other)


def test_a_pickup_is_personal_never_public(app, pilot):
    """It carries someone's home address: no duplicate suggestions to others, not an Open311 service."""
    with app.test_request_context():
        pickup = case_types_for(pilot)["grofvuil"]
    assert pickup.kind == "melding" and not pickup.public


def test_a_pickup_reserves_the_next_round_with_room(app, db_session, pilot):
    with app.test_request_context():
        first = request_pickup(db_session, pilot).case
        db_session.commit()
        announce(pilot, first, db_session)
        second = request_pickup(db_session, pilot).case
        db_session.commit()
        announce(pilot, second, db_session)
    set_tenant(db_session, pilot.id)
    days = {r.case_id: r.round.day for r in db_session.scalars(select(Reservation))}
    assert days[first.id] == date.today() + timedelta(days=5)
    assert days[second.id] == date.today() + timedelta(days=12), "the first round had one place"
    told = db_session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == second.id,
                                                          OutboxMessage.subject.like("Bericht%"))).one()
    assert (date.today() + timedelta(days=12)).strftime("%d/%m/%Y") in told.body


@pytest.mark.parametrize(("data", "message"), [({"zone": "Nergens"}, "Onbekende zone"),
                                               ({"stuks": 9}, "hoogstens 4 stuks"),
                                               ({"stuks": "veel"}, "Geef bij ‘Aantal stuks’ een getal.")])
def test_the_plugin_refuses_what_it_cannot_collect(app, db_session, pilot, data, message):
    with app.test_request_context(), pytest.raises(IntakeError) as refused:
        request_pickup(db_session, pilot, **data)
    assert message in str(refused.value.errors)
    assert db_session.scalar(select(func.count()).select_from(Case)) == 0


class Broken:
    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="kapot", version="1", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_case_created(self, session, tenant, case):
        raise RuntimeError("boem")


def test_a_failing_plugin_never_loses_the_case(app, db_session, make_tenant, register_plugin, caplog):
    register_plugin(Broken(), "kapot")
    tenant = make_tenant("met-kapotte-plugin", plugins={"kapot": {}, "openbare_ruimte": {}})
    set_tenant(db_session, tenant.id)
    with app.test_request_context():
        result = submit_case(db_session, tenant, IntakeRequest(
            type_code="zwerfvuil", description="Blikjes", lat=51.1, lon=3.82), channel="web", actor="burger", at=NOW)
        db_session.commit()
        with caplog.at_level(logging.ERROR):
            announce(tenant, result.case, db_session)
    assert "plugin kapot failed in fygitaal_case_created" in caplog.text
    set_tenant(db_session, tenant.id)
    assert db_session.get(Case, result.case.id).reference.startswith("ZV-")
    assert db_session.scalar(select(func.count()).select_from(CaseEvent)) == 1
