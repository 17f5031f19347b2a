"""Seed a PostgreSQL database with N cases, fast, for the benchmarks (see bench/README.md).

Migrates the database and applies ``tenants/`` through the app (``core.migrate.upgrade``,
``core.tenancy.service.apply_tenants``), then bulk-loads cases and their events over the demo
municipalities: each batch is COPYed into a temporary table (PostgreSQL refuses ``COPY FROM`` into
a table with row-level security) and moved with one ``INSERT … SELECT``, under the audited
``app.all_tenants`` setting. Rows respect the schema: ``tenant_id`` everywhere, references
``<PREFIX>-<YYYY>-<seq>`` unique per municipality (the reference counters are set to match, so
intake numbers on), unique follow-token hashes, composite keys to departments and merged parents.

    .venv/bin/python bench/seed.py --database-url URL --migration-database-url OWNER_URL --cases 10000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import shapely
from sqlalchemy.engine import make_url

from core.cases.demo_data import (
    CHANNEL_WEIGHTS,
    DESCRIPTIONS,
    EXTRA_FIELDS,
    FIRST_NAMES,
    LAST_NAMES,
    NOT_SOLVED_REASONS,
    PLACES,
    REFERRALS,
    STREETS,
    TYPE_WEIGHTS,
)

REPO = Path(__file__).resolve().parent.parent
CHANNELS = list(CHANNEL_WEIGHTS)
CHANNEL_WEIGHTS_LIST = list(CHANNEL_WEIGHTS.values())

# The municipalities' weight, roughly their population (Lochristi is the largest).
TENANT_WEIGHTS = {"lochristi": 23, "destelbergen": 18, "wachtebeke": 8, "moerbeke": 7}
CASE_COLUMNS = (
    "id", "tenant_id", "reference", "type_code", "kind", "status", "resolution", "resolution_note",
    "referred_to", "channel", "description", "data", "lat", "lon", "address", "department_id",
    "merged_into_id", "reporter_name", "reporter_email", "reporter_phone", "reporter_address",
    "preferred_channel", "language", "follow_token_hash", "satisfied", "created_at", "updated_at",
    "last_activity_at", "due_at", "closed_at",
)
EVENT_COLUMNS = ("id", "tenant_id", "case_id", "kind", "visible_to_citizen", "body", "from_status", "to_status",
                 "actor", "created_at")
# Status by age: young cases are mostly open, old ones mostly closed (a small stale backlog stays).
STATUS_BY_AGE: tuple[tuple[float, dict[str, float]], ...] = (
    (14, {"nieuw": 40, "in_behandeling": 35, "wacht_op_burger": 8, "afgehandeld": 15, "geannuleerd": 2}),
    (90, {"nieuw": 5, "in_behandeling": 15, "wacht_op_burger": 4, "heropend": 1, "afgehandeld": 65,
          "doorverwezen": 6, "geannuleerd": 3, "samengevoegd": 1}),
    (float("inf"), {"nieuw": 0.5, "in_behandeling": 1, "wacht_op_burger": 0.3, "heropend": 0.2, "afgehandeld": 86,
                    "doorverwezen": 6, "geannuleerd": 4, "samengevoegd": 2}),
)
CLOSED = {"afgehandeld", "doorverwezen", "geannuleerd", "samengevoegd"}
RESOLUTIONS = {"opgelost": 80, "niet_opgelost": 12, "niet_bevoegd": 8}


@dataclass
class Town:
    """What the seeder needs to know of one municipality."""

    slug: str
    id: int
    name: str
    departments: dict[str, int]
    types: list[tuple[str, str, str, str | None, int]]  # code, kind, prefix, department code, target days
    type_weights: list[float]
    boundary: dict[str, Any]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("FYGITAAL_DATABASE_URL"),
                        help="the app role's URL (it gets the data rights); default $FYGITAAL_DATABASE_URL")
    parser.add_argument("--migration-database-url", default=os.environ.get("FYGITAAL_MIGRATION_DATABASE_URL"),
                        help="the owner's URL (migrates and loads); default $FYGITAAL_MIGRATION_DATABASE_URL, "
                             "else the database URL")
    parser.add_argument("--cases", type=int, required=True, help="how many cases to create")
    parser.add_argument("--years", type=float, default=5.0, help="spread the cases over this many years (5)")
    parser.add_argument("--batch", type=int, default=20_000, help="cases per COPY batch (20000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    args = parser.parse_args(argv)
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("give --database-url postgresql+psycopg://… (the benchmarks run on PostgreSQL)")
    args.migration_database_url = args.migration_database_url or args.database_url
    return args


def prepare(database_url: str, migration_url: str) -> list[Town]:
    """Migrate, apply tenants/, and read what the generator needs, through the app itself."""
    os.environ["FYGITAAL_DATABASE_URL"] = database_url
    os.environ["FYGITAAL_MIGRATION_DATABASE_URL"] = migration_url
    os.environ.setdefault("FYGITAAL_SECRET_KEY", "bench-seed-only")
    os.environ.setdefault("FYGITAAL_INSTANCE_PATH", tempfile.mkdtemp(prefix="fygitaal-bench-"))
    from sqlalchemy import select

    from core import migrate
    from core.app import create_app
    from core.cases.types import case_types_for
    from core.db import database
    from core.tenancy.isolation import set_tenant
    from core.tenancy.models import Department
    from core.tenancy.service import apply_tenants, list_tenants

    app = create_app()
    towns: list[Town] = []
    with app.app_context():
        log("migrating the database …")
        migrate.upgrade(app)
        log("applying tenants/ …")
        with database(app).session_scope() as session:
            for result in apply_tenants(session, REPO / "tenants", app.extensions["fygitaal.plugins"]):
                log(f"  {result.slug}: {result.outcome}")
        with database(app).session_scope() as session:
            for tenant in list_tenants(session):
                if tenant.slug not in TENANT_WEIGHTS:
                    continue
                set_tenant(session, tenant.id)
                departments = {d.code: d.id for d in session.scalars(select(Department))}
                types = [(t.code, t.kind, t.prefix, t.department, t.target_days)
                         for t in case_types_for(tenant).values()]
                weights = [TYPE_WEIGHTS.get(code, 5) for code, *_rest in types]
                towns.append(Town(tenant.slug, tenant.id, tenant.name, departments, types, weights,
                                  tenant.boundary))
                set_tenant(session, None)
        database(app).engine.dispose()
    if not towns:
        raise SystemExit("none of the demo municipalities is in tenants/")
    return towns


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def points_inside(boundary: dict[str, Any], count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` (lat, lon) pairs uniformly inside the boundary (vectorised rejection sampling)."""
    area = shapely.geometry.shape(boundary)
    shapely.prepare(area)
    min_lon, min_lat, max_lon, max_lat = area.bounds
    found: list[np.ndarray] = []
    total = 0
    while total < count:
        want = max(1000, int((count - total) * 2.2))
        lon = rng.uniform(min_lon, max_lon, want)
        lat = rng.uniform(min_lat, max_lat, want)
        inside = shapely.contains_xy(area, lon, lat)
        block = np.column_stack([lat[inside], lon[inside]]).round(6)
        found.append(block)
        total += len(block)
    return np.concatenate(found)[:count]


