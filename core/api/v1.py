"""The REST API, version 1: ``/api/v1/<gemeente>/…`` for API clients of that municipality."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import select

from core.api.oauth import api_scope
from core.db import get_session
from core.tenancy.models import Department

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1/<tenant>")


@bp.get("/departments")
@api_scope("departments:read")
def departments() -> Response:
    """The municipality's departments (diensten), which cases are routed to."""
    rows = get_session().scalars(select(Department).order_by(Department.code))
    return jsonify([{"code": d.code, "name": d.name} for d in rows])
