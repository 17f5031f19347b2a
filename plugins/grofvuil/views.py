"""Grofvuil's pages: the upcoming collection rounds of the municipality."""

from __future__ import annotations

from flask import Blueprint, render_template

from core.toolkit import current_tenant, get_session, plugin_settings, utcnow
from plugins.grofvuil.service import upcoming_rounds

bp = Blueprint("grofvuil", __name__, template_folder="templates", url_prefix="/grofvuil")


@bp.get("/")
def index() -> str:
    rounds = upcoming_rounds(get_session(), utcnow().date())
    return render_template(
        "grofvuil/index.html", tenant=current_tenant(), rounds=rounds,
        settings=plugin_settings("grofvuil"),
    )
