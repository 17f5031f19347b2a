"""Grofvuil: bulky-waste collection rounds per zone, a pilot process of one municipality.

It shows the plugin mechanism end to end: a manifest with settings, its own tables and Alembic
branch, pages under ``/<gemeente>/grofvuil/`` and a CLI command.
"""

from __future__ import annotations

from datetime import datetime

import click
from flask import Blueprint
from flask.cli import with_appcontext
from marshmallow import Schema, fields, validate

from core.toolkit import Manifest, hookimpl, working_for
from plugins.grofvuil.cases import fygitaal_case_created, fygitaal_case_types, fygitaal_validate_case
from plugins.grofvuil.profile import (
    fygitaal_cases_removed,
    fygitaal_consent_purposes,
    fygitaal_erase_profile,
    fygitaal_export_sections,
    fygitaal_profile_sections,
    fygitaal_retention,
)

__all__ = ["fygitaal_case_created", "fygitaal_case_types", "fygitaal_cases_removed", "fygitaal_consent_purposes",
           "fygitaal_erase_profile", "fygitaal_export_sections", "fygitaal_profile_sections", "fygitaal_retention",
           "fygitaal_validate_case"]


class GrofvuilSettings(Schema):
    """What a municipality configures in ``[plugins.grofvuil]``."""

    max_items = fields.Integer(load_default=5, validate=validate.Range(min=1, max=20))
    contact_phone = fields.String(load_default="", validate=validate.Length(max=40))


@hookimpl
def fygitaal_plugin_manifest() -> Manifest:
    return Manifest(
        name="grofvuil",
        version="0.1.0",
        owner="lochristi",
        maturity="pilot",
        description="Ophaalrondes voor grofvuil per zone.",
        title={"nl": "Grofvuilophaling", "fr": "Collecte des encombrants",
               "en": "Bulky waste collection"},
        entry_endpoint="grofvuil.index",
        pilot_tenants=("lochristi",),
        data_categories=("ophaalafspraken",),
        settings_schema=GrofvuilSettings,
    )


@hookimpl
def fygitaal_blueprints() -> list[Blueprint]:
    from plugins.grofvuil.views import bp

    return [bp]


@hookimpl
def fygitaal_cli(cli: click.Group) -> None:
    @cli.group("grofvuil")
    def grofvuil() -> None:
        """Bulky-waste collection rounds (pilot plugin)."""

    @grofvuil.command("plan")
    @click.argument("tenant")
    @click.argument("zone")
    @click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
    @click.option("--capacity", default=40, show_default=True, type=click.IntRange(1, 500))
    @with_appcontext
    def plan(tenant: str, zone: str, day: datetime, capacity: int) -> None:
        """Plan a collection round for ZONE on DAY (YYYY-MM-DD) in municipality TENANT."""
        from plugins.grofvuil.service import plan_round

        try:
            with working_for(tenant) as (session, _tenant):
                plan_round(session, zone, day.date(), capacity)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{tenant}: round planned for {zone} on {day:%Y-%m-%d}")
