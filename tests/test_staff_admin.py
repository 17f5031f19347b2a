"""Municipal admins manage their own staff (page and command line); nothing reaches another municipality."""

import pytest
from sqlalchemy import select

from core.identity.models import StaffMember, StaffRole
from core.identity.staff import StaffError, grant_role, list_staff
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department
from core.testing.fixtures import login_as


@pytest.fixture
def admin(client, oidc_provider, db_session, tenant):
    """Logged in as the admin of municipality A, which has a department 'wegen'."""
    set_tenant(db_session, tenant.id)
    db_session.add(Department(code="wegen", name="Wegen"))
    db_session.flush()
    grant_role(db_session, oidc_provider, "a-beheerder", "beheerder", name="Anna Admin")
    assert login_as(client, oidc_provider, "a-beheerder", tenant=tenant.slug).status_code == 302
    return client


def token(client, path):
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def roles_in(db_session, tenant):
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    return sorted((m.account.subject, r.role) for m in list_staff(db_session) for r in m.roles)


def test_the_admin_sees_and_grants_roles(admin, tenant, db_session):
    page = admin.get(f"/{tenant.slug}/beheer/")
    assert page.status_code == 200 and "Anna Admin" in page.text
    response = admin.post(f"/{tenant.slug}/beheer/medewerkers", data={
        "csrf_token": token(admin, f"/{tenant.slug}/beheer/"), "subject": "a-nieuw", "role": "behandelaar",
        "department": "wegen", "name": "Nieuwe Collega"})
    assert response.status_code == 303
    assert ("a-nieuw", "behandelaar") in roles_in(db_session, tenant)
    assert "De rol is toegekend" in admin.get(f"/{tenant.slug}/beheer/").text


@pytest.mark.parametrize(("form", "message"), [
    ({"subject": "", "role": "onthaal"}, "Vul het aanmeld-id"),
    ({"subject": "x", "role": "koning"}, "Onbekende rol"),
    ({"subject": "x", "role": "behandelaar"}, "heeft een dienst nodig"),
    ({"subject": "x", "role": "behandelaar", "department": "nergens"}, "bestaat niet; kies uit"),
    ({"subject": "x", "role": "onthaal", "department": "wegen"}, "Alleen een behandelaar"),
    ({"subject": "a-beheerder", "role": "beheerder"}, "al."),
])
def test_bad_grants_are_refused_clearly_and_change_nothing(admin, tenant, db_session, form, message):
    before = roles_in(db_session, tenant)
    response = admin.post(f"/{tenant.slug}/beheer/medewerkers",
                          data={"csrf_token": token(admin, f"/{tenant.slug}/beheer/"), **form})
    assert response.status_code == 400
    assert message in response.text
    assert roles_in(db_session, tenant) == before


def test_revoke_and_deactivate(admin, tenant, db_session, oidc_provider):
    set_tenant(db_session, tenant.id)
    granted = grant_role(db_session, oidc_provider, "a-onthaal", "onthaal")
    db_session.flush()
    staff_id, role_id = granted.staff_id, granted.id
    csrf = token(admin, f"/{tenant.slug}/beheer/")
    assert admin.post(f"/{tenant.slug}/beheer/medewerkers/{staff_id}/rollen/{role_id}/intrekken",
                      data={"csrf_token": csrf}).status_code == 303
    assert ("a-onthaal", "onthaal") not in roles_in(db_session, tenant)
    assert admin.post(f"/{tenant.slug}/beheer/medewerkers/{staff_id}/actief",
                      data={"csrf_token": csrf, "actief": "nee"}).status_code == 303
    set_tenant(db_session, tenant.id)
    assert db_session.get(StaffMember, staff_id).active is False


def test_another_municipalitys_staff_cannot_be_touched(admin, tenant, other_tenant, db_session, oidc_provider):
    set_tenant(db_session, other_tenant.id)
    theirs = grant_role(db_session, oidc_provider, "b-onthaal", "onthaal")
    db_session.flush()
    csrf = token(admin, f"/{tenant.slug}/beheer/")
    base = f"/{tenant.slug}/beheer/medewerkers/{theirs.staff_id}"
    assert admin.post(f"{base}/rollen/{theirs.id}/intrekken", data={"csrf_token": csrf}).status_code == 404
    assert admin.post(f"{base}/actief", data={"csrf_token": csrf, "actief": "nee"}).status_code == 404
    assert "b-onthaal" not in admin.get(f"/{tenant.slug}/beheer/").text
    set_tenant(db_session, other_tenant.id)
    db_session.expire_all()
    assert db_session.get(StaffMember, theirs.staff_id).active is True
    assert db_session.get(StaffRole, theirs.id) is not None
    # And A's admin asking for B's admin page gets 404 too.
    assert admin.get(f"/{other_tenant.slug}/beheer/").status_code == 404


def test_staff_cli_grant_list_revoke_deactivate(runner, tenant, db_session, oidc_provider):
    set_tenant(db_session, tenant.id)
    db_session.add(Department(code="wegen", name="Wegen"))
    db_session.flush()
    result = runner.invoke(args=["staff", "grant", tenant.slug, "c-jan", "behandelaar", "--department", "wegen",
                                 "--name", "Jan"])
    assert result.exit_code == 0, result.output
    assert "c-jan" in runner.invoke(args=["staff", "list", tenant.slug]).output
    refused = runner.invoke(args=["staff", "grant", tenant.slug, "c-jan", "behandelaar"])
    assert refused.exit_code == 1 and "heeft een dienst nodig" in refused.output
    assert runner.invoke(args=["staff", "revoke", tenant.slug, "c-jan", "behandelaar", "--department",
                               "wegen"]).exit_code == 0
    assert runner.invoke(args=["staff", "deactivate", tenant.slug, "c-jan"]).exit_code == 0
    assert "[deactivated]" in runner.invoke(args=["staff", "list", tenant.slug]).output
    unknown = runner.invoke(args=["staff", "deactivate", tenant.slug, "niemand"])
    assert unknown.exit_code == 1 and "is geen medewerker van deze gemeente" in unknown.output


def test_staff_cli_coordinator(runner, tenant, db_session):
    assert runner.invoke(args=["staff", "coordinator", "testregio", "r-coord"]).exit_code == 0
    again = runner.invoke(args=["staff", "coordinator", "testregio", "r-coord"])
    assert again.exit_code == 1 and "coördineert testregio al" in again.output
    missing = runner.invoke(args=["staff", "coordinator", "nergens", "r-coord"])
    assert missing.exit_code == 1 and "no region 'nergens'" in missing.output


def test_the_service_refuses_a_duplicate_role(db_session, tenant, oidc_provider):
    set_tenant(db_session, tenant.id)
    grant_role(db_session, oidc_provider, "x", "onthaal")
    with pytest.raises(StaffError, match="heeft de rol onthaal al"):
        grant_role(db_session, oidc_provider, "x", "onthaal")
    assert db_session.scalars(select(StaffRole)).all()[0].role == "onthaal"
