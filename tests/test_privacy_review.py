"""Defects found in the privacy review of profiles, the access log, erasure and the desk, each pinned by a test."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from core.identity.models import Account
from core.identity.staff import grant_role
from core.profiles import erasure
from core.profiles.access_log import record_access
from core.profiles.models import ConsentRecord, ErasureRequest
from core.profiles.service import Actor, ensure_profile, record_consent
from core.tenancy.isolation import set_tenant
from core.testing.fixtures import login_as

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SECRET = "test-secret"  # the test kit's SECRET_KEY, which `audit verify` uses


def test_a_tail_deleted_together_with_the_head_row_is_found(runner, db_session, tenant):
    """Deleting the last rows and the head row left a chain that `audit verify` called intact."""
    set_tenant(db_session, tenant.id)
    for n in (1, 2, 3):
        record_access(db_session, instance_secret=SECRET, tenant_id=tenant.id, profile_id=7, actor_kind="medewerker",
                      actor_label="Mona (onthaal)", reason="aan de balie", shown=["name"],
                      at=AT + timedelta(minutes=n))
    db_session.commit()
    set_tenant(db_session, tenant.id)
    db_session.execute(text("DELETE FROM access_log_entry WHERE tenant_id = :t AND seq = 3"), {"t": tenant.id})
    db_session.execute(text("DELETE FROM access_log_head WHERE tenant_id = :t"), {"t": tenant.id})
    db_session.commit()

    result = runner.invoke(args=["audit", "verify"])
    set_tenant(db_session, tenant.id)  # the CLI's session shares the test's connection on PostgreSQL

    assert result.exit_code != 0
    assert f"{tenant.slug} row 3: the head row is missing" in result.output


def test_an_erasure_request_handled_meanwhile_by_another_admin_is_not_carried_out_again(app, db_session, tenant,
                                                                                      oidc_provider):
    """Two admins open the queue; the second one's click came after the first carried the request out."""
    set_tenant(db_session, tenant.id)
    staff_id = grant_role(db_session, oidc_provider, "beheerder-1", "beheerder").staff_id
    account = Account(issuer="https://test-issuer", subject="inwoner-wis", name="Wis Mij")
    db_session.add(account)
    db_session.flush()
    profile = ensure_profile(db_session, account, AT)
    profile.email = "wis@example.be"
    with app.test_request_context():
        record_consent(db_session, tenant, profile, "contact_email", True, actor=Actor.resident(), language="nl",
                       at=AT)
        request = erasure.request_erasure(db_session, tenant, profile, ["contact_email"], AT)
    db_session.commit()
    set_tenant(db_session, tenant.id)
    stale = db_session.get(ErasureRequest, request.id)
    assert stale is not None and stale.status == erasure.OPEN
    # The first admin's transaction (another connection in real life) carried it out and committed.
    db_session.execute(text("UPDATE erasure_request SET status = 'uitgevoerd' WHERE id = :id"), {"id": request.id})
    records_before = len(db_session.scalars(select(ConsentRecord.id)).all())

    with app.test_request_context(), pytest.raises(erasure.ErasureError, match="al afgehandeld"):
        erasure.carry_out(db_session, tenant, stale, staff_id, AT + timedelta(hours=1))

    db_session.rollback()
    set_tenant(db_session, tenant.id)
    assert len(db_session.scalars(select(ConsentRecord.id)).all()) == records_before  # no second withdrawal


def test_the_national_number_search_is_rate_limited(app, client, db_session, tenant, oidc_provider):
    """Decision pinned: the hashed search is a POST, so the per-address POST limit bounds guessing numbers."""
    set_tenant(db_session, tenant.id)
    grant_role(db_session, oidc_provider, "onthaal-rrn", "onthaal")
    db_session.commit()
    assert login_as(client, oidc_provider, "onthaal-rrn", tenant=tenant.slug).status_code == 302
    page = client.get(f"/{tenant.slug}/balie/")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    limit = int(app.config["RATELIMIT_POST"].split()[0])
    answers = [client.post(f"/{tenant.slug}/balie/rijksregisternummer",
                           data={"csrf_token": csrf, "rijksregisternummer": "85073003328"}).status_code
               for _ in range(limit + 1)]
    assert answers[0] == 200 and answers[-1] == 429
