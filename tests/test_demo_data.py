"""Demo cases: filed and handled through the real services, every state occurs, each case lies in
its own municipality, and a second run creates nothing."""

from datetime import timedelta

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import func, select

from core.cases.demo_data import seed_demo_cases
from core.cases.lifecycle import RESOLUTIONS, STATES
from core.cases.models import Case, CaseEvent
from core.clock import as_utc, now
from core.identity.models import StaffMember
from core.identity.staff import grant_role
from core.outbox.models import OutboxMessage
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department

# Next to the test kit's SQUARE, so a case in the wrong municipality would be caught.
EAST_SQUARE = {"type": "Polygon", "coordinates": [[[3.86, 51.08], [3.90, 51.08], [3.90, 51.12],
                                                   [3.86, 51.12], [3.86, 51.08]]]}
PER_TENANT = 24


@pytest.fixture
def towns(app, db_session, make_tenant):
    towns = [make_tenant("demo-west", plugins={"openbare_ruimte": {}}),
             make_tenant("demo-oost", plugins={"openbare_ruimte": {}}, boundary=EAST_SQUARE)]
    for town in towns:
        set_tenant(db_session, town.id)
        for code, name in (("milieu", "Milieu"), ("openbare_werken", "Openbare werken"),
                           ("burgerzaken", "Burgerzaken")):
            db_session.add(Department(code=code, name=name))
        db_session.flush()
    set_tenant(db_session, towns[0].id)  # the west has a case handler for public works, the east no staff
    grant_role(db_session, "https://idp.test", "west-behandelaar", "behandelaar", "openbare_werken", "Wim West")
    set_tenant(db_session, None)
    return towns


def cases_of(db_session, town):
    set_tenant(db_session, town.id)
    return list(db_session.scalars(select(Case).order_by(Case.id)))


def test_demo_cases_show_every_state_inside_each_municipality(app, db_session, towns, capsys):
    slugs = [t.slug for t in towns]
    with app.app_context():
        assert seed_demo_cases(app, slugs, per_tenant=PER_TENANT, seed=3) == 2 * PER_TENANT
        moment = now()
    printed = capsys.readouterr().out
    assert all(f"{t.name}: {PER_TENANT} meldingen en vragen" in printed for t in towns)

    for town in towns:
        cases = cases_of(db_session, town)
        assert len(cases) == PER_TENANT
        assert {c.status for c in cases} == set(STATES)
        assert {c.resolution for c in cases if c.status == "afgehandeld"} == set(RESOLUTIONS)
        assert all(c.referred_to for c in cases if c.status == "doorverwezen")
        area = shape(town.boundary)
        for case in cases:
            assert case.tenant_id == town.id
            if case.kind == "melding":
                assert case.lat is not None and area.contains(Point(case.lon, case.lat)), case.reference
            else:
                assert case.lat is None and (case.reporter_email or case.reporter_phone or case.reporter_address)
            assert moment - timedelta(days=183) <= as_utc(case.created_at) <= moment
        by_id = {c.id: c for c in cases}
        for merged in (c for c in cases if c.status == "samengevoegd"):
            parent = by_id[merged.merged_into_id]
            assert parent.type_code == merged.type_code and parent.id != merged.id
        assert len({c.reference for c in cases}) == PER_TENANT
        assert len({c.channel for c in cases}) >= 4
        assert any(c.preferred_channel == "brief" and c.reporter_address for c in cases)
        assert any(not (c.reporter_email or c.reporter_phone or c.reporter_address) for c in cases)
        events = list(db_session.scalars(select(CaseEvent).order_by(CaseEvent.id)))
        assert {"created", "status", "note", "message_to_citizen", "merged", "merged_in",
                "assigned"} <= {e.kind for e in events}
        for case in cases:  # the history is in time order and starts with the filing
            history = [e for e in events if e.case_id == case.id]
            assert history[0].kind == "created"
            assert [as_utc(e.created_at) for e in history] == sorted(as_utc(e.created_at) for e in history)
            assert as_utc(history[-1].created_at) <= moment
        assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) > 0
        staff_actors = {e.actor for e in events if e.actor.startswith("staff:")}
        if town is towns[0]:
            handler = db_session.scalar(select(StaffMember.id))
            assert f"staff:{handler}" in staff_actors and any(c.assignee_id == handler for c in cases)
        else:
            assert staff_actors == {"staff:0"} and all(c.assignee_id is None for c in cases)

    with app.app_context():
        assert seed_demo_cases(app, slugs, per_tenant=PER_TENANT, seed=3) == 0
    assert "has cases already" in capsys.readouterr().out
    assert [len(cases_of(db_session, t)) for t in towns] == [PER_TENANT, PER_TENANT]
