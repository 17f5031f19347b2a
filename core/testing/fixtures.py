"""Fixtures for testing Fygitaal and its plugins against a real, migrated database.

The suite runs on SQLite by default; ``FYGITAAL_TEST_DATABASE_URL`` (the app's role) and
optionally ``FYGITAAL_TEST_MIGRATION_DATABASE_URL`` (the owner that migrates) run it on
PostgreSQL. Each test runs inside a transaction that is rolled back afterwards: the app's own
commits become savepoints (``join_transaction_mode="create_savepoint"``).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from click import Command
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from oidc_provider_mock import app as oidc_provider_app
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from core import migrate
from core.app import create_app
from core.clock import Clock, FrozenClock
from core.db import database, make_engine
from core.plugins.manager import PluginInfo
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Region, Tenant
from core.tenancy.service import forget_tenant_caches

_NIS_CODES = itertools.count(90001)
SQUARE = {"type": "Polygon", "coordinates": [[[3.80, 51.08], [3.84, 51.08], [3.84, 51.12],
                                                [3.80, 51.12], [3.80, 51.08]]]}


def _reset_postgresql(migration_url: str) -> None:
    """Start from an empty schema (as the owner), so every run migrates from scratch."""
    engine = make_engine(migration_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """``(app_url, migration_url)`` of a freshly migrated test database."""
    url = os.environ.get("FYGITAAL_TEST_DATABASE_URL")
    if not url:
        path = tmp_path_factory.mktemp("db") / "test.db"
        return f"sqlite:///{path}", f"sqlite:///{path}"
    migration_url = os.environ.get("FYGITAAL_TEST_MIGRATION_DATABASE_URL", url)
    _reset_postgresql(migration_url)
    return url, migration_url


def make_test_app(database_urls: tuple[str, str], instance_path: Path, **config: Any) -> Flask:
    """An app in testing mode on the test database (migrated by the ``app`` fixture)."""
    os.environ["FYGITAAL_INSTANCE_PATH"] = str(instance_path)
    app_url, migration_url = database_urls
    return create_app({
        "ENV": "testing", "SECRET_KEY": "test-secret", "DATABASE_URL": app_url,
        "MIGRATION_DATABASE_URL": migration_url, "TESTING": True,
        "SQLITE_IMMEDIATE": False,  # each test holds one outer transaction; see core.db.make_engine
        **config,
    })


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[str]:
    """A real OpenID Connect provider (oidc-provider-mock) on loopback; yields its issuer URL."""
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on loopback only
    server = make_server("127.0.0.1", 0, oidc_provider_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def app(
    database_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory, oidc_provider: str
) -> Flask:
    """The app, on a database migrated to every head, with the test provider as platform IdP."""
    app = make_test_app(
        database_urls, tmp_path_factory.mktemp("instance"),
        OIDC_ISSUER=oidc_provider, OIDC_CLIENT_ID="fygitaal-test", OIDC_CLIENT_SECRET="test-secret",  # noqa: S106 - the test provider accepts any
    )
    with app.app_context():
        migrate.upgrade(app)
    return app


@pytest.fixture
def clock(app: Flask) -> Iterator[FrozenClock]:
    """The app's clock, frozen for this test; ``clock.advance(minutes=31)`` moves it."""
    frozen = FrozenClock()
    app.extensions["fygitaal.clock"] = frozen
    yield frozen
    app.extensions["fygitaal.clock"] = Clock()


