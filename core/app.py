"""The application factory: configuration, database, plugins, tenancy and the web shell."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core import db, i18n, models, ratelimit, security, storage, web  # noqa: F401 - models: metadata
from core.api import oauth as api_oauth
from core.api import open311 as api_open311
from core.api import v1 as api_v1
from core.cases import builtin as cases_builtin
from core.cases import staff_views as case_staff_views
from core.cases import views as case_views
from core.clock import Clock
from core.config import load_config
from core.contact import views as contact_views
from core.identity import access, admin_views, providers
from core.identity import views as identity_views
from core.identity.sessions import DatabaseSessionInterface
from core.knowledge import views as knowledge_views
from core.logs import configure_logging
from core.outbox import views as outbox_views
from core.plugins.manager import PluginRegistry
from core.profiles import erasure_views, export_views, share_views
from core.profiles import views as profile_views
from core.regio import views as regio_views
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
    app.url_map.converters["int"] = web.DatabaseId
    app.config.update(load_config(instance_path, config))
    if app.config["ENV"] != "testing":
        configure_logging()

    db.init_app(app)
    storage.init_app(app)
    registry = PluginRegistry()
    registry.register(cases_builtin, cases_builtin.CORE_PLUGIN)
    for name, module in app.config.get("EXTRA_PLUGINS", {}).items():
        registry.register(module, name)
    registry.discover()
    app.extensions["fygitaal.plugins"] = registry

    app.extensions["fygitaal.clock"] = Clock()
    app.session_interface = DatabaseSessionInterface()
    i18n.init_app(app, registry)
    ratelimit.init_app(app)  # first: abuse is throttled before any other check runs
    security.init_app(app)
    resolution.init_app(app)
    providers.init_app(app)
    web.init_app(app)
    app.register_blueprint(identity_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(regio_views.bp)
    app.register_blueprint(case_staff_views.bp)
    app.register_blueprint(case_staff_views.balie_bp)
    app.register_blueprint(contact_views.bp)
    app.register_blueprint(case_views.bp)
    app.register_blueprint(export_views.bp)
    app.register_blueprint(outbox_views.bp)
    app.register_blueprint(share_views.bp)
    app.register_blueprint(erasure_views.bp)
    for knowledge_blueprint in (knowledge_views.admin_bp, knowledge_views.region_bp, knowledge_views.search_bp):
        app.register_blueprint(knowledge_blueprint)
    app.register_blueprint(profile_views.bp)
    api_oauth.init_app(app)
    api_v1.init_app(app)
    app.register_blueprint(api_open311.bp)
    for machine_blueprint in ("oauth", "api_v1", "open311"):
        security.csrf_exempt_blueprint(app, machine_blueprint)
    ratelimit.limit_endpoints(
        app, ["identity.login", "identity.staff_login", "identity.callback"], app.config["RATELIMIT_LOGIN"]
    )
    ratelimit.limit_endpoints(app, ["oauth.issue_token"], app.config["RATELIMIT_TOKEN"])
    ratelimit.limit_endpoints(app, ["shares.open", "cases.follow_link"],  # guessing tokens
                              app.config["RATELIMIT_LOGIN"])
    _register_plugin_blueprints(app, registry)
    registry.call_each("fygitaal_cli", cli=app.cli)

    @app.context_processor
    def _page_context() -> dict[str, object]:
        return {"current_language": i18n.current_language(),
                "current_account": access.current_principal().account}

    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app
