"""HTTP security for every response and CSRF protection for every form.

CSRF is a signed double-submit: a random value in an HttpOnly cookie, and in each form
(``{{ csrf_field() }}``) its HMAC under the app's secret. It needs no server-side session, so
anonymous visitors cost no database row. A POST without a valid token is refused with a clear page
and changes nothing. API blueprints that authenticate with bearer tokens are exempted by name.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from markupsafe import Markup

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_FIELD = "csrf_token"


def _csrf_cookie_name() -> str:
    return "__Host-csrf" if current_app.config["SESSION_COOKIE_SECURE"] else "fygitaal_csrf"


def _sign(value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"csrf:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The form token for this browser; sets the cookie half on first use."""
    value = request.cookies.get(_csrf_cookie_name()) or g.get("new_csrf_cookie")
    if not value:
        value = g.new_csrf_cookie = secrets.token_urlsafe(32)
    return _sign(value)


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
    cookie = request.cookies.get(_csrf_cookie_name())
    if not cookie or not hmac.compare_digest(sent.encode(), _sign(cookie).encode()):
        abort(400, description="csrf")


def _add_headers(response: Response) -> Response:
    if "new_csrf_cookie" in g:
        response.set_cookie(
            _csrf_cookie_name(), g.new_csrf_cookie, httponly=True, samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response


def keep_private(response: Response, *, no_referrer: bool = False) -> Response:
    """A page with personal data (or a token): browsers and proxies keep no copy; optionally no Referer."""
    if "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
    if no_referrer:
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def private_pages(blueprint: Blueprint, *, no_referrer: bool = False) -> None:
    """Every page of ``blueprint`` is private (see :func:`keep_private`)."""
    blueprint.after_request(lambda response: keep_private(response, no_referrer=no_referrer))


def init_app(app: Flask) -> None:
    app.extensions["fygitaal.csrf_exempt"] = set()
    app.before_request(_check_csrf)
    app.after_request(_add_headers)
    app.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field)
