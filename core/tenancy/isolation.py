"""Tenant isolation in the ORM and, on PostgreSQL, in the database itself.

Four layers (DESIGN.md section 4): the :class:`TenantScoped` mixin; one global
``do_orm_execute`` filter that scopes every ORM statement on tenant-owned models and fails closed
(no rows) when no tenant is set; ``before_flush`` stamping ``tenant_id`` and refusing a mismatch;
composite foreign keys ``(tenant_id, parent_id)``. On PostgreSQL every transaction also sets
``app.tenant_id`` for the row-level-security policies (see :mod:`core.tenancy.rls`).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, UniqueConstraint, event, false, text
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.orm.base import instance_state

log = logging.getLogger("fygitaal.audit")

TENANT_KEY = "fygitaal.tenant_id"
ACROSS_TENANTS_KEY = "fygitaal.across_tenants"


class TenantNotSet(RuntimeError):
    """A tenant-owned row was written while the session had no tenant."""


class TenantMismatch(RuntimeError):
    """A tenant-owned row was written for another tenant than the session's."""


class TenantScoped:
    """Mixin for every tenant-owned model: a ``tenant_id`` and a ``(tenant_id, id)`` key.

    Extra table arguments go in ``__tenant_table_args__``; reference a tenant-owned parent with
    :func:`tenant_foreign_key` so the database refuses a link across tenants.
    """

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        extra = tuple(getattr(cls, "__tenant_table_args__", ()))
        return (UniqueConstraint("tenant_id", "id"), *extra)


def tenant_foreign_key(column: str, parent_table: str, **kwargs: Any) -> ForeignKeyConstraint:
    """``(tenant_id, column)`` → ``parent_table(tenant_id, id)``: a link that cannot cross tenants."""
    return ForeignKeyConstraint(
        ["tenant_id", column], [f"{parent_table}.tenant_id", f"{parent_table}.id"], **kwargs
    )


def current_tenant_id(session: Session) -> int | None:
    return session.info.get(TENANT_KEY)


def set_tenant(session: Session, tenant_id: int | None) -> None:
    """Scope the session (and, on PostgreSQL, its open transaction) to one tenant.

    Pending changes are flushed first, under the tenant they were made under (rows added belong to
    it; on PostgreSQL, updates and deletes must pass its row-level security, not the next one's).
    """
    if (session.new or session.dirty or session.deleted) and session.info.get(TENANT_KEY) != tenant_id:
        session.flush()
    session.info[TENANT_KEY] = tenant_id
    _sync_database_setting(session)


@contextmanager
def across_tenants(session: Session, reason: str) -> Iterator[Session]:
    """The one audited escape hatch: service code that must read or write across tenants.

    Every use is logged with its reason and caller. It is a context manager rather than an
    execution option because PostgreSQL's policies must see it too, for the whole transaction.
    """
    if not reason.strip():
        raise ValueError("across_tenants needs a reason that says why isolation is lifted")
    caller = traceback.extract_stack(limit=3)[0]
    log.info(
        "cross-tenant access opened: %s (%s:%s)", reason, caller.filename, caller.lineno
    )
    previous = session.info.get(ACROSS_TENANTS_KEY)
    session.info[ACROSS_TENANTS_KEY] = reason
    _sync_database_setting(session)
    try:
        yield session
    finally:
        session.info[ACROSS_TENANTS_KEY] = previous
        _sync_database_setting(session)


def _settings(session: Session) -> dict[str, str]:
    tenant_id = session.info.get(TENANT_KEY)
    return {
        "tenant": "" if tenant_id is None else str(tenant_id),
        "across": "on" if session.info.get(ACROSS_TENANTS_KEY) else "",
    }


_SET_CONFIG = text(
    "SELECT set_config('app.tenant_id', :tenant, true), set_config('app.all_tenants', :across, true)"
)


def _sync_database_setting(session: Session) -> None:
    if not session.in_transaction():
        return  # after_begin sets it when the next transaction starts
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_SET_CONFIG, _settings(session))


@event.listens_for(Session, "after_begin")
def _set_tenant_for_transaction(session: Session, _transaction: Any, connection: Any) -> None:
    """Transaction-local ``set_config`` (safe with pooled connections; see REFERENCE.md)."""
    if connection.dialect.name == "postgresql":
        connection.execute(_SET_CONFIG, _settings(session))


@event.listens_for(Session, "do_orm_execute")
def _scope_statement_to_tenant(state: ORMExecuteState) -> None:
    """Add ``tenant_id = <session tenant>`` to every ORM select, update and delete."""
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.session.info.get(ACROSS_TENANTS_KEY):
        return
    tenant_id = state.session.info.get(TENANT_KEY)
    if tenant_id is None:
        criteria = with_loader_criteria(
            TenantScoped, lambda cls: false(), include_aliases=True, track_closure_variables=False
        )
    else:
        criteria = with_loader_criteria(
            TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
        )
    state.statement = state.statement.options(criteria)


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, _context: Any, _instances: Any) -> None:
    """New rows get the session's tenant; a row for another tenant, or a moved row, is refused."""
    tenant_id = session.info.get(TENANT_KEY)
    across = bool(session.info.get(ACROSS_TENANTS_KEY))
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise TenantNotSet(f"{type(obj).__name__}: no tenant set on the session")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id and not across:
            raise TenantMismatch(
                f"{type(obj).__name__}: tenant {obj.tenant_id} in a session of tenant {tenant_id}"
            )
    for obj in session.dirty:
        if isinstance(obj, TenantScoped):
            history = instance_state(obj).attrs.tenant_id.history
            if history.deleted and history.deleted[0] is not None:
                raise TenantMismatch(f"{type(obj).__name__}: a row cannot move between tenants")
