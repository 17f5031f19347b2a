"""PostgreSQL row-level security for tenant-owned tables, used from Alembic revisions.

The policy compares ``tenant_id`` with the transaction-local setting ``app.tenant_id`` (unset
reads as ``''``, hence ``nullif``), or lets rows through while service code holds the audited
``across_tenants`` escape hatch. ``FORCE`` makes the table owner obey it too. On SQLite these
functions do nothing: there the ORM filter is the isolation.
"""

from __future__ import annotations

from typing import Any

POLICY_NAME = "tenant_isolation"

_CONDITION = (
    "(tenant_id = nullif(current_setting('app.tenant_id', true), '')::integer"
    " OR current_setting('app.all_tenants', true) = 'on')"
)


def _is_postgresql(op: Any) -> bool:
    return op.get_bind().dialect.name == "postgresql"


def enable_tenant_rls(op: Any, table: str) -> None:
    """Turn on forced row-level security with the tenant policy for ``table``."""
    if not _is_postgresql(op):
        return
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY {POLICY_NAME} ON "{table}" USING {_CONDITION} WITH CHECK {_CONDITION}'
    )


def disable_tenant_rls(op: Any, table: str) -> None:
    """The downgrade of :func:`enable_tenant_rls`."""
    if not _is_postgresql(op):
        return
    op.execute(f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