def login_as(client: FlaskClient, oidc_provider: str, subject: str, *, tenant: str | None = None,
             claims: dict[str, Any] | None = None, next_url: str | None = None) -> Any:
    """Log in through the real provider: our login page, the provider's form, our callback.

    Returns the callback's response (a redirect when the login succeeded).
    """
    if claims is not None:
        requests.put(f"{oidc_provider}/users/{subject}", json=claims, timeout=10).raise_for_status()
    start = f"/{tenant}/login" if tenant else "/login"
    response = client.get(start, query_string={"next": next_url} if next_url else None)
    assert response.status_code == 302, response.status_code
    authorize = response.headers["Location"]
    at_provider = requests.post(authorize, data={"sub": subject}, allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    callback = urlsplit(at_provider.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


@contextmanager
def joined_to(app: Flask, connection: Connection) -> Iterator[None]:
    """Make ``app``'s sessions work inside ``connection``'s transaction (commits → savepoints)."""
    factory = database(app).sessionmaker
    factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        factory.configure(bind=database(app).engine, join_transaction_mode="conservative_savepoint")


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session whose work, and the app's during the test, is rolled back afterwards."""
    connection = database(app).engine.connect()
    outer = connection.begin()
    with joined_to(app, connection):
        session = database(app).sessionmaker()
        try:
            yield session
        finally:
            session.close()
            outer.rollback()
            connection.close()
            forget_tenant_caches(app)  # ids are reused after the rollback


class QueryCounter:
    """Counts the SQL statements the app runs inside ``with counter:`` (N+1 detection)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    @property
    def count(self) -> int:
        """Statements other than savepoint bookkeeping and per-transaction tenant settings."""
        return sum(1 for s in self.statements
                   if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO", "SELECT SET_CONFIG")))


@pytest.fixture
def query_counter(app: Flask, db_session: Session) -> QueryCounter:
    """``with query_counter as q: client.get(...)``, then ``q.count``."""
    return QueryCounter(database(app).engine)


@pytest.fixture
def client(app: Flask, db_session: Session) -> FlaskClient:
    """A browser without cookies; rate-limit counters start from zero for each test."""
    app.extensions["fygitaal.limiter"].reset()
    return app.test_client()


class CliRunner(FlaskCliRunner):
    """Invokes the ``fygitaal`` command line by default."""

    def invoke(self, cli: Command | None = None, args: Any = None, **kwargs: Any) -> Result:
        from core.cli import main

        return super().invoke(cli or main, args, **kwargs)


@pytest.fixture
def runner(app: Flask, db_session: Session) -> CliRunner:
    return CliRunner(app)


@pytest.fixture
def make_tenant(app: Flask, db_session: Session) -> Callable[..., Tenant]:
    """Create a municipality: ``make_tenant("a", plugins={"grofvuil": {...}})``."""

    def _make(slug: str, plugins: dict[str, dict] | None = None, **fields: Any) -> Tenant:
        set_tenant(db_session, None)
        region = db_session.query(Region).filter_by(slug="testregio").one_or_none()
        if region is None:
            region = Region(slug="testregio", name="Testregio")
        registry = app.extensions["fygitaal.plugins"]
        settings = {
            name: registry.plugins[name].manifest.settings_schema().load(values)
            for name, values in (plugins or {}).items()
        }
        tenant = Tenant(
            slug=slug, name=fields.pop("name", slug.title()),
            nis_code=fields.pop("nis_code", str(next(_NIS_CODES))),
            region=region, languages=["nl"], boundary=fields.pop("boundary", SQUARE),
            identity=fields.pop("identity", {"provider": "platform"}), plugins=settings, **fields,
        )
        db_session.add(tenant)
        db_session.flush()
        return tenant

    return _make


def _marked_plugins(request: pytest.FixtureRequest) -> dict[str, dict]:
    marker = request.node.get_closest_marker("plugins")
    return {name: {} for name in (marker.args if marker else ())}


@pytest.fixture
def tenant(make_tenant: Callable[..., Tenant], request: pytest.FixtureRequest) -> Tenant:
    """Municipality A; ``@pytest.mark.plugins("name", …)`` enables those plugins for it."""
    return make_tenant("gemeente-a", plugins=_marked_plugins(request))


@pytest.fixture
def other_tenant(make_tenant: Callable[..., Tenant]) -> Tenant:
    """Municipality B, with no plugins: the one whose data A must never see."""
    return make_tenant("gemeente-b")


@pytest.fixture
def register_plugin(app: Flask) -> Iterator[Callable[[object, str], PluginInfo]]:
    """Register a plugin object for one test; it is always unregistered afterwards."""
    registry = app.extensions["fygitaal.plugins"]
    added: list[str] = []

    def _register(plugin: object, name: str) -> PluginInfo:
        added.append(name)
        info = registry.register(plugin, name)
        if info is None:
            raise AssertionError(f"plugin {name} was refused: {registry.failed.get(name)}")
        return info

    yield _register
    for name in added:
        registry.unregister(name)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "plugins(*names): enable these plugins for `tenant`")
