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
from core.identity import api_clients
from core.identity.models import TENANT_ROLES
from core.identity.providers import platform_provider
from core.identity.staff import StaffError, grant_coordinator, grant_role
from core.tenancy.models import Region
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


def _grant_demo_roles(app: Flask, users: list[dict[str, Any]]) -> None:
    """Every demo user gets the role the manifest gives them (idempotent)."""
    issuer = platform_provider().issuer
    for user in users:
        try:
            if user["role"] in TENANT_ROLES:
                department = "openbare_werken" if user["role"] == "behandelaar" else None
                with working_for(user["tenant"]) as (session, _tenant):
                    grant_role(session, issuer, user["sub"], user["role"], department, user["name"])
            elif user["role"] == "regio":
                with database(app).session_scope() as session:
                    region = session.scalar(select(Region).where(Region.slug == "veneco"))
                    grant_coordinator(session, region, issuer, user["sub"], user["name"])
        except StaffError:
            continue  # granted on an earlier run


def _demo_api_clients(app: Flask, tenants: list[dict[str, str]]) -> list[dict[str, Any]]:
    """One API client per municipality, with a fresh secret each run (only hashes are kept)."""
    clients = []
    scopes = sorted(api_clients.SCOPES)
    for tenant in tenants:
        client_id = f"demo-{tenant['slug']}"
        with working_for(tenant["slug"]) as (session, record):
            if api_clients.client_by_id(session, client_id) is None:
                created = api_clients.create_client(session, record, "Demo-integratie", scopes,
                                                    client_id=client_id)
            else:
                created = api_clients.rotate_secret(session, client_id)
        clients.append({"tenant": tenant["slug"], "client_id": created.client_id,
                        "client_secret": created.client_secret, "scopes": scopes})
    return clients


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


def run_demo(app: Flask, host: str, port: int, idp_port: int, reset: bool) -> None:
    """Start the OIDC provider, prepare the demo, start the app; Ctrl-C stops both."""
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on loopback only
    idp = make_server(host, idp_port, None, threaded=True)  # bound first: the issuer needs its port
    idp_url = f"http://{host}:{idp.server_port}"
    app.config.update(OIDC_ISSUER=idp_url, OIDC_CLIENT_ID="fygitaal-demo", OIDC_CLIENT_SECRET="demo")  # noqa: S106
    tenants = prepare_demo(app, reset)
    users = demo_users(tenants)
    with app.app_context():
        _grant_demo_roles(app, users)
        clients = _demo_api_clients(app, tenants)
    claims = [User(sub=u["sub"], claims={"name": u["name"], "email": f"{u['sub']}@demo.fygitaal.be"})
              for u in users]
    idp.app = oidc_provider_app(user_claims=claims)  # the server was bound before the users were known
    threading.Thread(target=idp.serve_forever, daemon=True).start()
    server = make_server(host, port, app, threaded=True)
    base_url = f"http://{host}:{server.server_port}"
    app.config["BASE_URL"] = base_url
    manifest = {"base_url": base_url, "idp_url": idp_url, "tenants": tenants, "users": users,
                "api_clients": clients}
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
    click.echo("Log in: residents and the regional coordinator at " f"{manifest['base_url']}/login,")
    click.echo(f"staff at {manifest['base_url']}/<gemeente>/login. At the provider, type the subject:")
    for user in manifest["users"]:
        where = user["tenant"] or "platform"
        click.echo(f"  {user['role']:<12} {where:<14} sub={user['sub']}")
    click.echo("")
    click.echo(f"API clients (client credentials at {manifest['base_url']}/oauth/token):")
    for client in manifest["api_clients"]:
        click.echo(f"  {client['tenant']:<14} {client['client_id']}  secret={client['client_secret']}")
    click.echo("")
    click.echo(f"Everything above is also in {path}. Press Ctrl-C to stop.")
