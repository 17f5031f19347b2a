"""`fygitaal purge` lets each plugin keep its retention terms (hook ``fygitaal_retention``)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.cases.intake import IntakeRequest, submit_case
from core.identity.models import Account
from core.plugins import hookimpl
from core.plugins.manifest import Manifest
from core.profiles.service import Actor, ensure_profile, record_consent
from core.tenancy.isolation import set_tenant
from plugins.grofvuil.models import Reservation
from plugins.grofvuil.service import plan_round

TODAY = date.today()
AT = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)


@pytest.fixture
def town(make_tenant, db_session, clock):
    clock.at = AT
    tenant = make_tenant("gemeente-r", plugins={"grofvuil": {}})
    set_tenant(db_session, tenant.id)
    return tenant


def resident(app, db_session, tenant, subject, *, history_consent):
    set_tenant(db_session, tenant.id)
    account = Account(issuer="https://test-issuer", subject=subject, name=subject)
    db_session.add(account)
    db_session.flush()
    profile = ensure_profile(db_session, account, AT)
    if history_consent:
        with app.test_request_context():
            record_consent(db_session, tenant, profile, "grofvuil_historiek", True, actor=Actor.resident(),
                           language="nl", at=AT)
    return profile


def pickup(app, db_session, tenant, profile, days_from_today):
    set_tenant(db_session, tenant.id)
    day = TODAY + timedelta(days=days_from_today)
    collection = plan_round(db_session, "Zaffelare", day, capacity=10)
    with app.test_request_context():
        case = submit_case(db_session, tenant, IntakeRequest(
            type_code="grofvuil", description="Een oude kast", data={"zone": "Zaffelare", "stuks": 1},
            profile_id=profile.id), channel="web", actor="burger", at=AT).case
    reservation = Reservation(round_id=collection.id, case_id=case.id, created_at=AT)
    db_session.add(reservation)
    db_session.flush()
    return reservation.id


def reservations(db_session, tenant):
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    return set(db_session.scalars(select(Reservation.id)))


def test_past_pickups_go_after_the_grace_period_unless_the_resident_wants_a_history(app, runner, db_session, town):
    without = resident(app, db_session, town, "zonder-historiek", history_consent=False)
    keeper = resident(app, db_session, town, "met-historiek", history_consent=True)
    old_without = pickup(app, db_session, town, without, -40)
    recent_without = pickup(app, db_session, town, without, -10)  # within the 30 days for a complaint
    coming_without = pickup(app, db_session, town, without, 7)
    old_kept = pickup(app, db_session, town, keeper, -41)
    db_session.commit()

    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "gemeente-r: 0 questions closed, 0 questions purged, 0 reports anonymised, 1 plugin rows removed" \
        in result.output
    assert reservations(db_session, town) == {recent_without, coming_without, old_kept}
    assert old_without not in reservations(db_session, town)

    again = runner.invoke(args=["purge"])
    assert "0 plugin rows removed" in again.output  # idempotent
    assert reservations(db_session, town) == {recent_without, coming_without, old_kept}


class Broken:
    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="kapot", version="1", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_retention(self, session, tenant, at):
        raise RuntimeError("the plugin's own bug")


def test_a_failing_plugin_is_logged_by_name_and_the_others_still_run(
        app, runner, db_session, make_tenant, register_plugin, clock, caplog):
    clock.at = AT
    register_plugin(Broken(), "kapot")
    tenant = make_tenant("gemeente-k", plugins={"kapot": {}, "grofvuil": {}})
    person = resident(app, db_session, tenant, "iemand", history_consent=False)
    old = pickup(app, db_session, tenant, person, -60)
    db_session.commit()

    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "1 plugin rows removed" in result.output
    assert old not in reservations(db_session, tenant)
    assert any("plugin kapot failed in fygitaal_retention" in r.getMessage() for r in caplog.records)
