"""``/regio/``: what a regional coordinator steers, counted across municipalities."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from core.db import get_session
from core.identity.access import current_principal, requires
from core.identity.models import StaffMember
from core.tenancy.isolation import across_tenants
from core.tenancy.models import Department, Region

bp = Blueprint("regio", __name__, url_prefix="/regio")


@bp.get("/")
@requires("regio")
def index() -> str:
    principal = current_principal()
    session = get_session()
    regions = select(Region).order_by(Region.name)
    if not principal.is_operator:
        regions = regions.where(Region.id.in_(principal.region_ids))
    with across_tenants(session, "regional console: staff and department counts per municipality"):
        staff = dict(session.execute(
            select(StaffMember.tenant_id, func.count()).where(StaffMember.active.is_(True))
            .group_by(StaffMember.tenant_id)).all())
        departments = dict(session.execute(
            select(Department.tenant_id, func.count()).group_by(Department.tenant_id)).all())
    return render_template("regio/index.html", regions=list(session.scalars(regions)),
                           staff=staff, departments=departments)
