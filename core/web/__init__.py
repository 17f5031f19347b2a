"""The web shell: platform home, municipality home, language switch, health and error pages."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask_babel import gettext as _
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from core.api.problems import API_PREFIXES, problem
from core.db import database, get_session
from core.i18n import LANGUAGE_COOKIE, safe_next
from core.tenancy.service import list_tenants

bp = Blueprint("web", __name__)


class DatabaseId(IntegerConverter):
    """``<int:…>`` in a URL: a number the database's integer ids can hold, else the route does not
    match (404), instead of an out-of-range error from PostgreSQL."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


@bp.get("/")
def platform_home() -> str:
    """Every municipality on the platform, grouped by region."""
    regions: dict[str, list[Any]] = {}
    for tenant in list_tenants(get_session()):
        regions.setdefault(tenant.region.name, []).append(tenant)
    return render_template("platform_home.html", regions=regions)


@bp.get("/<tenant>/")
def tenant_home() -> str:
    registry = current_app.extensions["fygitaal.plugins"]
    services = [
        registry.plugins[name].manifest
        for name in sorted(g.tenant.plugins or {})
        if name in registry.plugins and registry.plugins[name].manifest.entry_endpoint
    ]
    return render_template("tenant_home.html", tenant=g.tenant, services=services)


@bp.post("/taal")
def choose_language() -> Response:
    """Remember the visitor's language (a form, so it works without JavaScript)."""
    language = request.form.get("taal", "")
    response = redirect(safe_next(request.form.get("next")), code=303)
    if language in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
        )
    return response


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The database answers."""
    try:
        with database().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.exception("readiness check failed")
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


def _error_text(code: int, description: str | None) -> tuple[str, str]:
    if code == 400 and description == "csrf":
        return _("Formulier verlopen"), _(
            "Dit formulier is verlopen of kwam niet van deze website. Er is niets gewijzigd. "
            "Ga terug, laad de pagina opnieuw en probeer het nog eens."
        )
    messages = {
        400: (_("Ongeldige aanvraag"), _("De aanvraag kon niet gelezen worden. Er is niets gewijzigd.")),
        403: (_("Geen toegang"), _("U hebt geen toegang tot deze pagina.")),
        404: (_("Pagina niet gevonden"), _("Deze pagina bestaat niet of is verplaatst.")),
        405: (_("Niet toegestaan"), _("Deze actie is hier niet mogelijk.")),
        413: (_("Te groot"), _("Wat u verstuurde is te groot. Er is niets gewijzigd.")),
        429: (_("Even geduld"), _("U stuurde te veel aanvragen. Probeer het straks opnieuw.")),
    }
    return messages.get(code, (_("Er ging iets mis"), _("Probeer het later opnieuw.")))


def _render_error(error: HTTPException) -> Response | tuple[str, int]:
    """Machines get problem details, people a page in their language; limits keep their headers."""
    code = error.code or 500
    title, message = _error_text(code, error.description)
    if request.path.startswith(API_PREFIXES):
        response = problem(code, message)
    else:
        response = current_app.make_response(
            (render_template("error.html", title=title, message=message, code=code), code)
        )
    if code == 429 and error.get_response().headers.get("Retry-After"):
        response.headers["Retry-After"] = error.get_response().headers["Retry-After"]
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(HTTPException, _render_error)
