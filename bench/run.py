"""Measure Fygitaal against the targets of DESIGN.md section 7 (see bench/README.md).

Starts the app under gunicorn (2 workers, the production configuration) on loopback against a
PostgreSQL database seeded by ``bench/seed.py``, connecting as the non-owner app role; creates a
case handler with a server-side session row and an API client; then measures with ``wrk``:

- the back-office queue page ``/<gemeente>/behandeling/`` (50 cases) in requests/s;
- the front office's 360° view ``/<gemeente>/balie/personen/<id>`` of a resident with a long history
  (cases, contact moments, consents), opened with a reason beforehand, in requests/s;
- a logged-in resident's ``/mijn/`` (profiles in three municipalities, each with cases, contact moments,
  consents and access-log rows), in requests/s;
- case intake in requests/s through every HTTP way in the app has: ``POST /api/v1/<gemeente>/cases``
  (with a fresh ``Idempotency-Key`` per request, as integrators send it, and without) and the web
  form ``POST /<gemeente>/melding``; with neither, the intake service in-process (the report says so);
- the SQL statements of one queue page and one intake (in-process, counted on the engine);
- the memory (RSS, PSS, USS) of each gunicorn worker after the load.

With ``--compare-database-url`` it measures only one page (``--compare-page``: the queue, the 360°
view or /mijn), on two databases (10k and 1M cases) in alternating rounds, and reports the slowdown. Every
measurement records the CPU other processes used meanwhile, so numbers from a busy shared machine can
be told apart.

    .venv/bin/python bench/run.py --database-url URL --label 10k [--repeat 3] [--json results.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
STAFF_ISSUER = "https://bench.fygitaal.invalid"
STAFF_SUBJECT = "bench-behandelaar"
DEPARTMENT = "openbare_werken"
TARGETS = {"intake_rps": 140.0, "queue_rps": 130.0, "queue_slowdown": 1.2, "worker_rss_mb": 115.0}
# Intake reports: zwerfvuil goes to "milieu", so the measured openbare_werken queue does not change.
INTAKE_TYPE = "zwerfvuil"
WRK = shutil.which("wrk")
BENCH_MARKER = "(benchmark"  # in the description of every case a measurement files
QUIET_CORES = 0.1  # a run during which other processes used at most this much CPU counts as undisturbed


@dataclass
class LoadResult:
    what: str
    url: str
    requests: int
    seconds: float
    rps: float
    latency_ms: dict[str, float]
    errors: int
    non_2xx_3xx: int
    machine_cores: float = 0.0
    others_cores: float = 0.0
    stolen_cores: float = 0.0
    iowait_cores: float = 0.0
    postgres: dict[str, float] = field(default_factory=dict)


@dataclass
class Report:
    label: str
    date: str
    tenant: str
    cases_total: int
    cases_in_tenant: int
    open_in_queue: int
    intake_mode: str
    queue_mode: str
    data: dict[str, int] = field(default_factory=dict)  # what the measured pages show (timeline items, …)
    load: dict[str, LoadResult] = field(default_factory=dict)
    attempts: dict[str, list[LoadResult]] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)
    statements: dict[str, list[str]] = field(default_factory=dict)
    worker_memory_mb: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("FYGITAAL_DATABASE_URL"),
                        help="the app role's URL (not the owner); default $FYGITAAL_DATABASE_URL")
    parser.add_argument("--migration-database-url", default=os.environ.get("FYGITAAL_MIGRATION_DATABASE_URL"),
                        help="the owner's URL: when given, the database (and the compared one, on the same "
                             "server) is first brought to the current migrations")
    parser.add_argument("--label", default="run", help="a name for this run in the report (e.g. 10k)")
    parser.add_argument("--tenant", default="lochristi", help="the municipality to measure (lochristi)")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per measurement (20)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each measurement (3)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1: the machine has 2 cores)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--gunicorn-arg", action="append", default=[], help="an extra gunicorn argument")
    parser.add_argument("--only", choices=("queue", "person", "mijn", "intake"), help="measure only this one")
    parser.add_argument("--repeat", type=int, default=1, help="measure each this many times, keep the least "
                        "disturbed by other processes (1)")
    parser.add_argument("--wait-quiet", type=int, default=0, metavar="SECONDS",
                        help="first wait up to this long for other processes to leave the CPUs idle")
    parser.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    parser.add_argument("--compare-database-url", metavar="URL",
                        help="queue page only: alternate, round after round, between --database-url and this "
                             "database (e.g. 10k against 1M cases) and report the slowdown")
    parser.add_argument("--compare-label", default="other", help="a name for the compared database")
    parser.add_argument("--compare-page", choices=("queue", "person", "mijn"), default="queue",
                        help="the page the comparison loads: the queue (default), the 360° view or /mijn")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of the comparison (4)")
    args = parser.parse_args(argv)
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("give --database-url postgresql+psycopg://fygitaal_app@…/fygitaal_bench_… (the app role)")
    for url in filter(None, (args.database_url, args.compare_database_url)):
        if not (url.rsplit("/", 1)[-1].startswith("fygitaal_bench")):
            parser.error(f"{url}: benchmarks write to their database; use one named fygitaal_bench…")
    if WRK is None:
        parser.error("wrk is not installed: apt-get install wrk")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_environment(args: argparse.Namespace, port: int, instance: Path) -> dict[str, str]:
    """The production configuration, on loopback; POST limits raised so they do not cap the load."""
    return {
        "FYGITAAL_ENV": "production",
        "FYGITAAL_SECRET_KEY": "bench-" + secrets.token_urlsafe(32),
        "FYGITAAL_DATABASE_URL": args.database_url,
        "FYGITAAL_BASE_URL": f"http://127.0.0.1:{port}",
        "FYGITAAL_INSTANCE_PATH": str(instance),
        "FYGITAAL_RATELIMIT_POST": "1000000 per minute",
        "FYGITAAL_RATELIMIT_TOKEN": "1000 per minute",
        "FYGITAAL_SESSION_IDLE_MINUTES": "240",
    }


# --- Preparing: a case handler with a session, an API client, the data ----------------------


@dataclass
class Credentials:
    session_id: str
    session_cookie: str
    client_id: str
    client_secret: str
    csrf_cookie: str
    person_path: str  # the 360° view of the benchmark resident, already opened in this session
    resident_session_id: str  # a logged-in resident with profiles in several municipalities (/mijn)


def upgrade(app: Any, owner_url: str | None, app_url: str) -> None:
    """Bring the database to the current migrations (the seeded one may predate the code)."""
    if not owner_url:
        return
    from sqlalchemy.engine import make_url

    from core import migrate

    # The owner's URL names one database; the same owner migrates the compared one.
    owner = make_url(owner_url).set(database=make_url(app_url).database)
    app.config["MIGRATION_DATABASE_URL"] = owner.render_as_string(hide_password=False)
    with app.app_context():
        migrate.upgrade(app)


PERSON_NAME = "Bench Inwoner"
PERSON_MOMENTS = 40  # contact moments of the benchmark resident
PERSON_CASES = 20  # seeded cases linked to the benchmark resident


def bench_person(db: Any, tenant: Any, staff_id: int, at: datetime) -> tuple[int, int]:
    """A desk-made resident with a long history (cases, contact moments, consents), made once through
    the services; returns the profile id and how many timeline items it has."""
    from sqlalchemy import func, select, update

    from core.cases.models import Case
    from core.contact.models import ContactMoment
    from core.contact.service import register_contact_moment
    from core.profiles.models import ConsentRecord, PreferenceChange, Profile
    from core.profiles.service import Actor, create_desk_profile, record_consent

    profile_id = db.scalar(select(Profile.id).where(Profile.name == PERSON_NAME))
    if profile_id is None:
        actor = Actor.staff(staff_id, "balie")
        profile = create_desk_profile(db, tenant, {
            "name": PERSON_NAME, "birth_date": "1960-05-05", "address": "Kerkstraat 1, 9080 Lochristi",
            "email": "bench.inwoner@example.org", "phone": "09 123 45 67", "assistance_needs": "Slechtziend",
        }, instance_secret="", national_number_raw=None, actor=actor, at=at)  # no number: nothing is hashed
        for code in ("contact_email", "ondersteuning", "contact_telefoon"):
            record_consent(db, tenant, profile, code, True, actor=actor, language="nl", at=at)
        for index in range(PERSON_MOMENTS):
            register_contact_moment(db, profile, channel="telefoon", topic=f"Gesprek {index}", summary="Benchmark.",
                                    case_reference="", outcome="beantwoord", staff_id=staff_id,
                                    at=at - timedelta(days=index))
        newest = select(Case.id).where(Case.profile_id.is_(None)).order_by(Case.id.desc()).limit(PERSON_CASES)
        db.execute(update(Case).where(Case.id.in_(newest.scalar_subquery())).values(profile_id=profile.id)
                   .execution_options(synchronize_session=False))
        profile_id = profile.id
    items = sum(db.scalar(select(func.count()).select_from(model).where(model.profile_id == profile_id)) or 0
                for model in (Case, ContactMoment, ConsentRecord, PreferenceChange))
    return profile_id, items


RESIDENT_SUBJECT = "bench-inwoner"
MIJN_PATH = "/mijn/"
# The /mijn resident's municipalities and how many cases they filed in each (20 in all).
RESIDENT_TOWNS = {"lochristi": 8, "destelbergen": 7, "wachtebeke": 5}
RESIDENT_MOMENTS = 10  # contact moments per municipality
RESIDENT_ACCESSES = 8  # access-log rows (staff opening the profile) per municipality


def bench_resident(app: Any, at: datetime) -> tuple[int, dict[str, int]]:
    """A logged-in resident with profiles in several municipalities and a history in each, made once
    through the services as their own use would make it: preferences, cases filed while logged in,
    consents given and one withdrawn, contact moments and staff looking them up. Returns the account id
    and what /mijn has to show."""
    from sqlalchemy import func, select

    from core.cases.intake import IntakeRequest, submit_case
    from core.cases.models import Case
    from core.contact.models import ContactMoment
    from core.contact.service import register_contact_moment
    from core.db import database
    from core.identity.models import Account
    from core.identity.service import account_for
    from core.profiles.access_log import record_access
    from core.profiles.models import AccessLogEntry, ConsentRecord, Profile
    from core.profiles.purposes import catalogue_for
    from core.profiles.service import Actor, ensure_profile, profile_of_account, record_consent, update_preferences
    from core.tenancy.isolation import across_tenants
    from core.tenancy.service import working_for

    with database(app).session_scope() as db:
        account = db.scalar(select(Account).where(Account.issuer == STAFF_ISSUER, Account.subject == RESIDENT_SUBJECT))
        if account is None:
            account = account_for(db, STAFF_ISSUER, RESIDENT_SUBJECT)
            account.name, account.email, account.last_login_at = "Bench Burger", "bench.burger@example.org", at
        account_id = account.id
    resident = Actor.resident()
    for slug, cases in RESIDENT_TOWNS.items():
        with working_for(slug) as (db, tenant):
            if profile_of_account(db, account_id) is not None:
                continue  # made on an earlier run (one transaction per municipality)
            points = intake_points(app, slug, cases)
            start = at - timedelta(days=700)
            profile = ensure_profile(db, db.get(Account, account_id), start)
            update_preferences(db, profile, {"address": "Kerkstraat 1", "phone": "09 123 45 67",
                                             "preferred_channel": "e-mail"}, actor=resident, at=start)
            choices = [code for code, purpose in catalogue_for(tenant).items() if purpose.is_choice]
            for code in choices:
                record_consent(db, tenant, profile, code, True, actor=resident, language="nl", at=start)
            if choices:
                record_consent(db, tenant, profile, choices[0], False, actor=resident, language="nl",
                               at=start + timedelta(days=100))
            for index, (lat, lon) in enumerate(points):
                question = index % 3 == 2
                submit_case(db, tenant, IntakeRequest(
                    type_code="vraag" if question else INTAKE_TYPE,
                    description=f"Vraag of melding van de benchmarkinwoner {index} {BENCH_MARKER})",
                    lat=None if question else lat, lon=None if question else lon,
                    reporter_account_id=account_id), channel="web", actor="burger",
                    at=at - timedelta(days=30 * index + 1))
            for index in range(RESIDENT_MOMENTS):
                register_contact_moment(db, profile, channel="telefoon", topic=f"Gesprek {index}", summary="Benchmark.",
                                        case_reference="", outcome="beantwoord", staff_id=None,
                                        at=at - timedelta(days=40 * index + 2))
            for index in range(RESIDENT_ACCESSES):
                record_access(db, instance_secret=app.config["SECRET_KEY"], tenant_id=tenant.id, profile_id=profile.id,
                              actor_kind="medewerker", actor_label="Bench Behandelaar (onthaal)",
                              reason="vraag van de inwoner aan de balie", shown=[],
                              at=at - timedelta(days=50 * index + 3))
    with database(app).session_scope() as db, across_tenants(db, "benchmark: what /mijn shows"):
        profiles = select(Profile.id).where(Profile.account_id == account_id).scalar_subquery()
        counts = {"resident_profiles": db.scalar(select(func.count()).where(Profile.account_id == account_id)) or 0,
                  "resident_cases": db.scalar(select(func.count()).select_from(Case)
                                              .where(Case.reporter_account_id == account_id)) or 0}
        for name, model in (("contact_moments", ContactMoment), ("consent_records", ConsentRecord),
                            ("access_rows", AccessLogEntry)):
            counts[f"resident_{name}"] = db.scalar(select(func.count()).select_from(model)
                                                   .where(model.profile_id.in_(profiles))) or 0
    return account_id, counts


def prepare(app: Any, tenant_slug: str) -> tuple[Credentials, dict[str, int]]:
    """A case handler of the department who also works at the desk, with a session row (as a login leaves
    it, with the benchmark resident's profile opened with a reason) and an API client; and a logged-in
    resident (``bench_resident``) with a session row of their own."""
    from sqlalchemy import func, select

    from core.cases.lifecycle import OPEN_STATES
    from core.cases.models import Case
    from core.clock import now
    from core.contact.service import open_profile
    from core.contact.views import OPEN_KEY
    from core.db import database
    from core.identity import api_clients
    from core.identity.models import Account, StaffMember, UserSession
    from core.identity.sessions import hash_session_id
    from core.identity.staff import StaffError, grant_role
    from core.profiles.models import Profile
    from core.tenancy.isolation import across_tenants
    from core.tenancy.models import Department
    from core.tenancy.service import working_for

    with app.app_context(), app.test_request_context():
        at = now()
        with working_for(tenant_slug) as (db, tenant):
            for role, department in (("behandelaar", DEPARTMENT), ("onthaal", None)):
                with contextlib.suppress(StaffError):  # granted on an earlier run
                    grant_role(db, STAFF_ISSUER, STAFF_SUBJECT, role, department, "Bench Behandelaar")
            client_id = f"bench-{tenant_slug}"
            scopes = sorted(api_clients.SCOPES)
            if api_clients.client_by_id(db, client_id) is None:
                created = api_clients.create_client(db, tenant, "Benchmark", scopes, client_id=client_id)
            else:
                created = api_clients.rotate_secret(db, client_id)
            department_id = db.scalar(select(Department.id).where(Department.code == DEPARTMENT))
            counts = {
                "cases_in_tenant": db.scalar(select(func.count()).select_from(Case)) or 0,
                "open_in_queue": db.scalar(select(func.count()).select_from(Case).where(
                    Case.department_id == department_id, Case.status.in_(sorted(OPEN_STATES)))) or 0,
            }
            account_id = db.scalar(select(Account.id).where(Account.issuer == STAFF_ISSUER,
                                                            Account.subject == STAFF_SUBJECT))
            staff_id = db.scalar(select(StaffMember.id).where(StaffMember.account_id == account_id))
            profile_id, counts["person_timeline_items"] = bench_person(db, tenant, staff_id, at)
            profile = db.get(Profile, profile_id)
            reason = "benchmark"
            open_profile(db, tenant, profile, instance_secret=app.config["SECRET_KEY"],
                         staff_label="Bench Behandelaar (behandelaar, onthaal)", reason=reason, shown=[], at=at)
            opening = {f"{tenant.id}:{profile_id}": {"staff": staff_id, "reason": reason,
                                                     "until": (at + timedelta(days=1)).isoformat()}}
        resident_id, resident_counts = bench_resident(app, at)
        counts.update(resident_counts)
        with database(app).session_scope() as db:
            with across_tenants(db, "benchmark: count every case"):
                counts["cases_total"] = db.scalar(select(func.count()).select_from(Case)) or 0
            session_id = secrets.token_urlsafe(32)
            db.add(UserSession(id_hash=hash_session_id(session_id), account_id=account_id, data={OPEN_KEY: opening},
                               created_at=at, last_seen_at=at))
            resident_session_id = secrets.token_urlsafe(32)
            db.add(UserSession(id_hash=hash_session_id(resident_session_id), account_id=resident_id, data={},
                               created_at=at, last_seen_at=at))
    credentials = Credentials(session_id, app.config["SESSION_COOKIE_NAME"], created.client_id,
                              created.client_secret, "__Host-csrf" if app.config["SESSION_COOKIE_SECURE"]
                              else "fygitaal_csrf", f"/{tenant_slug}/balie/personen/{profile_id}", resident_session_id)
    return credentials, counts


def routes(app: Any) -> set[tuple[str, str]]:
    return {(rule.rule, method) for rule in app.url_map.iter_rules() for method in rule.methods or ()}


# --- Counting SQL statements of one request (in-process, same database) ----------------------


@contextmanager
def counting(engine: Any) -> Iterator[list[str]]:
    from sqlalchemy import event

    statements: list[str] = []

    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def count_queries(app: Any, credentials: Credentials, slug: str, intakes: list[IntakeTarget],
                  report: Report) -> None:
    """Statements per request, for the queue page (full and nearly empty), the 360° view, /mijn and one
    intake."""
    from core.db import database

    engine = database(app).engine
    staff, resident = credentials.session_id, credentials.resident_session_id
    pages = {"queue_page": (f"/{slug}/behandeling/", staff),
             "queue_page_one_state": (f"/{slug}/behandeling/?status=heropend", staff),
             "person_page": (credentials.person_path, staff), "mijn_page": (MIJN_PATH, resident)}
    rows_pattern = {"person_page": r"<li>\s*<time", "mijn_page": r"<tr>\s*<td>"}
    for name, (path, session_id) in pages.items():
        client = app.test_client()
        client.set_cookie(credentials.session_cookie, session_id)
        client.get(path)  # warm caches (tenant, case types, principal) as a running worker has them
        with counting(engine) as statements:
            response = client.get(path)
        if response.status_code != 200:
            report.notes.append(f"{path} answered {response.status_code} in-process")
        report.queries[name] = len(statements)
        page = response.get_data(as_text=True)
        rows = rows_pattern.get(name, r'<td><a href="[^"]*/behandeling/')
        report.queries[name + "_rows"] = len(re.findall(rows, page))
        report.statements[name] = statements
    for target in intakes:
        visitor = app.test_client()
        headers, body = target.first_request(visitor)
        with counting(engine) as statements:
            response = visitor.post(target.path, data=body, headers=headers)
        report.queries[f"intake_{target.name}"] = len(statements)
        report.statements[f"intake_{target.name}"] = statements
        if response.status_code >= 400:
            report.notes.append(f"in-process intake ({target.name}) answered {response.status_code}")


# --- Intake: which way in, and its requests ---------------------------------------------------


@dataclass
class IntakeTarget:
    name: str  # "api_idempotent", "api" or "form"
    path: str
    bodies: list[str]
    headers: dict[str, str]
    idempotency: bool = False

    def first_request(self, client: Any) -> tuple[dict[str, str], str]:
        """For the in-process count: the same request, with a fresh CSRF pair for the form."""
        if self.name != "form":
            extra = {"Idempotency-Key": "count-" + secrets.token_hex(8)} if self.idempotency else {}
            return {**self.headers, **extra}, self.bodies[0]
        response = client.get(self.path + f"?type={INTAKE_TYPE}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
        body = self.bodies[0]
        if token:
            body = re.sub(r"csrf_token=[^&]*", f"csrf_token={token.group(1)}", body)
        return {"Content-Type": "application/x-www-form-urlencoded"}, body


def intake_points(app: Any, slug: str, count: int) -> list[tuple[float, float]]:
    """Points inside the municipality for the intake requests (the boundary is checked)."""
    import random

    from shapely.geometry import Point, shape

    from core.db import database
    from core.tenancy.service import tenant_by_slug

    with app.app_context(), database(app).session_scope() as db:
        tenant = tenant_by_slug(db, slug)
        assert tenant is not None
        area = shape(tenant.boundary)
    rng = random.Random(11)  # noqa: S311 - benchmark data
    min_lon, min_lat, max_lon, max_lat = area.bounds
    points: list[tuple[float, float]] = []
    while len(points) < count:
        lon, lat = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
        if area.contains(Point(lon, lat)):
            points.append((round(lat, 6), round(lon, 6)))
    return points


def intake_targets(app: Any, base_url: str, slug: str, credentials: Credentials) -> list[IntakeTarget]:
    """Every HTTP way in the app offers: the API (with and without Idempotency-Key), the web form."""
    known = routes(app)
    points = intake_points(app, slug, 100)
    descriptions = [f"Blikjes en plastic langs de Kerkstraat {BENCH_MARKER} {i})" for i in range(len(points))]
    targets = []
    if ("/api/v1/<tenant>/cases", "POST") in known:
        token = api_token(base_url, credentials)
        bodies = [json.dumps({"type": INTAKE_TYPE, "beschrijving": text, "locatie": {"lat": lat, "lon": lon},
                              "kanaal": "app"})
                  for (lat, lon), text in zip(points, descriptions, strict=True)]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        targets.append(IntakeTarget("api_idempotent", f"/api/v1/{slug}/cases", bodies, headers, idempotency=True))
        targets.append(IntakeTarget("api", f"/api/v1/{slug}/cases", bodies, headers))
    if ("/<tenant>/melding", "POST") in known:
        cookie, token = csrf_pair(base_url, slug, credentials)
        bodies = [urlencode({"csrf_token": token, "type": INTAKE_TYPE, "beschrijving": text, "lat": lat, "lon": lon,
                             "adres": "Kerkstraat 12", "bevestigd": "1", "kanaal": "e-mail"})
                  for (lat, lon), text in zip(points, descriptions, strict=True)]
        targets.append(IntakeTarget("form", f"/{slug}/melding", bodies,
                                    {"Content-Type": "application/x-www-form-urlencoded",
                                     "Cookie": f"{credentials.csrf_cookie}={cookie}"}))
    return targets


def api_token(base_url: str, credentials: Credentials) -> str:
    data = urlencode({"grant_type": "client_credentials"}).encode()
    request = urllib.request.Request(f"{base_url}/oauth/token", data=data, method="POST")  # noqa: S310 - loopback
    import base64

    basic = base64.b64encode(f"{credentials.client_id}:{credentials.client_secret}".encode()).decode()
    request.add_header("Authorization", f"Basic {basic}")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return str(json.loads(response.read())["access_token"])


def csrf_pair(base_url: str, slug: str, credentials: Credentials) -> tuple[str, str]:
    """The CSRF cookie and the form token, as a browser gets them from the form page."""
    with urllib.request.urlopen(f"{base_url}/{slug}/melding?type={INTAKE_TYPE}", timeout=10) as response:  # noqa: S310
        page = response.read().decode()
        cookies = response.headers.get_all("Set-Cookie") or []
    cookie = next(c.split(";")[0].split("=", 1)[1] for c in cookies if c.startswith(credentials.csrf_cookie + "="))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if token is None:
        raise SystemExit("the report form has no csrf_token field")
    return cookie, token.group(1)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def check_once(base_url: str, path: str, method: str, headers: dict[str, str], body: str | None) -> int:
    """One request before the load: the answer must be what the measurement expects."""
    request = urllib.request.Request(base_url + path, data=body.encode() if body else None, method=method,  # noqa: S310
                                     headers=headers)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def intake_in_process(app: Any, slug: str, seconds: float) -> LoadResult:
    """Without an HTTP intake: the intake service itself, one process, committed one by one."""
    from core.cases.intake import IntakeRequest, submit_case
    from core.clock import now
    from core.tenancy.service import working_for

    points = intake_points(app, slug, 100)
    done, started = 0, time.monotonic()
    with app.test_request_context():
        while time.monotonic() - started < seconds:
            lat, lon = points[done % len(points)]
            with working_for(slug) as (db, tenant):
                submit_case(db, tenant, IntakeRequest(type_code=INTAKE_TYPE, description=f"Blikjes {BENCH_MARKER})",
                                                      lat=lat, lon=lon), channel="web", actor="burger", at=now())
            done += 1
    elapsed = time.monotonic() - started
    return LoadResult("intake (service in-process, 1 process)", "", done, elapsed, done / elapsed, {}, 0, 0)


def queue_query_in_process(app: Any, slug: str, seconds: float) -> LoadResult:
    """Without a queue page: its keyset query on ``ix_case_queue`` (50 open cases of one department,
    newest first), run back to back on one connection of one process."""
    from sqlalchemy import select

    from core.cases.lifecycle import OPEN_STATES
    from core.cases.models import Case
    from core.tenancy.models import Department
    from core.tenancy.service import working_for

    done, started = 0, time.monotonic()
    with app.app_context(), working_for(slug) as (db, _tenant):
        department_id = db.scalar(select(Department.id).where(Department.code == DEPARTMENT))
        statement = (select(Case.id, Case.reference, Case.type_code, Case.status, Case.address, Case.created_at)
                     .where(Case.department_id == department_id, Case.status.in_(sorted(OPEN_STATES)))
                     .order_by(Case.id.desc()).limit(51))
        while time.monotonic() - started < seconds:
            db.execute(statement).all()
            done += 1
    elapsed = time.monotonic() - started
    return LoadResult("queue keyset query (in-process)", "", done, elapsed, done / elapsed, {}, 0, 0)


# --- Load with wrk ------------------------------------------------------------------------------

WRK_SCRIPT = """
local bodies = {%(bodies)s}
local counter = 0
local idempotency = %(idempotency)s
local threads = 0
wrk.method = "%(method)s"
%(headers)s
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
request = function()
  counter = counter + 1
  if idempotency then
    wrk.headers["Idempotency-Key"] = "%(key_prefix)s-" .. tostring(tid) .. "-" .. tostring(counter)
  end
  local body = nil
  if #bodies > 0 then body = bodies[(counter %% #bodies) + 1] end
  return wrk.format(nil, nil, nil, body)
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def wrk(args: argparse.Namespace, base_url: str, what: str, path: str, method: str, headers: dict[str, str],
        bodies: list[str], seconds: int, idempotency: bool = False) -> LoadResult:
    """Load one URL with wrk on loopback, bounded by ``seconds``; parse its summary. With
    ``idempotency`` each request carries a new ``Idempotency-Key``."""
    script = WRK_SCRIPT % {
        "bodies": ", ".join(lua_string(b) for b in bodies),
        "method": method,
        "idempotency": "true" if idempotency else "false",
        "key_prefix": "bench-" + secrets.token_hex(6),
        "headers": "\n".join(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        completed = subprocess.run(  # noqa: S603 - our own arguments
            [WRK, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
             "-s", handle.name, base_url + path],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        )
    finally:
        os.unlink(handle.name)
    return parse_wrk(what, base_url + path, completed.stdout)


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(what: str, url: str, output: str) -> LoadResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if total is None or rps is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    latency = {f"p{p}": _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE)}
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    seconds = float(total.group(2)) * (60 if total.group(3) == "m" else 1)
    return LoadResult(what, url, int(total.group(1)), seconds, float(rps.group(1)), latency, errors,
                      int(non_ok.group(1)) if non_ok else 0)


# --- Is the machine ours? ------------------------------------------------------------------------


def _ticks(pid: int | str) -> int:
    """User + system CPU ticks of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _cpu_ticks() -> tuple[int, int, int]:
    """(busy, stolen, iowait) ticks of the whole machine; busy is user, nice, system, irq, softirq."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return values[0] + values[1] + values[2] + values[5] + values[6], values[7], values[4]


def _busy_ticks() -> int:
    return _cpu_ticks()[0]


PG_IO = ("SELECT checkpoints_timed + checkpoints_req, buffers_backend, "
         "(SELECT wal_fpi FROM pg_stat_wal), (SELECT wal_bytes FROM pg_stat_wal) FROM pg_stat_bgwriter")


def pg_io(database_url: str) -> tuple[float, ...]:
    """Server-wide write activity: checkpoints, buffers written by backends, WAL full-page images, WAL bytes."""
    import psycopg
    from sqlalchemy.engine import make_url

    libpq = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as connection:
        row = connection.execute(PG_IO).fetchone()
    return tuple(float(v) for v in row) if row else (0.0, 0.0, 0.0, 0.0)


def our_pids(server_pid: int, database_url: str) -> list[int]:
    """The gunicorn master and workers, and the PostgreSQL backends connected to the bench database."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as connection:
        backends = [row[0] for row in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    return [server_pid, *(int(c) for c in children), *backends]


@dataclass
class CpuWindow:
    """CPU used on the whole machine, and by others than this benchmark, during a measurement."""

    seconds: float = 0.0
    machine_cores: float = 0.0
    others_cores: float = 0.0
    stolen_cores: float = 0.0
    iowait_cores: float = 0.0
    postgres: dict[str, float] = field(default_factory=dict)


@contextmanager
def cpu_window(server_pid: int, database_url: str) -> Iterator[CpuWindow]:
    hertz = os.sysconf("SC_CLK_TCK")
    pids = our_pids(server_pid, database_url)
    window = CpuWindow()
    ours_before = sum(_ticks(pid) for pid in pids)
    children_before = os.times().children_user + os.times().children_system  # wrk
    io_before = pg_io(database_url)
    (busy_before, steal_before, iowait_before), started = _cpu_ticks(), time.monotonic()
    yield window
    window.seconds = time.monotonic() - started
    busy_after, steal_after, iowait_after = _cpu_ticks()
    busy = (busy_after - busy_before) / hertz
    window.stolen_cores = round((steal_after - steal_before) / hertz / window.seconds, 2)
    window.iowait_cores = round((iowait_after - iowait_before) / hertz / window.seconds, 2)
    io = [after - before for after, before in zip(pg_io(database_url), io_before, strict=True)]
    window.postgres = {"checkpoints": io[0], "backend_buffer_writes": io[1], "wal_full_page_images": io[2],
                       "wal_mb": round(io[3] / 1e6, 1)}
    pids_after = our_pids(server_pid, database_url)
    ours = (sum(_ticks(pid) for pid in pids_after) - ours_before) / hertz
    ours += os.times().children_user + os.times().children_system - children_before
    window.machine_cores = round(busy / window.seconds, 2)
    window.others_cores = round(max(busy - ours, 0.0) / window.seconds, 2)


def wait_until_quiet(limit_seconds: int, threshold: float = 0.25) -> str:
    """Wait (bounded) until other processes leave the machine mostly idle; say how it went."""
    deadline = time.monotonic() + limit_seconds
    while True:
        busy_before, started = _busy_ticks(), time.monotonic()
        time.sleep(2)
        cores = (_busy_ticks() - busy_before) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - started)
        if cores <= threshold:
            return f"machine quiet before the run ({cores:.2f} cores busy)"
        if time.monotonic() > deadline:
            return f"machine still busy before the run ({cores:.2f} cores); measured anyway"
        log(f"waiting for a quiet machine: {cores:.2f} cores busy")


# --- The server ---------------------------------------------------------------------------------


@contextmanager
def gunicorn(args: argparse.Namespace, env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    command = [str(VENV_BIN / "gunicorn"), "-c", "python:core.gunicorn_conf", "--workers", str(args.workers),
               "--bind", f"127.0.0.1:{port}",
               "--log-level", "warning", *args.gunicorn_arg, "core.app:create_app()"]
    log(f"starting: {' '.join(command)}")
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env})  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gunicorn did not become ready")
            time.sleep(0.3)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def worker_memory(master_pid: int) -> dict[str, list[float]]:
    """Per gunicorn worker (the master's children), in MB: RSS (everything resident, shared pages
    included), PSS (shared pages divided among their users) and USS (private pages only)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    memory: dict[str, list[float]] = {"rss": [], "pss": [], "uss": []}
    for pid in children:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        kb = {key: int(value) for key, value in re.findall(r"^(\w+):\s+(\d+) kB", rollup, re.MULTILINE)}
        memory["rss"].append(round(kb["Rss"] / 1024, 1))
        memory["pss"].append(round(kb["Pss"] / 1024, 1))
        memory["uss"].append(round((kb["Private_Clean"] + kb["Private_Dirty"]) / 1024, 1))
    return memory


# --- The 10k against 1M comparison of the queue page ---------------------------------------------


@dataclass
class Side:
    label: str
    url: str
    port: int
    env: dict[str, str]
    cookie: dict[str, str]
    open_in_queue: int
    cases_total: int
    path: str
    data: dict[str, int]
    results: list[LoadResult] = field(default_factory=list)


PAGE_NAMES = {"queue": "queue page", "person": "360° view", "mijn": "/mijn"}


def page_and_cookie(page: str, slug: str, credentials: Credentials) -> tuple[str, dict[str, str]]:
    """The path of a measured page and the session cookie that may see it (the resident's for /mijn)."""
    if page == "mijn":
        return MIJN_PATH, {"Cookie": f"{credentials.session_cookie}={credentials.resident_session_id}"}
    path = credentials.person_path if page == "person" else f"/{slug}/behandeling/"
    return path, {"Cookie": f"{credentials.session_cookie}={credentials.session_id}"}


def compare_queue(args: argparse.Namespace, instance: Path) -> dict[str, Any]:
    """Both servers up at once (the idle one sleeps); the queue page loaded on each in turn,
    A B B A A B …, so drift on a shared machine falls on both sides alike."""
    from core.app import create_app
    from core.db import database

    sides = []
    for label, url in ((args.label, args.database_url), (args.compare_label, args.compare_database_url)):
        port = free_port()
        env = app_environment(args, port, instance) | {"FYGITAAL_DATABASE_URL": url}
        os.environ.update(env)
        app = create_app()
        upgrade(app, args.migration_database_url, url)
        credentials, counts = prepare(app, args.tenant)
        path, cookie = page_and_cookie(args.compare_page, args.tenant, credentials)
        sides.append(Side(label, url, port, env, cookie, counts["open_in_queue"], counts["cases_total"], path,
                          counts))
        database(app).engine.dispose()
    page = PAGE_NAMES[args.compare_page]
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(gunicorn(args, side.env, side.port)) for side in sides]
        for side in sides:
            status = check_once(f"http://127.0.0.1:{side.port}", side.path, "GET", side.cookie, None)
            if status != 200:
                raise SystemExit(f"{side.label}: {side.path} answered {status}")
        for round_index in range(args.rounds):
            order = [0, 1] if round_index % 2 == 0 else [1, 0]
            for index in order:
                side, server = sides[index], servers[index]
                base_url = f"http://127.0.0.1:{side.port}"
                if args.wait_quiet:
                    log(f"  {side.label}: {wait_until_quiet(args.wait_quiet)}")
                wrk(args, base_url, "warm-up", side.path, "GET", side.cookie, [], args.warmup)
                with cpu_window(server.pid, side.url) as cpu:
                    result = wrk(args, base_url, f"{page} ({side.label})", side.path, "GET", side.cookie, [],
                                 args.duration)
                result.machine_cores, result.others_cores = cpu.machine_cores, cpu.others_cores
                result.stolen_cores, result.iowait_cores = cpu.stolen_cores, cpu.iowait_cores
                result.postgres = cpu.postgres
                side.results.append(result)
                log(f"  round {round_index + 1} {side.label}: {result.rps:.1f} req/s "
                    f"(others {result.others_cores} cores, stolen {result.stolen_cores})")
    summary: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "sides": {}}
    medians = []
    for side in sides:
        quiet_runs = [r.rps for r in side.results if r.others_cores <= QUIET_CORES] or [r.rps for r in side.results]
        median = sorted(quiet_runs)[(len(quiet_runs) - 1) // 2]
        medians.append(median)
        summary["sides"][side.label] = {
            "cases_total": side.cases_total, "open_in_queue": side.open_in_queue, "median_rps": median,
            "data": side.data, "runs": [asdict(r) for r in side.results]}
    pairs = [a.rps / b.rps for a, b in zip(sides[0].results, sides[1].results, strict=True)]
    summary["slowdown"] = round(medians[0] / medians[1], 3)
    summary["slowdown_per_round"] = [round(v, 3) for v in pairs]
    print(f"\n== {page}, {sides[0].label} against {sides[1].label} ({args.rounds} rounds, alternating)")
    for side, median in zip(sides, medians, strict=True):
        runs = ", ".join(f"{r.rps:.1f}" for r in side.results)
        print(f"{side.label:<8} {side.cases_total:>10,} cases, {side.open_in_queue:>6,} open in the queue: "
              f"median {median:.1f} req/s  (runs: {runs})")
    verdict = "MET" if summary["slowdown"] <= TARGETS["queue_slowdown"] else "MISSED"
    print(f"slowdown {sides[1].label} vs {sides[0].label}: {summary['slowdown']}× (≤ 1.2: {verdict}); "
          f"per round {summary['slowdown_per_round']}")
    return summary


# --- The run ------------------------------------------------------------------------------------


def _stop(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # so that gunicorn is stopped on the way out


def main(argv: list[str] | None = None) -> Report:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    instance = Path(tempfile.mkdtemp(prefix="fygitaal-bench-"))
    if args.compare_database_url:
        summary = compare_queue(args, instance)
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False))
        shutil.rmtree(instance, ignore_errors=True)
        raise SystemExit(0)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = app_environment(args, port, instance)
    os.environ.update(env)
    from core.app import create_app

    app = create_app()
    upgrade(app, args.migration_database_url, args.database_url)
    credentials, counts = prepare(app, args.tenant)
    slug = args.tenant
    queue_path = f"/{slug}/behandeling/"
    known = routes(app)
    has_queue = ("/<tenant>/behandeling/", "GET") in known
    report = Report(
        label=args.label, date=datetime.now(UTC).isoformat(timespec="seconds"), tenant=slug,
        cases_total=counts["cases_total"], cases_in_tenant=counts["cases_in_tenant"],
        open_in_queue=counts["open_in_queue"], intake_mode="?", data=counts,
        queue_mode="GET " + queue_path if has_queue else "keyset query in-process (no queue page yet)",
    )
    log(f"{report.cases_total:,} cases; {report.cases_in_tenant:,} in {slug}; "
        f"{report.open_in_queue:,} open in its {DEPARTMENT} queue")
    with gunicorn(args, env, port) as server:
        intakes = intake_targets(app, base_url, slug, credentials) if args.only in (None, "intake") else []
        report.intake_mode = ", ".join(t.name for t in intakes) or (
            "not measured" if args.only else "in-process (no HTTP intake yet)")
        # No app context around this: each test request must get its own, as in a worker (``g``).
        count_queries(app, credentials, slug, intakes, report)
        cookie = {"Cookie": f"{credentials.session_cookie}={credentials.session_id}"}
        if args.only in (None, "queue") and has_queue:
            status = check_once(base_url, queue_path, "GET", cookie, None)
            if status != 200:
                raise SystemExit(f"{queue_path} answered {status} for the case handler")
            report.load["queue"] = measure(args, report, server.pid, base_url, "queue page", queue_path, "GET",
                                           cookie, [])
        if args.only in (None, "person"):
            status = check_once(base_url, credentials.person_path, "GET", cookie, None)
            if status != 200:
                raise SystemExit(f"{credentials.person_path} answered {status} for the desk")
            report.load["person"] = measure(args, report, server.pid, base_url, "360° view", credentials.person_path,
                                            "GET", cookie, [])
        if args.only in (None, "mijn"):
            path, resident_cookie = page_and_cookie("mijn", slug, credentials)
            status = check_once(base_url, path, "GET", resident_cookie, None)
            if status != 200:
                raise SystemExit(f"{path} answered {status} for the logged-in resident")
            report.load["mijn"] = measure(args, report, server.pid, base_url, PAGE_NAMES["mijn"], path, "GET",
                                          resident_cookie, [])
        for target in intakes:
            headers = {**target.headers, **({"Idempotency-Key": "check-" + secrets.token_hex(8)}
                                             if target.idempotency else {})}
            status = check_once(base_url, target.path, "POST", headers, target.bodies[0])
            if status >= 400:
                raise SystemExit(f"{target.path} answered {status} to the intake request ({target.name})")
            report.load[f"intake_{target.name}"] = measure(
                args, report, server.pid, base_url, f"intake ({target.name})", target.path, "POST", target.headers,
                target.bodies, target.idempotency)
        if args.only in (None, "queue") and not has_queue:
            report.load["queue_query_in_process"] = queue_query_in_process(app, slug, args.duration)
        if args.only in (None, "intake") and not intakes:
            report.load["intake_in_process"] = intake_in_process(app, slug, args.duration)
        report.worker_memory_mb = worker_memory(server.pid)
    filed = sum(r.requests for name, runs in report.attempts.items() if name.startswith("intake") for r in runs)
    if filed:
        report.notes.append(f"the intake measurements filed about {filed} cases (descriptions contain "
                            f"{BENCH_MARKER!r}): reseed before measuring the queue again")
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False))
    shutil.rmtree(instance, ignore_errors=True)
    return report


