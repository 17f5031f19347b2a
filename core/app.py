"""The application factory: configuration, database, plugins, tenancy and the web shell."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from core import db, i18n, security, web
from core.config import load_config
from core.logs import configure_logging
from core.plugins.manager import PluginRegistry
from core.tenancy import resolution


def _register_plugin_blueprints(app: Flask, registry: PluginRegistry) -> None:
    """Mount each plugin's blueprints under ``/<tenant>/``; a failing plugin is left out."""
    owners: dict[str, str] = {}
    for plugin_name, blueprints in registry.call_each("fygitaal_blueprints"):
        for blueprint in blueprints or []:
            prefix = blueprint.url_prefix or f"/{plugin_name}"
            app.register_blueprint(blueprint, url_prefix=f"/<tenant>{prefix}")
            owners[blueprint.name] = plugin_name
    app.extensions["fygitaal.blueprint_owners"] = owners


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides the ``FYGITAAL_*`` environment (tests use it)."""
    instance_path = Path(os.environ.get("FYGITAAL_INSTANCE_PATH", "instance")).resolve()
    app = Flask(__name__, instance_path=str(instance_path))
    app.config.update(load_config(instance_path, config))
    if app.config["ENV"] != "testing":
        configure_logging()

    db.init_app(app)
    registry = PluginRegistry()
    for name, module in app.config.get("EXTRA_PLUGINS", {}).items():
        registry.register(module, name)
    registry.discover()
    app.extensions["fygitaal.plugins"] = registry

    i18n.init_app(app, registry)
    security.init_app(app)
    resolution.init_app(app)
    web.init_app(app)
    _register_plugin_blueprints(app, registry)
    registry.call_each("fygitaal_cli", cli=app.cli)

    @app.context_processor
    def _language() -> dict[str, str]:
        return {"current_language": str(get_locale() or "nl")}

    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app
