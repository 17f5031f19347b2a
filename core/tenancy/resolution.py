"""Which municipality a request is for: the ``/<tenant>/`` URL segment, or the host it came on."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, g, request

from core.db import get_session
from core.tenancy.files import SLUG_PATTERN
from core.tenancy.isolation import set_tenant
from core.tenancy.service import tenant_by_slug

PLATFORM_PATHS = ("/static/", "/healthz", "/readyz")


class HostToTenant:
    """WSGI middleware for municipalities on their own domain: ``/x`` on the host → ``/<slug>/x``."""

    def __init__(self, wsgi_app: Any, host_map: dict[str, str]) -> None:
        self.wsgi_app = wsgi_app
        self.host_map = host_map

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        host = environ.get("HTTP_HOST", "").split(":", 1)[0].lower()
        slug = self.host_map.get(host)
        path = environ.get("PATH_INFO", "/")
        if slug and not path.startswith(PLATFORM_PATHS) and not path.startswith(f"/{slug}/"):
            environ["PATH_INFO"] = f"/{slug}{path}"
        return self.wsgi_app(environ, start_response)


def _pull_tenant(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Lift ``<tenant>`` out of the URL into ``g.tenant``; an unknown slug is a 404."""
    if not values or "tenant" not in values:
        return
    slug = values.pop("tenant")
    if not SLUG_PATTERN.match(slug):
        abort(404)  # never a municipality: no need to ask the database (and no odd bytes reach it)
    session = get_session()
    tenant = tenant_by_slug(session, slug)
    if tenant is None:
        abort(404)
    g.tenant = tenant
    set_tenant(session, tenant.id)


def _add_tenant(endpoint: str, values: dict[str, Any]) -> None:
    """Put the current tenant back when building a URL that needs one."""
    if "tenant" in values or "tenant" not in g:
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "tenant"):
        values["tenant"] = g.tenant.slug


def _refuse_disabled_plugin() -> None:
    """A plugin's routes answer 404 for a municipality that has not enabled the plugin."""
    owners: dict[str, str] = current_app.extensions["fygitaal.blueprint_owners"]
    plugin = owners.get(request.blueprint or "")
    if plugin is None:
        return
    if "tenant" not in g or not g.tenant.has_plugin(plugin):
        abort(404)


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_pull_tenant)
    app.url_defaults(_add_tenant)
    app.before_request(_refuse_disabled_plugin)
    if app.config["HOST_MAP"]:
        app.wsgi_app = HostToTenant(app.wsgi_app, app.config["HOST_MAP"])