def measure(args: argparse.Namespace, report: Report, server_pid: int, base_url: str, what: str, path: str,
            method: str, headers: dict[str, str], bodies: list[str], idempotency: bool = False) -> LoadResult:
    """Warm up, then load ``--repeat`` times (each after waiting for a quiet machine, if asked).
    Reported: the median of the runs other processes left undisturbed (≤ ``QUIET_CORES``), else the
    least disturbed run; every run is kept in the report."""
    results = []
    for attempt in range(args.repeat):
        if args.wait_quiet:
            report.notes.append(f"{what} #{attempt + 1}: {wait_until_quiet(args.wait_quiet)}")
        wrk(args, base_url, "warm-up", path, method, headers, bodies, args.warmup, idempotency)
        with cpu_window(server_pid, args.database_url) as cpu:
            result = wrk(args, base_url, what, path, method, headers, bodies, args.duration, idempotency)
        result.machine_cores, result.others_cores = cpu.machine_cores, cpu.others_cores
        result.stolen_cores, result.iowait_cores, result.postgres = cpu.stolen_cores, cpu.iowait_cores, cpu.postgres
        log(f"  {what} #{attempt + 1}: {result.rps:.1f} req/s (CPU busy {result.machine_cores} cores, others "
            f"{result.others_cores}, I/O wait {result.iowait_cores}; PostgreSQL {result.postgres})")
        results.append(result)
    report.attempts[what] = results
    quiet_runs = sorted((r for r in results if r.others_cores <= QUIET_CORES), key=lambda r: r.rps)
    best = quiet_runs[(len(quiet_runs) - 1) // 2] if quiet_runs else min(results, key=lambda r: r.others_cores)
    if len(results) > 1:
        report.notes.append(f"{what}: " + ", ".join(f"{r.rps:.1f} req/s (others {r.others_cores} cores)"
                                                    for r in results) + "; reported: " + (
            "the median of the undisturbed runs" if quiet_runs else "the least disturbed run"))
    return best


def print_report(report: Report) -> None:
    print(f"\n== {report.label}: {report.cases_total:,} cases ({report.cases_in_tenant:,} in {report.tenant}, "
          f"{report.open_in_queue:,} open in the {DEPARTMENT} queue) — {report.date}")
    for name, result in report.load.items():
        target = TARGETS.get(f"{name.split('_')[0]}_rps")
        verdict = "" if target is None else ("  MET" if result.rps >= target else "  MISSED") + f" (≥ {target:g})"
        latency = ", ".join(f"{k} {v:.1f} ms" for k, v in result.latency_ms.items())
        print(f"{result.what:<28} {result.rps:8.1f} req/s{verdict}   {result.requests} requests in "
              f"{result.seconds:.1f} s; {latency}; errors {result.errors}, non-2xx/3xx {result.non_2xx_3xx}; "
              f"CPU busy {result.machine_cores} cores, of which others {result.others_cores}; "
              f"stolen by the hypervisor {result.stolen_cores}; waiting for I/O {result.iowait_cores}")
    print(f"intake via: {report.intake_mode}; queue via: {report.queue_mode}")
    print("data shown: " + ", ".join(f"{name} {value:,}" for name, value in report.data.items()))
    for name, value in report.queries.items():
        print(f"SQL statements {name:<28} {value}")
    memory = report.worker_memory_mb
    verdict = "MET" if max(memory.get("rss", [0])) <= TARGETS["worker_rss_mb"] else "MISSED"
    print(f"worker RSS MB {memory.get('rss')}: {verdict} (≤ 115); PSS {memory.get('pss')}, USS {memory.get('uss')}")
    for note in report.notes:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
