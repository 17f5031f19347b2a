"""Rate limits keyed on the client address; ``X-Forwarded-For`` counts only behind the configured
number of trusted proxies (ProxyFix), so a spoofed header buys no fresh quota."""

from __future__ import annotations

import logging

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from core.security import SAFE_METHODS


def _safe_method() -> bool:
    return request.method in SAFE_METHODS


def init_app(app: Flask) -> Limiter:
    """Every POST gets the default limit; stricter limits are put on endpoints by name."""
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        default_limits=[app.config["RATELIMIT_POST"]],
        default_limits_exempt_when=_safe_method,
        headers_enabled=True,
    )
    app.extensions["fygitaal.limiter"] = limiter
    # Flask-Limiter logs each breach with the client address: personal data, kept out of the logs.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    return limiter


def limit_endpoints(app: Flask, endpoints: list[str], limit: str) -> None:
    """Put ``limit`` on these endpoints (all methods), e.g. login and the token endpoint."""
    limiter: Limiter = app.extensions["fygitaal.limiter"]
    for endpoint in endpoints:
        app.view_functions[endpoint] = limiter.limit(limit)(app.view_functions[endpoint])
