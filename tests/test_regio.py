"""The regional console shows the coordinator's region in aggregate, and nothing personal."""

from core.identity.staff import grant_coordinator, grant_role
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Region
from core.testing.fixtures import login_as


def test_a_coordinator_sees_counts_for_their_region_only(client, oidc_provider, db_session, tenant, make_tenant):
    elsewhere = Region(slug="elders", name="Andere regio")
    far = make_tenant("verweg")
    far.region = elsewhere
    set_tenant(db_session, tenant.id)
    grant_role(db_session, oidc_provider, "a-onthaal", "onthaal", name="Olga Onthaal")
    set_tenant(db_session, None)
    grant_coordinator(db_session, tenant.region, oidc_provider, "coordinator")
    db_session.flush()
    login_as(client, oidc_provider, "coordinator")
    page = client.get("/regio/")
    assert page.status_code == 200
    assert tenant.name in page.text and "Verweg" not in page.text
    assert "<td>1</td>" in page.text  # one active staff member, as a number
    assert "Olga" not in page.text and "a-onthaal" not in page.text


def test_staff_and_residents_get_403_at_the_console(client, oidc_provider, db_session, tenant):
    login_as(client, oidc_provider, "inwoner-y")
    assert client.get("/regio/").status_code == 403
