"""``fygitaal demo``: a complete local platform with realistic data, in one command."""

from __future__ import annotations

import json
import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from alembic import command
from flask import Flask
from oidc_provider_mock import User
from oidc_provider_mock import app as oidc_provider_app
from sqlalchemy import select
from werkzeug.serving import make_server

from core import migrate
from core.db import database, utcnow
from core.tenancy.service import apply_tenants, list_tenants, working_for

STAFF_ROLES = ("onthaal", "behandelaar", "beheerder")
RESIDENTS = (
    ("inwoner-an", "An Vermeulen"),
    ("inwoner-karim", "Karim El Amrani"),
)


def demo_users(tenants: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Everyone who can log in to the demo: residents, staff of every municipality, the region."""
    users: list[dict[str, Any]] = [
        {"role": "inwoner", "tenant": None, "sub": sub, "name": name} for sub, name in RESIDENTS
    ]
    for tenant in tenants:
        for role in STAFF_ROLES:
            users.append({
                "role": role, "tenant": tenant["slug"], "sub": f"{tenant['slug']}-{role}",
                "name": f"{role.capitalize()} {tenant['name']}",
            })
    users.append({"role": "regio", "tenant": None, "sub": "regio-veneco",
                  "name": "Coördinator Veneco"})
    return users


def _seed_grofvuil(tenants: list[dict[str, str]]) -> None:
    """Collection rounds for the pilot municipality (only where the plugin is enabled)."""
    from plugins.grofvuil.models import Round
    from plugins.grofvuil.service import plan_round

    zones = ("Lochristi-centrum", "Zaffelare", "Zeveneken", "Beervelde")
    for tenant in tenants:
        with working_for(tenant["slug"]) as (session, record):
            if not record.has_plugin("grofvuil") or session.scalar(select(Round.id).limit(1)):
                continue
            start = utcnow().date()
            for week, zone in enumerate(zones * 2):
                plan_round(session, zone, start + timedelta(days=7 * week + 3), capacity=40)


def prepare_demo(app: Flask, reset: bool) -> list[dict[str, str]]:
    """Migrate, apply ``tenants/``, seed; return the municipalities."""
    if reset:
        click.echo("Resetting the demo database …")
        command.downgrade(migrate.alembic_config(app), "base")
    click.echo("Migrating the database …")
    migrate.upgrade(app)
    click.echo("Applying the municipalities in tenants/ …")
    registry = app.extensions["fygitaal.plugins"]
    with database(app).session_scope() as session:
        for result in apply_tenants(session, Path(app.config["TENANTS_DIR"]), registry):
            click.echo(f"  {result.slug}: {result.outcome}")
        tenants = [{"slug": t.slug, "name": t.name} for t in list_tenants(session)]
    click.echo("Seeding demo data …")
    if "grofvuil" in registry.plugins:
        _seed_grofvuil(tenants)
    return tenants


def _serve_in_thread(wsgi_app: Any, host: str, port: int) -> Any:
    server = make_server(host, port, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_demo(app: Flask, host: str, port: int, idp_port: int, reset: bool) -> None:
    """Prepare the demo, start the OIDC provider and the app; Ctrl-C stops both."""
    tenants = prepare_demo(app, reset)
    users = demo_users(tenants)
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on loopback only
    claims = [User(sub=u["sub"], claims={"name": u["name"], "email": f"{u['sub']}@demo.fygitaal.be"})
              for u in users]
    idp = _serve_in_thread(oidc_provider_app(user_claims=claims), host, idp_port)
    server = make_server(host, port, app, threaded=True)
    base_url = f"http://{host}:{server.server_port}"
    idp_url = f"http://{host}:{idp.server_port}"
    manifest = {"base_url": base_url, "idp_url": idp_url, "tenants": tenants, "users": users}
    path = Path(app.instance_path) / "demo.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    _print_welcome(manifest, path)
    try:
        server.serve_forever()  # werkzeug returns from here on Ctrl-C
    finally:
        click.echo("\nStopping the demo …")
        server.server_close()
        idp.shutdown()


def _print_welcome(manifest: dict[str, Any], path: Path) -> None:
    click.echo("")
    click.echo(f"Fygitaal demo      {manifest['base_url']}/")
    click.echo(f"OpenID provider    {manifest['idp_url']}/  (local oidc-provider-mock)")
    for tenant in manifest["tenants"]:
        click.echo(f"  {tenant['name']:<16} {manifest['base_url']}/{tenant['slug']}/")
    click.echo("")
    click.echo("Demo accounts (at the provider, type the subject; no password needed):")
    for user in manifest["users"]:
        where = user["tenant"] or "platform"
        click.echo(f"  {user['role']:<12} {where:<14} sub={user['sub']}")
    click.echo("")
    click.echo(f"Everything above is also in {path}. Press Ctrl-C to stop.")
