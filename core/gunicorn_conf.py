"""gunicorn settings for production: ``gunicorn -c python:core.gunicorn_conf 'core.app:create_app()'``.

The app is built once in the master (``preload_app``), so the workers share its imported code
copy-on-write instead of each loading its own copy. A pooled database connection must never be
shared by two processes: each worker drops the pool it inherited (without closing the master's
connections) and opens its own.
"""

from __future__ import annotations

from typing import Any

from core.db import database

preload_app = True
workers = 2


def post_fork(server: Any, worker: Any) -> None:
    """A fresh connection pool in every worker."""
    database(server.app.wsgi()).engine.dispose(close=False)
