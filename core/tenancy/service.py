"""Service functions for municipalities: apply the declarative files, list, look up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import database, utcnow
from core.plugins.manager import PluginRegistry
from core.tenancy.files import TenantFile, read_tenant_directory
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department, Region, Tenant

TENANT_FIELDS = ("name", "nis_code", "languages", "boundary", "identity", "plugins", "case_types",
                 "question_days", "report_anonymise_days", "archive_days", "purposes")


@dataclass(frozen=True)
class ApplyResult:
    slug: str
    outcome: str  # "created", "updated" or "unchanged"


def tenant_by_slug(session: Session, slug: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.slug == slug))


@contextmanager
def working_for(slug: str) -> Iterator[tuple[Session, Tenant]]:
    """A committed unit of work for one municipality outside a request (CLI, jobs)."""
    with database().session_scope() as session:
        tenant = tenant_by_slug(session, slug)
        if tenant is None:
            raise LookupError(f"municipality {slug!r} does not exist; see `fygitaal tenants list`")
        set_tenant(session, tenant.id)
        yield session, tenant


TENANT_CACHES = ("fygitaal.case_types", "fygitaal.boundaries", "fygitaal.purposes")


def forget_tenant_caches(app: Flask) -> None:
    """Drop everything cached per (tenant id, config version): hook callers, case types, shapes.

    The caches key on the configuration version, so production never needs this; it is for a
    tenant that is deleted and for tests, which roll back and reuse ids.
    """
    app.extensions["fygitaal.plugins"].forget_tenants()
    for name in TENANT_CACHES:
        app.extensions.get(name, {}).clear()


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.name)))


def _region(session: Session, slug: str, name: str) -> Region:
    region = session.scalar(select(Region).where(Region.slug == slug))
    if region is None:
        region = Region(slug=slug, name=name)
        session.add(region)
        session.flush()
    elif region.name != name:
        region.name = name
    return region


def _sync_departments(session: Session, tenant: Tenant, wanted: list[dict[str, str]]) -> bool:
    """Make the tenant's departments match the file; True when anything changed."""
    set_tenant(session, tenant.id)
    existing = {d.code: d for d in session.scalars(select(Department))}
    changed = False
    for item in wanted:
        department = existing.pop(item["code"], None)
        if department is None:
            session.add(Department(code=item["code"], name=item["name"]))
            changed = True
        elif department.name != item["name"]:
            department.name = item["name"]
            changed = True
    for department in existing.values():
        session.delete(department)
        changed = True
    session.flush()
    set_tenant(session, None)
    return changed


def _apply_one(session: Session, tenant_file: TenantFile) -> str:
    data: dict[str, Any] = tenant_file.data
    region = _region(session, data["region"]["slug"], data["region"]["name"])
    tenant = tenant_by_slug(session, data["slug"])
    outcome = "unchanged"
    if tenant is None:
        tenant = Tenant(slug=data["slug"], region=region, config_version=1,
                        **{f: data[f] for f in TENANT_FIELDS})
        session.add(tenant)
        session.flush()
        outcome = "created"
    else:
        changes = {f: data[f] for f in TENANT_FIELDS if getattr(tenant, f) != data[f]}
        if tenant.region_id != region.id:
            tenant.region = region
            changes["region"] = region
        if changes:
            for name, value in changes.items():
                setattr(tenant, name, value)
            outcome = "updated"
    if _sync_departments(session, tenant, data["departments"]) and outcome == "unchanged":
        outcome = "updated"
    if outcome == "updated":
        tenant.config_version += 1
        tenant.updated_at = utcnow()
    return outcome


def apply_tenants(session: Session, directory: Path, registry: PluginRegistry) -> list[ApplyResult]:
    """Apply every tenant file in ``directory``: all or nothing, and idempotent.

    Raises :class:`core.tenancy.files.TenantConfigError` before touching the database when any
    file is invalid. The caller commits.
    """
    files = read_tenant_directory(directory, registry)
    return [ApplyResult(f.data["slug"], _apply_one(session, f)) for f in files]
