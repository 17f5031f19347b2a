"""The municipal admin's staff page: ``/<gemeente>/beheer/``."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from core.db import get_session
from core.identity import staff as staff_service
from core.identity.access import requires
from core.identity.models import TENANT_ROLES
from core.identity.providers import staff_provider
from core.tenancy.models import Department

bp = Blueprint("beheer", __name__, url_prefix="/<tenant>/beheer")


@bp.get("/")
@requires("beheer")
def index() -> str:
    session = get_session()
    departments = list(session.scalars(select(Department).order_by(Department.name)))
    return render_template("beheer/staff.html", staff=staff_service.list_staff(session),
                           roles=TENANT_ROLES, departments=departments)


@bp.post("/medewerkers")
@requires("beheer")
def grant() -> Response | tuple[str, int]:
    session = get_session()
    try:
        staff_service.grant_role(
            session, staff_provider(g.tenant).issuer, request.form.get("subject", ""),
            request.form.get("role", ""), request.form.get("department") or None,
            name=request.form.get("name", "").strip(),
        )
    except staff_service.StaffError as error:
        session.rollback()
        departments = list(session.scalars(select(Department).order_by(Department.name)))
        return render_template("beheer/staff.html", staff=staff_service.list_staff(session),
                               roles=TENANT_ROLES, departments=departments, error=str(error),
                               form=request.form), 400
    session.commit()
    flash(_("De rol is toegekend."))
    return redirect(url_for("beheer.index"), code=303)


@bp.post("/medewerkers/<int:staff_id>/rollen/<int:role_id>/intrekken")
@requires("beheer")
def revoke(staff_id: int, role_id: int) -> Response:
    session = get_session()
    try:
        staff_service.revoke_role(session, staff_id, role_id)
    except staff_service.StaffError:
        abort(404)
    session.commit()
    flash(_("De rol is ingetrokken."))
    return redirect(url_for("beheer.index"), code=303)


@bp.post("/medewerkers/<int:staff_id>/actief")
@requires("beheer")
def set_active(staff_id: int) -> Response:
    session = get_session()
    active = request.form.get("actief") == "ja"
    try:
        staff_service.set_active(session, staff_id, active)
    except staff_service.StaffError:
        abort(404)
    session.commit()
    flash(_("De medewerker is opnieuw actief.") if active else
          _("De medewerker is gedeactiveerd; alle sessies zijn beëindigd."))
    return redirect(url_for("beheer.index"), code=303)
