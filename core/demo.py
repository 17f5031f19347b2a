"""``fygitaal demo``: a complete local platform with realistic data, in one command."""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from datetime import datetime, timedelta
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
from core.cases.demo_data import seed_demo_cases
from core.contact.demo_data import seed_demo_contacts
from core.db import database, utcnow
from core.identity import api_clients
from core.identity.models import TENANT_ROLES
from core.identity.providers import platform_provider
from core.identity.staff import StaffError, grant_coordinator, grant_role
from core.knowledge.demo_data import seed_demo_knowledge
from core.outbox.worker import run_worker
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
                                                    client_id=client_id, open311=True)
            else:
                created = api_clients.rotate_secret(session, client_id, open311=True)
        clients.append({"tenant": tenant["slug"], "client_id": created.client_id,
                        "client_secret": created.client_secret, "scopes": scopes, "api_key": created.api_key})
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
    with app.app_context(), app.test_request_context():  # services translate with the request's locale
        created = seed_demo_cases(app, [t["slug"] for t in tenants])
    click.echo(f"  {created} demo cases filed and handled" if created else "  demo cases: already there")
    with app.app_context(), app.test_request_context():
        seed_demo_contacts(app, [t["slug"] for t in tenants], RESIDENTS, platform_provider().issuer)
    seed_demo_knowledge(app, [t["slug"] for t in tenants])
    return tenants


class _MailSink:
    """An aiosmtpd handler that writes every message the demo sends into a folder, one .eml file each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        name = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}.eml"
        (self.folder / name).write_bytes(envelope.content)
        return "250 Message accepted for delivery"


def _start_mail_sink(port: int, folder: Path) -> Any:
    """A local SMTP server on loopback (``port`` 0: a free one) that keeps the demo's mail in ``folder``."""
    from aiosmtpd.controller import Controller  # a development dependency, like the demo itself

    folder.mkdir(parents=True, exist_ok=True)
    if not port:
        with socket.socket() as probe:  # aiosmtpd checks it is up by connecting, so it needs a real port
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # one line per SMTP command otherwise
    controller = Controller(_MailSink(folder), hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def run_demo(app: Flask, host: str, port: int, idp_port: int, reset: bool, smtp_port: int = 0) -> None:
    """Start the OIDC provider, prepare the demo, start the app, a local SMTP sink and the outbox
    worker; Ctrl-C stops them all."""
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
    mail_dir = Path(app.instance_path) / "demo-mail"
    mail_sink = _start_mail_sink(smtp_port, mail_dir)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=mail_sink.port)
    stop_worker = threading.Event()
    worker = threading.Thread(target=run_worker, args=(app,), daemon=True, name="outbox-worker",
                              kwargs={"interval": 5.0, "stop": stop_worker,
                                      "say": lambda message: click.echo(f"[worker] {message}")})
    worker.start()
    server = make_server(host, port, app, threaded=True)
    base_url = f"http://{host}:{server.server_port}"
    app.config["BASE_URL"] = base_url
    manifest = {"base_url": base_url, "idp_url": idp_url, "tenants": tenants, "users": users,
                "api_clients": [{k: v for k, v in c.items() if k != "api_key"} for c in clients],
                "open311": [{"tenant": c["tenant"], "api_key": c["api_key"]} for c in clients],
                "mail_dir": str(mail_dir), "smtp": f"127.0.0.1:{mail_sink.port}"}
    path = Path(app.instance_path) / "demo.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    _print_welcome(manifest, path)
    try:
        server.serve_forever()  # werkzeug returns from here on Ctrl-C
    finally:
        click.echo("\nStopping the demo …")
        stop_worker.set()
        server.server_close()
        idp.shutdown()
        worker.join(timeout=15)  # let it finish the message it is delivering
        mail_sink.stop()


def _print_welcome(manifest: dict[str, Any], path: Path) -> None:
    click.echo("")
    click.echo(f"Fygitaal demo      {manifest['base_url']}/")
    click.echo(f"OpenID provider    {manifest['idp_url']}/  (local oidc-provider-mock)")
    click.echo(f"Demo mail          {manifest['mail_dir']}/  (one .eml file per e-mail; SMTP sink on "
               f"{manifest['smtp']})")
    click.echo(f"Letters to print   {manifest['base_url']}/<gemeente>/balie/afdrukken  (front office staff)")
    for tenant in manifest["tenants"]:
        click.echo(f"  {tenant['name']:<16} {manifest['base_url']}/{tenant['slug']}/")
    click.echo("")
    click.echo(f"Log in: residents and the regional coordinator at {manifest['base_url']}/login,")
    click.echo(f"staff at {manifest['base_url']}/<gemeente>/login. At the provider, type the subject:")
    for user in manifest["users"]:
        where = user["tenant"] or "platform"
        click.echo(f"  {user['role']:<12} {where:<14} sub={user['sub']}")
    click.echo("")
    click.echo(f"API clients (client credentials at {manifest['base_url']}/oauth/token):")
    for client in manifest["api_clients"]:
        click.echo(f"  {client['tenant']:<14} {client['client_id']}  secret={client['client_secret']}")
    click.echo(f"Open311 GeoReport v2 at {manifest['base_url']}/open311/v2/ (jurisdiction_id = the slug); api_key:")
    for entry in manifest["open311"]:
        click.echo(f"  {entry['tenant']:<14} {entry['api_key']}")
    click.echo("")
    click.echo(f"Everything above is also in {path}. Press Ctrl-C to stop.")
