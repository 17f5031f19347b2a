"""``fygitaal audit verify``: check every municipality's access-log chain."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.db import database
from core.profiles.access_log import verify_chain
from core.tenancy.isolation import set_tenant
from core.tenancy.service import list_tenants


@click.group("audit")
def audit_group() -> None:
    """The access log that residents see in /mijn."""


@audit_group.command("verify")
@click.option("--tenant", "slug", help="Only this municipality (default: all).")
@with_appcontext
def audit_verify(slug: str | None) -> None:
    """Find access-log rows that were changed or deleted in the database; exit 1 if any."""
    secret = current_app.config["SECRET_KEY"]
    broken = 0
    with database().session_scope() as session:
        tenants = [t for t in list_tenants(session) if slug in (None, t.slug)]
        if slug and not tenants:
            raise click.ClickException(f"municipality {slug!r} does not exist; see `fygitaal tenants list`")
        for tenant in tenants:
            set_tenant(session, tenant.id)
            problems = verify_chain(session, instance_secret=secret, tenant_id=tenant.id)
            broken += len(problems)
            click.echo(f"{tenant.slug}: {'intact' if not problems else f'{len(problems)} problem(s)'}")
            for problem in problems:
                click.echo(f"  {tenant.slug} row {problem.seq}: {problem.problem}", err=True)
    if broken:
        raise click.ClickException(f"the access log was tampered with: {broken} problem(s) above")
    click.echo("access log intact")
