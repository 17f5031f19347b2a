"""The ``fygitaal`` command line: a thin adapter over the service functions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from core import migrate
from core.app import create_app
from core.db import database
from core.identity.cli import clients_group, staff_group
from core.outbox.cli import outbox_group, purge_command, worker_command
from core.plugins.hookdocs import render_hook_reference
from core.profiles.cli import audit_group
from core.tenancy.files import TenantConfigError
from core.tenancy.service import apply_tenants, list_tenants


def _registry():
    return current_app.extensions["fygitaal.plugins"]


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False,
             load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """Fygitaal: the shared citizen-service platform for municipalities."""


# --- db ---------------------------------------------------------------------------------------


@main.group("db")
def db_group() -> None:
    """Database migrations."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Upgrade the database to every head (core and all plugins)."""
    migrate.upgrade(current_app)
    click.echo("database is up to date")


@db_group.command("check")
@click.option("--database-url", help="Compare with this already migrated database instead.")
@with_appcontext
def db_check(database_url: str | None) -> None:
    """Fail when the models and the migrations disagree."""
    diff = migrate.differences(current_app, database_url)
    if diff:
        for item in diff:
            click.echo(f"  {item}", err=True)
        raise click.ClickException(
            f"models and migrations disagree ({len(diff)} differences); write an Alembic revision "
            "(`alembic revision --autogenerate` in the right branch) and review it"
        )
    click.echo("models and migrations agree")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--branch", default="core", show_default=True, help="core, or a plugin's name.")
@click.option("--new-branch-in", type=click.Path(path_type=Path),
              help="Start a plugin's branch in this migrations/versions folder.")
@click.option("--depends-on", help="The core revision a new plugin branch needs.")
@with_appcontext
def db_revision(message: str, branch: str, new_branch_in: Path | None,
                depends_on: str | None) -> None:
    """Autogenerate a revision from the models; review it before committing."""
    migrate.new_revision(current_app, message, branch, new_branch_in, depends_on)


# --- tenants ----------------------------------------------------------------------------------


@main.group("tenants")
def tenants_group() -> None:
    """Municipalities, declared in tenants/<slug>.toml."""


@tenants_group.command("apply")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@with_appcontext
def tenants_apply(directory: Path | None) -> None:
    """Apply the tenant files in DIRECTORY (default: tenants/): all or nothing."""
    directory = directory or Path(current_app.config["TENANTS_DIR"])
    try:
        with database().session_scope() as session:
            results = apply_tenants(session, directory, _registry())
    except TenantConfigError as exc:
        for message in exc.messages:
            click.echo(message, err=True)
        raise click.ClickException("nothing was applied; fix the files above and run again") from exc
    for result in results:
        click.echo(f"{result.slug}: {result.outcome}")


@tenants_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def tenants_list(as_json: bool) -> None:
    """List the municipalities on this instance."""
    with database().session_scope() as session:
        rows = [
            {"slug": t.slug, "name": t.name, "nis_code": t.nis_code, "region": t.region.slug,
             "languages": t.languages, "plugins": sorted(t.plugins or {})}
            for t in list_tenants(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        plugins = ", ".join(row["plugins"]) or "-"
        click.echo(f"{row['slug']:<20} {row['name']:<24} {row['nis_code']}  {row['region']:<12} {plugins}")


# --- plugins ----------------------------------------------------------------------------------


@main.group("plugins")
def plugins_group() -> None:
    """Installed plugins."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def plugins_list(as_json: bool) -> None:
    """Show each plugin: manifest, hooks and the municipalities that enabled it."""
    registry = _registry()
    with database().session_scope() as session:
        tenants = list_tenants(session)
    plugins = [
        {**info.manifest.as_dict(), "hooks": info.hooks,
         "enabled_for": [t.slug for t in tenants if t.has_plugin(name)]}
        for name, info in sorted(registry.plugins.items())
    ]
    failed = [{"name": n, "reason": r} for n, r in sorted(registry.failed.items())]
    if as_json:
        click.echo(json.dumps({"plugins": plugins, "failed": failed}, indent=2, ensure_ascii=False))
        return
    for plugin in plugins:
        click.echo(f"{plugin['name']} {plugin['version']} ({plugin['maturity']}, {plugin['owner']})")
        click.echo(f"  hooks: {', '.join(plugin['hooks'])}")
        click.echo(f"  enabled for: {', '.join(plugin['enabled_for']) or '-'}")
        if plugin["maturity"] == "pilot":
            click.echo(f"  pilot tenants: {', '.join(plugin['pilot_tenants']) or '-'}")
    for item in failed:
        click.echo(f"{item['name']} FAILED: {item['reason']}")


@plugins_group.command("hookdocs")
@with_appcontext
def plugins_hookdocs() -> None:
    """Print the hook reference (docs/hooks.md) generated from the hookspec docstrings."""
    sys.stdout.write(render_hook_reference())


main.add_command(staff_group)
main.add_command(clients_group)
main.add_command(worker_command)
main.add_command(purge_command)
main.add_command(outbox_group)


# --- demo -------------------------------------------------------------------------------------


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--idp-port", default=5001, show_default=True, type=int)
@click.option("--reset", is_flag=True, help="Delete the demo database and start over.")
@click.option("--smtp-port", default=0, show_default=True, type=int,
              help="Port of the local SMTP sink that keeps the demo's mail (0: a free port).")
@with_appcontext
def demo(host: str, port: int, idp_port: int, reset: bool, smtp_port: int) -> None:
    """Migrate, apply tenants/, seed demo data, start the app, a local OIDC provider, an SMTP sink and the worker."""
    from core.demo import run_demo

    run_demo(current_app._get_current_object(), host=host, port=port, idp_port=idp_port, reset=reset,
             smtp_port=smtp_port)
main.add_command(audit_group)
