"""A tenant-owned row of municipality B is invisible to a session of A, through every path."""

import logging
from datetime import date

import pytest
from sqlalchemy import delete, exc, func, select, text, update
from sqlalchemy.orm import joinedload, selectinload

from core.tenancy.isolation import TenantMismatch, TenantNotSet, across_tenants, set_tenant
from core.tenancy.models import Department
from plugins.grofvuil.models import Round, Zone


@pytest.fixture
def two_tenants(db_session, tenant, other_tenant):
    """A and B each with one zone holding one round; the session ends scoped to A."""
    ids = {}
    for record, label in ((tenant, "A"), (other_tenant, "B")):
        set_tenant(db_session, record.id)
        zone = Zone(name=f"zone {label}")
        db_session.add(Round(zone=zone, day=date(2026, 12, 1), capacity=10))
        db_session.flush()
        ids[label] = {"zone": zone.id, "round": zone.rounds[0].id}
    set_tenant(db_session, tenant.id)
    db_session.expunge_all()
    return ids


def test_select_sees_only_own_rows(db_session, two_tenants):
    names = db_session.scalars(select(Zone.name)).all()
    assert names == ["zone A"]
    assert db_session.scalar(select(func.count()).select_from(Round)) == 1


def test_get_of_another_tenants_row_is_none(db_session, two_tenants):
    assert db_session.get(Zone, two_tenants["B"]["zone"]) is None
    assert db_session.get(Zone, two_tenants["A"]["zone"]).name == "zone A"


def test_join_with_explicit_on_clause_is_scoped(db_session, two_tenants):
    rows = db_session.execute(
        select(Round.id, Zone.name).join(Zone, Round.zone_id == Zone.id)
    ).all()
    assert rows == [(two_tenants["A"]["round"], "zone A")]
    # Even when the join goes out of its way to reach B's zone, B's rows stay hidden.
    crossed = db_session.execute(
        select(Round.id, Zone.id).join(Zone, Zone.id == two_tenants["B"]["zone"])
    ).all()
    assert crossed == []


@pytest.mark.parametrize("loader", [None, selectinload, joinedload])
def test_relationship_loads_are_scoped(db_session, two_tenants, loader):
    statement = select(Zone)
    if loader is not None:
        statement = statement.options(loader(Zone.rounds))
    zones = db_session.scalars(statement).unique().all()
    assert [z.name for z in zones] == ["zone A"]
    assert [r.id for r in zones[0].rounds] == [two_tenants["A"]["round"]]


def test_lazy_load_from_an_object_created_in_the_session_is_scoped(db_session, tenant, other_tenant):
    set_tenant(db_session, other_tenant.id)
    hidden = Zone(name="zone B")
    db_session.add(hidden)
    db_session.flush()
    set_tenant(db_session, tenant.id)
    round_a = Round(zone=Zone(name="zone A"), day=date(2026, 12, 1), capacity=5)
    db_session.add(round_a)
    db_session.flush()
    db_session.expire(round_a)
    assert round_a.zone.name == "zone A"
    db_session.expunge_all()
    assert db_session.get(Zone, hidden.id) is None


def test_orm_update_and_delete_do_not_reach_another_tenant(db_session, two_tenants, tenant, other_tenant):
    db_session.execute(update(Zone).values(name="renamed"))
    db_session.execute(delete(Round))
    set_tenant(db_session, other_tenant.id)
    db_session.expunge_all()
    assert db_session.scalars(select(Zone.name)).all() == ["zone B"]
    assert db_session.scalar(select(func.count()).select_from(Round)) == 1
    set_tenant(db_session, tenant.id)
    assert db_session.scalars(select(Zone.name)).all() == ["renamed"]
    assert db_session.scalar(select(func.count()).select_from(Round)) == 0


def test_no_tenant_set_returns_no_rows(db_session, two_tenants):
    set_tenant(db_session, None)
    assert db_session.scalars(select(Zone)).all() == []
    assert db_session.get(Zone, two_tenants["A"]["zone"]) is None


def test_new_rows_are_stamped_with_the_session_tenant(db_session, tenant):
    set_tenant(db_session, tenant.id)
    department = Department(code="wegen", name="Wegen")
    db_session.add(department)
    db_session.flush()
    assert department.tenant_id == tenant.id


