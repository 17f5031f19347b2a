"""HTTP security for every response and CSRF protection for every form.

CSRF uses a per-session secret and a token in each form (``{{ csrf_field() }}``); a POST without
a valid token is refused with a clear page and changes nothing. API blueprints that authenticate
with bearer tokens are exempted by name.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, current_app, request, session
from markupsafe import Markup

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_FIELD = "csrf_token"


def csrf_token() -> str:
    """This session's form token, created on first use."""
    token = session.get("_csrf")
    if token is None:
        token = secrets.token_urlsafe(32)
        session["_csrf"] = token
    return token


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf_token())


def csrf_exempt_blueprint(app: Flask, blueprint_name: str) -> None:
    """For API blueprints whose callers authenticate with bearer tokens, not cookies."""
    app.extensions["fygitaal.csrf_exempt"].add(blueprint_name)


def _check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    if request.blueprint in current_app.extensions["fygitaal.csrf_exempt"]:
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token", "")
    expected = session.get("_csrf")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="csrf")


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.extensions["fygitaal.csrf_exempt"] = set()
    app.before_request(_check_csrf)
    app.after_request(_add_headers)
    app.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field)
