"""The access log: appended as a keyed hash chain per municipality, verified by the CLI, shown to the resident."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from core.identity.models import Account
from core.profiles.access_log import GENESIS, record_access
from core.profiles.models import AccessLogEntry
from core.profiles.service import ensure_profile
from core.tenancy.isolation import set_tenant
from core.testing.fixtures import login_as

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SECRET = "test-secret"  # the test kit's SECRET_KEY, which `audit verify` uses


def log_three(db_session, tenant, profile_id, who="Mona (onthaal)"):
    set_tenant(db_session, tenant.id)
    rows = [record_access(db_session, instance_secret=SECRET, tenant_id=tenant.id, profile_id=profile_id,
                          actor_kind="medewerker", actor_label=who, reason=f"Vraag {n} aan de balie",
                          shown=["profiel", "meldingen", "email"], at=AT + timedelta(minutes=n))
            for n in (1, 2, 3)]
    db_session.commit()
    return rows


def verify(runner, db_session, tenant):
    result = runner.invoke(args=["audit", "verify"])
    set_tenant(db_session, tenant.id)  # the CLI's session shares the test's connection
    return result


def raw(db_session, tenant, statement, **params):
    set_tenant(db_session, tenant.id)
    db_session.execute(text(statement), {"tenant": tenant.id, **params})
    db_session.commit()


@pytest.fixture
def chain(db_session, tenant):
    return log_three(db_session, tenant, profile_id=12345)


def test_rows_are_appended_with_sequence_numbers_and_chained_hashes(chain):
    assert [row.seq for row in chain] == [1, 2, 3]
    assert chain[0].prev_hash == GENESIS
    assert [row.prev_hash for row in chain[1:]] == [row.entry_hash for row in chain[:-1]]
    assert len({row.entry_hash for row in chain}) == 3


def test_an_untouched_chain_is_intact(runner, db_session, tenant, chain):
    result = verify(runner, db_session, tenant)
    assert result.exit_code == 0, result.output
    assert f"{tenant.slug}: intact" in result.output and "access log intact" in result.output


def test_a_changed_row_is_found(runner, db_session, tenant, chain):
    raw(db_session, tenant, "UPDATE access_log_entry SET reason = 'niets aan de hand' "
                            "WHERE tenant_id = :tenant AND seq = 2")
    result = verify(runner, db_session, tenant)
    assert result.exit_code != 0
    assert f"{tenant.slug} row 2: was changed after it was written" in result.output


def test_a_deleted_middle_row_is_found(runner, db_session, tenant, chain):
    raw(db_session, tenant, "DELETE FROM access_log_entry WHERE tenant_id = :tenant AND seq = 2")
    result = verify(runner, db_session, tenant)
    assert result.exit_code != 0
    assert f"{tenant.slug} row 2: rows 2–2 are missing" in result.output


def test_a_deleted_last_row_is_found_by_the_head(runner, db_session, tenant, chain):
    raw(db_session, tenant, "DELETE FROM access_log_entry WHERE tenant_id = :tenant AND seq = 3")
    result = verify(runner, db_session, tenant)
    assert result.exit_code != 0
    assert f"{tenant.slug} row 3: rows after 2 are missing (the chain ended at 3)" in result.output


def test_the_resident_sees_who_looked_and_other_municipalities_stay_apart(
        app, client, runner, db_session, tenant, other_tenant, oidc_provider):
    login_as(client, oidc_provider, "toegang-an")
    account = db_session.scalar(select(Account).where(Account.subject == "toegang-an"))
    profiles = {}
    for town in (tenant, other_tenant):
        set_tenant(db_session, town.id)
        profiles[town.id] = ensure_profile(db_session, account, AT).id
    db_session.commit()
    log_three(db_session, tenant, profiles[tenant.id], who="Mona (onthaal A)")
    log_three(db_session, other_tenant, profiles[other_tenant.id], who="Bart (onthaal B)")

    for town in (tenant, other_tenant):  # each municipality has its own chain, from 1
        set_tenant(db_session, town.id)
        assert list(db_session.scalars(select(AccessLogEntry.seq).order_by(AccessLogEntry.seq))) == [1, 2, 3]
    assert verify(runner, db_session, tenant).exit_code == 0

    page = client.get(f"/mijn/{tenant.slug}/toegang")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Mona (onthaal A)" in page.text and "Vraag 3 aan de balie" in page.text
    assert "Profielgegevens, Meldingen en vragen, E-mailadres" in page.text
    assert "10:33" in page.text, "shown in Brussels time (UTC+1 in March)"
    assert "Bart (onthaal B)" not in page.text
    assert "Mona (onthaal A)" not in client.get(f"/mijn/{other_tenant.slug}/toegang").text
