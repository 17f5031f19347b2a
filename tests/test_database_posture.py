"""The database itself enforces what the code promises: migrated schema, RLS, a non-owner role."""

import pytest
from sqlalchemy import inspect, text

from core import migrate
from core.db import Base
from core.tenancy.isolation import TenantScoped


def tenant_tables() -> list[str]:
    return sorted(
        mapper.local_table.name
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, TenantScoped)
    )


def test_models_and_migrations_agree(app, db_session):
    """The test database was built by the migrations alone; the models must match it."""
    assert migrate.differences(app, app.config["MIGRATION_DATABASE_URL"]) == []


def test_every_tenant_owned_table_keys_on_tenant(db_session):
    """A link between two tenant-owned tables is composite, so it cannot cross municipalities."""
    inspector = inspect(db_session.get_bind())
    owned = set(tenant_tables())
    for table in owned:
        uniques = [tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)]
        assert ("tenant_id", "id") in uniques, table
        for fk in inspector.get_foreign_keys(table):
            if fk["referred_table"] in owned:
                assert fk["constrained_columns"][0] == "tenant_id", (table, fk)
                assert fk["referred_columns"] == ["tenant_id", "id"], (table, fk)


@pytest.fixture
def postgresql(db_session, is_postgresql):
    if not is_postgresql:
        pytest.skip("the database posture is a PostgreSQL property")
    return db_session


def test_app_role_is_not_privileged(postgresql):
    role = postgresql.execute(
        text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    assert role.rolsuper is False, "the app must not connect as a superuser"
    assert role.rolbypassrls is False, "the app role must not bypass row-level security"
    owners = postgresql.execute(
        text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    ).scalars().all()
    assert role.rolname not in owners, "the app role must not own the tables"


def test_every_tenant_table_forces_row_level_security(postgresql):
    rows = postgresql.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname = ANY(:tables)"
        ),
        {"tables": tenant_tables()},
    ).all()
    assert sorted(r.relname for r in rows) == tenant_tables()
    for row in rows:
        assert row.relrowsecurity and row.relforcerowsecurity, row.relname
        assert row.policies >= 1, row.relname


def test_a_query_with_no_tenant_set_returns_no_rows(postgresql, tenant):
    postgresql.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.id)})
    postgresql.execute(
        text("INSERT INTO department (tenant_id, code, name) VALUES (:t, 'x', 'X')"), {"t": tenant.id}
    )
    assert postgresql.execute(text("SELECT count(*) FROM department")).scalar() == 1
    postgresql.execute(text("SELECT set_config('app.tenant_id', '', true)"))
    for table in tenant_tables():
        assert postgresql.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() == 0, table


def test_the_app_role_cannot_write_for_another_tenant(postgresql, tenant, other_tenant):
    """WITH CHECK: even raw SQL cannot insert a row for B while the transaction is A's."""
    postgresql.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.id)})
    with pytest.raises(Exception, match="row-level security"), postgresql.begin_nested():
        postgresql.execute(
            text("INSERT INTO department (tenant_id, code, name) VALUES (:t, 'y', 'Y')"),
            {"t": other_tenant.id},
        )
