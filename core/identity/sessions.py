"""Server-side sessions: a table row per session, a random id in the cookie.

A row is written only when a session holds something (a login in progress, a logged-in person),
so anonymous visitors cost nothing. The id is replaced at login (no fixation); a session ends
after ``SESSION_IDLE_MINUTES`` without a request or ``SESSION_LIFETIME_HOURS`` after login,
whichever comes first; logging out or deactivating a staff member deletes every session of
that person.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete
from werkzeug.datastructures import CallbackDict

from core.clock import as_utc, now
from core.db import close_request_session, database
from core.identity.models import UserSession

TOUCH_INTERVAL = timedelta(minutes=1)


def hash_session_id(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    """The request's session; ``account_id`` is who is logged in (None for a visitor)."""

    def __init__(self, data: dict[str, Any] | None = None, sid: str | None = None,
                 account_id: int | None = None, created_at: datetime | None = None,
                 last_seen_at: datetime | None = None) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.sid = sid
        self.account_id = account_id
        self.created_at = created_at
        self.last_seen_at = last_seen_at
        self.modified = False
        self.rotate = False
        self.ended = False

    def log_in(self, account_id: int) -> None:
        """Attach a person and ask for a fresh id (the old one is dropped)."""
        self.account_id = account_id
        self.rotate = True
        self.modified = True

    def end(self) -> None:
        """Forget this session (its row is deleted by the logout service)."""
        self.clear()
        self.account_id = None
        self.ended = True


def expired(app: Flask, created_at: datetime, last_seen_at: datetime, at: datetime) -> bool:
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    lifetime = timedelta(hours=app.config["SESSION_LIFETIME_HOURS"])
    return at - as_utc(last_seen_at) > idle or at - as_utc(created_at) > lifetime


class DatabaseSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or len(sid) > 128:
            return ServerSession()
        with database(app).session_scope() as db:
            row = db.get(UserSession, hash_session_id(sid))
            if row is None:
                return ServerSession()
            if expired(app, row.created_at, row.last_seen_at, now()):
                db.delete(row)
                return ServerSession()
            return ServerSession(row.data, sid, row.account_id, as_utc(row.created_at),
                                 as_utc(row.last_seen_at))

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:  # type: ignore[override]
        # The request's own work is done: close its session first, so the session row is written
        # on a connection of its own (and, in tests, is not undone by that session's rollback).
        close_request_session()
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if session.ended or (session.sid and not session and session.account_id is None):
            if session.sid:
                self._delete(app, session.sid)
                response.delete_cookie(name, domain=domain, path=path)
            return
        if not session and session.account_id is None:
            return  # a visitor with nothing to remember: no row, no cookie
        at = now()
        if session.sid is None or session.rotate:
            if session.sid:
                self._delete(app, session.sid)
            session.sid = secrets.token_urlsafe(32)
            self._insert(app, session, at)
        elif session.modified or at - (session.last_seen_at or at) > TOUCH_INTERVAL:
            self._update(app, session, at)
        else:
            return
        response.set_cookie(
            name, session.sid, httponly=True, secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app), domain=domain, path=path,
        )

    def _insert(self, app: Flask, session: ServerSession, at: datetime) -> None:
        """A new id: a new session (the absolute lifetime counts from here, i.e. from login)."""
        with database(app).session_scope() as db:
            db.add(UserSession(id_hash=hash_session_id(session.sid), account_id=session.account_id,
                               data=dict(session), created_at=at, last_seen_at=at))

    def _update(self, app: Flask, session: ServerSession, at: datetime) -> None:
        with database(app).session_scope() as db:
            row = db.get(UserSession, hash_session_id(session.sid))
            if row is not None:
                row.data, row.account_id, row.last_seen_at = dict(session), session.account_id, at

    def _delete(self, app: Flask, sid: str) -> None:
        with database(app).session_scope() as db:
            db.execute(delete(UserSession).where(UserSession.id_hash == hash_session_id(sid)))


def end_sessions_of(db: Any, account_id: int) -> int:
    """Delete every session of one person (logout, deactivation); returns how many."""
    result = db.execute(delete(UserSession).where(UserSession.account_id == account_id))
    return result.rowcount or 0