class Generator:
    """Builds case and event rows; cases come in time order, so ids and references follow time."""

    def __init__(self, towns: list[Town], total: int, years: float, seed: int, first_case_id: int,
                 first_event_id: int) -> None:
        self.towns = towns
        self.rng = random.Random(seed)  # noqa: S311 - benchmark data, not security
        nprng = np.random.default_rng(seed)
        self.now = datetime.now(UTC).replace(microsecond=0)
        span = timedelta(days=365.25 * years).total_seconds()
        offsets = np.sort(nprng.uniform(0, span, total))[::-1]  # seconds before now, oldest first
        self.offsets = offsets.tolist()
        weights = [TENANT_WEIGHTS[t.slug] for t in towns]
        self.town_of = self.rng.choices(range(len(towns)), weights=weights, k=total)
        per_town = [self.town_of.count(i) for i in range(len(towns))]
        self.points = [points_inside(t.boundary, max(n, 1), nprng) for t, n in zip(towns, per_town, strict=True)]
        self.used_points = [0] * len(towns)
        self.counters: dict[tuple[int, str, int], int] = defaultdict(int)
        self.last_of_type: dict[tuple[int, str], int] = {}
        self.next_case_id = first_case_id
        self.next_event_id = first_event_id
        self.position = 0

    def batch(self, size: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        cases: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        end = min(self.position + size, len(self.offsets))
        for index in range(self.position, end):
            case, case_events = self.case(index)
            cases.append(case)
            events.extend(case_events)
        self.position = end
        return cases, events

    def case(self, index: int) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        rng = self.rng
        town_index = self.town_of[index]
        town = self.towns[town_index]
        created = self.now - timedelta(seconds=self.offsets[index])
        age_days = self.offsets[index] / 86400
        code, kind, prefix, department, target_days = rng.choices(town.types, weights=town.type_weights)[0]
        statuses = next(table for limit, table in STATUS_BY_AGE if age_days < limit)
        status = rng.choices(list(statuses), weights=list(statuses.values()))[0]
        if kind == "vraag" and age_days > 30 and status not in CLOSED:
            status = "afgehandeld"  # questions close after 30 days without activity
        case_id = self.next_case_id
        self.next_case_id += 1
        merged_into = self.last_of_type.get((town.id, code)) if status == "samengevoegd" else None
        if status == "samengevoegd" and merged_into is None:
            status = "geannuleerd"
        self.last_of_type[(town.id, code)] = case_id
        self.counters[(town.id, prefix, created.year)] += 1
        reference = f"{prefix}-{created.year}-{self.counters[(town.id, prefix, created.year)]:05d}"
        street = rng.choice(STREETS)
        description = rng.choice(DESCRIPTIONS.get(code, DESCRIPTIONS["zwerfvuil"])).format(
            street=street, place=rng.choice(PLACES))
        lat = lon = address = None
        if kind == "melding":
            point = self.points[town_index][self.used_points[town_index]]
            self.used_points[town_index] += 1
            lat, lon = float(point[0]), float(point[1])
            address = f"{street} {rng.randint(1, 180)}, {town.name}"
        data = EXTRA_FIELDS[code](rng) if code in EXTRA_FIELDS else {}
        reporter = self.reporter(kind)
        resolution = note = referred = None
        if status == "afgehandeld":
            resolution = rng.choices(list(RESOLUTIONS), weights=list(RESOLUTIONS.values()))[0]
            note = rng.choice(NOT_SOLVED_REASONS) if resolution == "niet_opgelost" else None
        elif status == "doorverwezen":
            referred = REFERRALS.get(code, "de provincie")
        timeline = self.timeline(status, created)
        closed_at = timeline[-1][0] if status in CLOSED else None
        last = timeline[-1][0]
        department_id = town.departments.get(department) if department else None
        token_hash = hashlib.sha256(f"bench:{town.id}:{case_id}:{rng.random()}".encode()).hexdigest()
        row = (
            case_id, town.id, reference, code, kind, status, resolution, note, referred,
            rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS_LIST)[0], description, json.dumps(data), lat, lon, address,
            department_id, merged_into, reporter.get("name"), reporter.get("email"), reporter.get("phone"),
            reporter.get("address"), reporter.get("preferred"), "nl", token_hash,
            (rng.random() < 0.8) if status == "afgehandeld" and rng.random() < 0.3 else None,
            created, last, last, created + timedelta(days=target_days), closed_at,
        )
        events = []
        for at, event_kind, old, new, actor in timeline:
            events.append((self.next_event_id, town.id, case_id, event_kind, True, None, old, new, actor, at))
            self.next_event_id += 1
        return row, events

    def reporter(self, kind: str) -> dict[str, str]:
        rng = self.rng
        if kind == "melding" and rng.random() < 0.35:
            return {}
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if rng.random() < 0.08:
            return {"name": name, "address": f"{rng.choice(STREETS)} {rng.randint(1, 180)}", "preferred": "brief"}
        email = name.lower().replace(" ", ".").replace("-", "") + "@example.org"
        return {"name": name, "email": email, "preferred": "e-mail"}

    def timeline(self, status: str, created: datetime) -> list[tuple[datetime, str, str | None, str | None, str]]:
        """The case's events: its filing, then the state changes that brought it to ``status``."""
        steps: list[tuple[str, str | None, str | None, str]] = [("created", None, "nieuw", "burger")]
        staff = "bench-behandelaar"
        path = {
            "nieuw": [],
            "in_behandeling": ["in_behandeling"],
            "wacht_op_burger": ["in_behandeling", "wacht_op_burger"],
            "heropend": ["in_behandeling", "afgehandeld", "heropend"],
            "afgehandeld": ["in_behandeling", "afgehandeld"],
            "doorverwezen": ["doorverwezen"],
            "geannuleerd": ["geannuleerd"],
        }.get(status, [])
        previous = "nieuw"
        for new in path:
            steps.append(("status", previous, new, "burger" if new == "heropend" else staff))
            previous = new
        if status == "samengevoegd":
            steps.append(("merged", "nieuw", "samengevoegd", staff))
        room = (self.now - created).total_seconds()
        at, result = created, []
        for index, (kind, old, new, actor) in enumerate(steps):
            if index:
                at = at + timedelta(seconds=min(self.rng.expovariate(1 / 129600), room / len(steps)))
            result.append((at, kind, old, new, actor))
        return result


