"""``fygitaal staff …`` and ``fygitaal clients …``: thin adapters over the identity services."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from core.db import database
from core.identity import api_clients
from core.identity import staff as staff_service
from core.identity.models import TENANT_ROLES, ApiClient
from core.identity.providers import ProviderNotConfigured, platform_provider, staff_provider
from core.tenancy.models import Region
from core.tenancy.service import working_for

EXPECTED_ERRORS = (staff_service.StaffError, api_clients.ApiClientError, LookupError, ProviderNotConfigured)


def _clear_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Expected service errors become one clear line and exit code 1, not a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except EXPECTED_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc

    return run


@click.group("staff")
def staff_group() -> None:
    """A municipality's staff and the region's coordinators."""


@staff_group.command("grant")
@click.argument("tenant")
@click.argument("subject")
@click.argument("role", type=click.Choice(TENANT_ROLES))
@click.option("--department", help="The department's code (required for a behandelaar).")
@click.option("--name", default="", help="The person's name, until their first login.")
@with_appcontext
@_clear_errors
def staff_grant(tenant: str, subject: str, role: str, department: str | None, name: str) -> None:
    """Give SUBJECT (their id at the staff identity provider) ROLE in municipality TENANT."""
    with working_for(tenant) as (session, record):
        staff_service.grant_role(session, staff_provider(record).issuer, subject, role, department, name)
    click.echo(f"{tenant}: {subject} is now {role}" + (f" ({department})" if department else ""))


@staff_group.command("revoke")
@click.argument("tenant")
@click.argument("subject")
@click.argument("role", type=click.Choice(TENANT_ROLES))
@click.option("--department", help="The department's code, for a behandelaar.")
@with_appcontext
@_clear_errors
def staff_revoke(tenant: str, subject: str, role: str, department: str | None) -> None:
    """Take ROLE away from SUBJECT in municipality TENANT."""
    with working_for(tenant) as (session, record):
        staff_service.revoke_named_role(session, staff_provider(record).issuer, subject, role, department)
    click.echo(f"{tenant}: {subject} is no longer {role}")


@staff_group.command("deactivate")
@click.argument("tenant")
@click.argument("subject")
@with_appcontext
@_clear_errors
def staff_deactivate(tenant: str, subject: str) -> None:
    """Deactivate SUBJECT in TENANT: every session of the person ends at once."""
    with working_for(tenant) as (session, record):
        member = staff_service.staff_by_subject(session, staff_provider(record).issuer, subject)
        staff_service.set_active(session, member.id, False)
    click.echo(f"{tenant}: {subject} is deactivated; their sessions have ended")


@staff_group.command("list")
@click.argument("tenant")
@with_appcontext
@_clear_errors
def staff_list(tenant: str) -> None:
    """List the staff of TENANT with their roles."""
    with working_for(tenant) as (session, _record):
        for member in staff_service.list_staff(session):
            roles = ", ".join(
                r.role + (f" ({r.department.code})" if r.department else "") for r in member.roles
            )
            state = "" if member.active else "  [deactivated]"
            click.echo(f"{member.account.subject:<28} {member.account.name:<28} {roles}{state}")


@staff_group.command("coordinator")
@click.argument("region")
@click.argument("subject")
@click.option("--name", default="")
@with_appcontext
@_clear_errors
def staff_coordinator(region: str, subject: str, name: str) -> None:
    """Make SUBJECT (at the platform's provider) a coordinator of REGION."""
    with database().session_scope() as session:
        record = session.scalar(select(Region).where(Region.slug == region))
        if record is None:
            raise LookupError(f"no region {region!r}; regions come from the tenant files")
        staff_service.grant_coordinator(session, record, platform_provider().issuer, subject, name)
    click.echo(f"{region}: {subject} is now a regional coordinator")


@click.group("clients")
def clients_group() -> None:
    """API clients of a municipality (OAuth2 client credentials, Open311 api_key)."""


@clients_group.command("create")
@click.argument("tenant")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(sorted(api_clients.SCOPES)))
@click.option("--open311", is_flag=True, help="Also issue an Open311 api_key bound to this client.")
@with_appcontext
@_clear_errors
def clients_create(tenant: str, name: str, scopes: tuple[str, ...], open311: bool) -> None:
    """Create a client for TENANT; its secret is shown now and never again."""
    with working_for(tenant) as (session, record):
        created = api_clients.create_client(session, record, name, list(scopes), open311=open311)
    click.echo(f"client_id:     {created.client_id}")
    click.echo(f"client_secret: {created.client_secret}")
    if created.api_key:
        click.echo(f"api_key:       {created.api_key}")
    click.echo("Store the secret now: only a hash is kept.")


@clients_group.command("list")
@click.argument("tenant")
@with_appcontext
@_clear_errors
def clients_list(tenant: str) -> None:
    """List TENANT's API clients (never their secrets)."""
    with working_for(tenant) as (session, record):
        rows = session.scalars(
            select(ApiClient).where(ApiClient.tenant_id == record.id).order_by(ApiClient.name)
        )
        for client in rows:
            open311 = " open311" if client.open311_key_hash else ""
            click.echo(f"{client.client_id:<32} {client.name:<30} {' '.join(client.scopes)}{open311}")