def test_writing_without_a_tenant_is_refused(db_session, tenant):
    set_tenant(db_session, None)
    db_session.add(Department(code="wegen", name="Wegen"))
    with pytest.raises(TenantNotSet):
        db_session.flush()


def test_writing_for_another_tenant_is_refused(db_session, tenant, other_tenant):
    set_tenant(db_session, tenant.id)
    db_session.add(Department(code="wegen", name="Wegen", tenant_id=other_tenant.id))
    with pytest.raises(TenantMismatch):
        db_session.flush()


def test_a_row_cannot_move_to_another_tenant(db_session, two_tenants, other_tenant):
    zone = db_session.get(Zone, two_tenants["A"]["zone"])
    zone.tenant_id = other_tenant.id
    with pytest.raises(TenantMismatch):
        db_session.flush()


def test_database_refuses_a_link_across_tenants(db_session, two_tenants, tenant):
    """The composite foreign key: A's round pointing at B's zone is refused by the database."""
    statement = text(
        "INSERT INTO grofvuil_ronde (tenant_id, zone_id, day, capacity) VALUES (:t, :z, :d, 1)"
    )
    with pytest.raises(exc.IntegrityError), db_session.begin_nested():
        db_session.execute(statement, {"t": tenant.id, "z": two_tenants["B"]["zone"], "d": date(2027, 1, 1)})


def test_across_tenants_is_the_audited_escape_hatch(db_session, two_tenants, caplog):
    with (
        caplog.at_level(logging.INFO, logger="fygitaal.audit"),
        across_tenants(db_session, "test: count rounds for the region"),
    ):
        assert db_session.scalar(select(func.count()).select_from(Round)) == 2
    assert "test: count rounds for the region" in caplog.text
    assert db_session.scalar(select(func.count()).select_from(Round)) == 1


def test_across_tenants_needs_a_reason(db_session):
    with pytest.raises(ValueError, match="reason"), across_tenants(db_session, " "):
        pass


def test_raw_sql_is_scoped_by_row_level_security(db_session, two_tenants, is_postgresql):
    """On PostgreSQL the database itself hides B's rows, even from hand-written SQL."""
    if not is_postgresql:
        pytest.skip("row-level security exists on PostgreSQL only; SQLite relies on the ORM filter")
    rows = db_session.execute(text("SELECT name FROM grofvuil_zone ORDER BY name")).scalars().all()
    assert rows == ["zone A"]
    updated = db_session.execute(text("UPDATE grofvuil_zone SET name = 'x'"))
    assert updated.rowcount == 1
    set_tenant(db_session, None)
    assert db_session.execute(text("SELECT count(*) FROM grofvuil_zone")).scalar() == 0
    assert db_session.execute(text("SELECT count(*) FROM department")).scalar() == 0


def test_rows_belong_to_the_tenant_they_were_added_under(db_session, tenant, other_tenant):
    set_tenant(db_session, tenant.id)
    mine = Department(code="wegen", name="Wegen")
    db_session.add(mine)
    set_tenant(db_session, other_tenant.id)
    theirs = Department(code="groen", name="Groen")
    db_session.add(theirs)
    db_session.flush()
    assert (mine.tenant_id, theirs.tenant_id) == (tenant.id, other_tenant.id)


def test_changes_are_written_under_the_tenant_they_were_made_under(db_session, two_tenants, tenant, other_tenant):
    zone = db_session.get(Zone, two_tenants["A"]["zone"])
    zone.name = "hernoemd"
    set_tenant(db_session, other_tenant.id)
    db_session.flush()
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    assert db_session.get(Zone, two_tenants["A"]["zone"]).name == "hernoemd"


def test_column_only_selects_and_outer_joins_are_scoped(db_session, two_tenants):
    """The back-office queue selects columns, not objects, with an outer join: still A's rows only."""
    rows = db_session.execute(
        select(Round.id, Zone.name).outerjoin(Zone, (Zone.tenant_id == Round.tenant_id) & (Zone.id == Round.zone_id))
    ).all()
    assert rows == [(two_tenants["A"]["round"], "zone A")]
    assert db_session.scalars(select(Zone.id)).all() == [two_tenants["A"]["zone"]]
