"""Every staff and admin route × every role: allowed roles pass, others get 403, other municipalities 404.

The routes are taken from ``app.url_map`` (every view that declares ``required_permission``), so a
new protected route is covered the moment it exists.
"""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.cases.intake import IntakeRequest, submit_case
from core.identity.models import Account, StaffMember
from core.identity.policy import TENANT_PERMISSIONS
from core.identity.staff import grant_coordinator, grant_role
from core.knowledge.service import ArticleContent, adopt, create_regional
from core.outbox.models import OutboxMessage
from core.profiles.models import ErasureRequest, Profile
from core.storage import storage
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department
from core.testing.fixtures import login_as

PERSONAS = ["anonymous", "resident", "a-onthaal", "a-behandelaar", "a-beheerder", "b-beheerder", "coordinator"]


def protected_routes(app):
    routes = []
    for rule in app.url_map.iter_rules():
        permission = getattr(app.view_functions[rule.endpoint], "required_permission", None)
        if permission is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule, method, permission))
    return routes


def route_ids(app_routes):
    return [f"{method} {rule.rule}" for rule, method, _ in app_routes]


def letter_case(app, db_session, tenant):
    """A question from a resident who wants letters, with its confirmation letter printed."""
    with app.test_request_context():
        case = submit_case(db_session, tenant, IntakeRequest(
            type_code="vraag", description="Matrix", reporter_name="Marc", reporter_address="Dorp 1, 9080 Lochristi",
            preferred_channel="brief"), channel="brief", actor="burger", at=datetime(2026, 1, 5, tzinfo=UTC)).case
        letter = db_session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)).one()
        letter.document_key = f"letters/{tenant.slug}/{letter.id}.pdf"
        storage().put(letter.document_key, b"%PDF-1.4 matrix")
    return case, letter


def erasure_request(db_session):
    """An open request to erase, in the session's municipality."""
    at = datetime(2026, 1, 5, tzinfo=UTC)
    profile = Profile(name="Marc", created_by="inwoner", created_at=at, updated_at=at)
    db_session.add(profile)
    db_session.flush()
    request = ErasureRequest(profile_id=profile.id, purposes=["contact_email"], created_at=at)
    db_session.add(request)
    db_session.flush()
    return request


def adopted_article(db_session, tenant):
    """A regional article of the municipality's region, adopted by it (the session's municipality)."""
    at = datetime(2026, 1, 5, tzinfo=UTC)
    content = ArticleContent(question={"nl": "Vraag?"}, answer={"nl": "Antwoord."}, topics=())
    return adopt(db_session, tenant, create_regional(db_session, tenant.region_id, "matrix", content, at).id, at)


@pytest.fixture
def world(app, db_session, oidc_provider, tenant, other_tenant, make_tenant):
    """Municipality A with one staff member per role and a case with a letter, B with an admin,
    and a coordinator of A's region."""
    ids = {}
    set_tenant(db_session, tenant.id)
    db_session.add(Department(code="wegen", name="Wegen"))
    db_session.flush()
    for role in ("onthaal", "behandelaar", "beheerder"):
        department = "wegen" if role == "behandelaar" else None
        granted = grant_role(db_session, oidc_provider, f"a-{role}", role, department)
        ids[role] = (granted.staff_id, granted.id)
    case, letter = letter_case(app, db_session, tenant)
    erasure = erasure_request(db_session)
    article = adopted_article(db_session, tenant)
    set_tenant(db_session, other_tenant.id)
    grant_role(db_session, oidc_provider, "b-beheerder", "beheerder")
    set_tenant(db_session, None)
    grant_coordinator(db_session, tenant.region, oidc_provider, "coordinator")
    db_session.flush()
    return {"tenant": tenant, "target": ids["onthaal"], "reference": case.reference, "message_id": letter.id,
            "request_id": erasure.id, "profile_id": erasure.profile_id, "article_id": article.id,
            "regional_id": article.source_id}


def log_in(client, oidc_provider, persona, world):
    if persona == "anonymous":
        return
    staff_tenant = {"a": world["tenant"].slug, "b": "gemeente-b"}.get(persona.split("-")[0])
    if persona in ("resident", "coordinator"):
        staff_tenant = None
    subject = {"resident": "inwoner-x"}.get(persona, persona)
    response = login_as(client, oidc_provider, subject, tenant=staff_tenant)
    assert response.status_code == 302, persona


def expected(persona, permission):
    if persona == "anonymous":
        return "login"
    if permission == "regio":
        return "allow" if persona == "coordinator" else 403
    if not persona.startswith("a-"):
        return 404  # not staff of this municipality: no existence oracle
    role = persona.split("-", 1)[1]
    return "allow" if permission in TENANT_PERMISSIONS[role] else 403


def build_url(rule, world):
    staff_id, role_id = world["target"]
    values = {"tenant": world["tenant"].slug, "staff_id": staff_id, "role_id": role_id,
              "reference": world["reference"], "message_id": world["message_id"], "request_id": world["request_id"],
              "profile_id": world["profile_id"], "article_id": world["article_id"], "regional_id": world["regional_id"]}
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def csrf_token(client):
    page = client.get("/").text
    return page.split('name="csrf_token" value="')[1].split('"')[0]


@pytest.mark.parametrize("persona", PERSONAS)
def test_role_route_matrix(app, client, oidc_provider, world, persona):
    routes = protected_routes(app)
    assert routes, "no protected routes found"
    log_in(client, oidc_provider, persona, world)
    token = csrf_token(client)
    failures = []
    for rule, method, permission in routes:
        url = build_url(rule, world)
        data = None if method == "GET" else {"csrf_token": token}
        response = client.open(url, method=method, data=data)
        want = expected(persona, permission)
        got = response.status_code
        if want == "login":
            ok = got == 302 and "/login" in response.headers["Location"]
        elif want == "allow":
            ok = got not in (401, 403, 404) and not (got == 302 and "/login" in response.headers.get("Location", ""))
        else:
            ok = got == want
        if not ok:
            failures.append(f"{method} {url}: expected {want}, got {got}")
    assert not failures, "\n".join(failures)


def test_the_matrix_covers_the_admin_and_regional_routes(app):
    permissions = {permission for _rule, _method, permission in protected_routes(app)}
    assert {"beheer", "regio"} <= permissions


def test_a_deactivated_staff_member_is_treated_as_not_staff(client, oidc_provider, world, db_session):
    log_in(client, oidc_provider, "a-beheerder", world)
    assert client.get(f"/{world['tenant'].slug}/beheer/").status_code == 200
    set_tenant(db_session, world["tenant"].id)
    account = db_session.scalar(select(Account).where(Account.subject == "a-beheerder"))
    staff = db_session.scalar(select(StaffMember).where(StaffMember.account_id == account.id))
    staff.active = False
    db_session.flush()
    assert client.get(f"/{world['tenant'].slug}/beheer/").status_code == 404
