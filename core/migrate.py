"""Alembic for core and plugins: one environment, a branch per plugin, upgrade of every head.

Migrations run as the database owner (``FYGITAAL_MIGRATION_DATABASE_URL``); on PostgreSQL the app
role of ``FYGITAAL_DATABASE_URL`` then gets data rights only, so row-level security binds it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.db import Base, make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(app: Flask, url: str | None = None) -> Config:
    registry = app.extensions["fygitaal.plugins"]
    locations = [MIGRATIONS_DIR / "versions", *registry.migration_directories()]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    config.attributes["url"] = url or app.config["MIGRATION_DATABASE_URL"]
    return config


def grant_app_role(migration_url: str, app_url: str) -> str | None:
    """Give the app's PostgreSQL role data rights (not ownership); return the role's name."""
    owner, app_role = make_url(migration_url).username, make_url(app_url).username
    if make_url(app_url).get_backend_name() != "postgresql" or not app_role or app_role == owner:
        return None
    engine = make_engine(migration_url)
    role = engine.dialect.identifier_preparer.quote(app_role)
    with engine.begin() as connection:
        connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        connection.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        )
        connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        connection.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}"))
    engine.dispose()
    return app_role


def upgrade(app: Flask, revision: str = "heads") -> None:
    """Bring the database to every head (core and all plugins), then grant the app role."""
    command.upgrade(alembic_config(app), revision)
    grant_app_role(app.config["MIGRATION_DATABASE_URL"], app.config["DATABASE_URL"])


def differences(app: Flask, url: str | None = None) -> list[tuple]:
    """What the models have that the migrations do not create (or the other way round).

    Without ``url`` a throwaway SQLite database is migrated and compared.
    """
    with tempfile.TemporaryDirectory() as scratch:
        target = url or f"sqlite:///{Path(scratch) / 'check.db'}"
        if url is None:
            command.upgrade(alembic_config(app, target), "heads")
        engine = make_engine(target)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": _include_name}
            )
            diff = compare_metadata(context, Base.metadata)
        engine.dispose()
    return diff


def new_revision(app: Flask, message: str, branch: str, version_path: Path | None = None,
                 depends_on: str | None = None) -> None:
    """Autogenerate a revision for ``branch`` against a scratch database at every head.

    For a plugin's first revision give ``version_path`` (its ``migrations/versions`` folder) and
    ``depends_on`` (the core revision it needs); the branch label is the plugin's name.
    """
    with tempfile.TemporaryDirectory() as scratch:
        config = alembic_config(app, f"sqlite:///{Path(scratch) / 'scratch.db'}")
        command.upgrade(config, "heads")
        config.attributes["branch"] = branch
        config.attributes["plugin_names"] = sorted(app.extensions["fygitaal.plugins"].plugins)
        if version_path is None:
            command.revision(config, message, autogenerate=True, head=f"{branch}@head")
        else:
            version_path.mkdir(parents=True, exist_ok=True)
            config.set_main_option(
                "version_locations",
                os.pathsep.join([config.get_main_option("version_locations"), str(version_path)]),
            )
            command.revision(config, message, autogenerate=True, head="base", branch_label=branch,
                             version_path=str(version_path), depends_on=depends_on)


def _include_name(name: str | None, type_: str, _parent: object) -> bool:
    return not (type_ == "table" and name == "alembic_version")
