"""The database: declarative base, engine and the per-request session the whole app shares."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The one declarative base for core and plugin models (one metadata, one Alembic env)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Time is stored in UTC (DESIGN.md section 8)."""
    return datetime.now(UTC)


def _configure_sqlite(engine: Engine, immediate: bool) -> None:
    """Foreign keys on; transactions SQLAlchemy controls, so savepoints work in tests; and WAL, so
    the demo's web requests and its outbox worker (another thread) do not block each other."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE: a transaction that reads and then writes would otherwise fail at once with
        # "database is locked" when another thread wrote meanwhile; now it waits its turn.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, *, sqlite_immediate: bool = True) -> Engine:
    """A pooled engine; SQLite gets the settings that make it behave like a real database.

    ``sqlite_immediate=False`` is for the test kit, whose one long outer transaction per test
    would otherwise hold SQLite's write lock against every other connection.
    """
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, sqlite_immediate)
    return engine


class Database:
    """Owns the engine and the session factory of one app (kept in ``app.extensions``)."""

    def __init__(self, url: str, *, sqlite_immediate: bool = True) -> None:
        self.engine = make_engine(url, sqlite_immediate=sqlite_immediate)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session for work outside a request (CLI, worker): commits on success."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def database(app: Flask | None = None) -> Database:
    """The app's :class:`Database`."""
    return (app or current_app).extensions["fygitaal.db"]


def get_session() -> Session:
    """The request's session, created on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = database().sessionmaker()
    return g.db_session


def close_request_session() -> None:
    """End the request's session (uncommitted work is discarded, as a request's end does)."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.extensions["fygitaal.db"] = Database(
        app.config["DATABASE_URL"], sqlite_immediate=app.config.get("SQLITE_IMMEDIATE", True)
    )

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        close_request_session()