def copy_rows(cursor: psycopg.Cursor, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(args: argparse.Namespace, towns: list[Town]) -> None:
    started = time.monotonic()
    with psycopg.connect(libpq_url(args.migration_database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.all_tenants', 'on', false)")
        cursor.execute("SELECT count(*) FROM case_file")
        existing = cursor.fetchone()
        if existing and existing[0]:
            raise SystemExit(f"the database holds {existing[0]} cases already: seed a fresh one "
                             "(.ci/pg-setup fygitaal_bench_NAME)")
        cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM case_event")
        first_event = cursor.fetchone()[0]  # type: ignore[index]
        cursor.execute("CREATE TEMP TABLE bench_case (LIKE case_file) ON COMMIT DELETE ROWS")
        cursor.execute("CREATE TEMP TABLE bench_event (LIKE case_event) ON COMMIT DELETE ROWS")
        connection.commit()
        generator = Generator(towns, args.cases, args.years, args.seed, 1, first_event)
        log(f"generated the time line in {time.monotonic() - started:.1f} s; loading {args.cases:,} cases …")
        events_total = 0
        while generator.position < args.cases:
            cases, events = generator.batch(args.batch)
            cursor.execute("SELECT set_config('app.all_tenants', 'on', true)")
            copy_rows(cursor, "bench_case", CASE_COLUMNS, cases)
            copy_rows(cursor, "bench_event", EVENT_COLUMNS, events)
            columns, event_columns = ", ".join(CASE_COLUMNS), ", ".join(EVENT_COLUMNS)
            cursor.execute(f"INSERT INTO case_file ({columns}) SELECT {columns} FROM bench_case")  # noqa: S608
            cursor.execute(f"INSERT INTO case_event ({event_columns}) SELECT {event_columns} FROM bench_event")  # noqa: S608
            connection.commit()
            events_total += len(events)
            progress(generator.position, args.cases, events_total, started)
        print(file=sys.stderr)
        log("setting reference counters and sequences …")
        cursor.execute("SELECT set_config('app.all_tenants', 'on', true)")
        rows = [(tenant_id, prefix, year, last) for (tenant_id, prefix, year), last in generator.counters.items()]
        cursor.executemany(
            "INSERT INTO reference_counter (tenant_id, prefix, year, last) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (tenant_id, prefix, year) DO UPDATE SET last = greatest(reference_counter.last, "
            "excluded.last)", rows)
        for table in ("case_file", "case_event"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                           f"(SELECT max(id) FROM {table}))")
        connection.commit()
        log("vacuum analyze …")
        connection.autocommit = True
        cursor.execute("VACUUM (ANALYZE) case_file")
        cursor.execute("VACUUM (ANALYZE) case_event")
        cursor.execute("VACUUM (ANALYZE) reference_counter")
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]  # type: ignore[index]
    elapsed = time.monotonic() - started
    log(f"done: {args.cases:,} cases and {events_total:,} events in {elapsed:.0f} s "
        f"({args.cases / elapsed:,.0f} cases/s); database size {size}")


def progress(done: int, total: int, events: int, started: float) -> None:
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed else 0
    eta = (total - done) / rate if rate else 0
    print(f"\r  cases {done:>10,}/{total:,} ({100 * done / total:5.1f} %)  events {events:>11,}  "
          f"{rate:8,.0f} cases/s  ETA {eta:5.0f} s", end="", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.monotonic()
    towns = prepare(args.database_url, args.migration_database_url)
    log(f"prepared in {time.monotonic() - started:.1f} s: {', '.join(t.slug for t in towns)}")
    load(args, towns)


if __name__ == "__main__":
    main()
