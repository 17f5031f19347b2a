"""The app's clock: real time in production, a controllable one in tests (session expiry, tokens)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app


class Clock:
    """Real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """Time that moves only when a test says so."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime.now(UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def now() -> datetime:
    """The current time according to the app's clock."""
    return current_app.extensions["fygitaal.clock"].now()


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
