"""Erasure requests: the resident asks at ``/mijn/<gemeente>/wissen``; the municipality's admins carry
them out or refuse them at ``/<gemeente>/beheer/wissen`` (thin adapters over :mod:`core.profiles.erasure`)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from core import clock
from core.db import get_session
from core.i18n import select_locale
from core.identity.access import current_principal, requires, resident_account, resident_required
from core.profiles import erasure
from core.profiles.models import ErasureRequest, Profile
from core.profiles.purposes import catalogue_for
from core.profiles.service import profile_of_account
from core.security import private_pages

bp = Blueprint("erasure", __name__)


private_pages(bp)  # these pages name residents and what they asked


def _titles() -> dict[str, str]:
    """Purpose titles in the visitor's language, by code (a purpose gone from the catalogue shows its code)."""
    language = select_locale()
    return {code: purpose.text("title", language) for code, purpose in catalogue_for(g.tenant).items()}


def _render_request_page(profile: Profile, errors: list[str] | None = None,
                         chosen: list[str] | None = None) -> tuple[str, int]:
    return render_template(
        "wissen/request.html", purposes=erasure.erasable_purposes(g.tenant), language=select_locale(),
        requests=erasure.requests_of(get_session(), profile), titles=_titles(), errors=errors or [],
        chosen=chosen or [], has_open=erasure.open_request(get_session(), profile) is not None,
    ), 400 if errors else 200


@bp.route("/mijn/<tenant>/wissen", methods=["GET", "POST"], endpoint="request")
@resident_required
def request_page() -> Response | tuple[str, int]:
    """The resident's requests in this municipality; a POST asks to erase the chosen consent purposes."""
    account = resident_account()
    db = get_session()
    profile = profile_of_account(db, account.id)
    if profile is None:
        abort(404)  # no profile here: nothing to erase, and no hint about other people
    if request.method == "GET":
        return _render_request_page(profile)
    chosen = request.form.getlist("doel")
    try:
        erasure.request_erasure(db, g.tenant, profile, chosen, clock.now())
    except erasure.ErasureError as exc:
        return _render_request_page(profile, exc.messages, chosen)
    db.commit()
    flash(_("Uw verzoek is verstuurd naar gemeente %(name)s. U ziet hier wat ermee gebeurt.", name=g.tenant.name))
    return redirect(url_for("erasure.request"))


def _render_queue(errors: list[str] | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("wissen/queue.html", rows=erasure.open_requests(get_session()), titles=_titles(),
                           errors=errors or []), status


@bp.get("/<tenant>/beheer/wissen")
@requires("beheer")
def queue() -> tuple[str, int]:
    """The municipality's open erasure requests, oldest first."""
    return _render_queue()


@bp.post("/<tenant>/beheer/wissen/<int:request_id>")
@requires("beheer")
def handle(request_id: int) -> Response | tuple[str, int]:
    """Carry out (``actie=uitvoeren``) or refuse with an explanation (``actie=weigeren``)."""
    db = get_session()
    found = db.get(ErasureRequest, request_id)
    if found is None:
        abort(404)  # the session is scoped to this municipality: another's request is not found
    staff_id = current_principal().staff.id  # type: ignore[union-attr]  # "beheer" implies a staff row
    action = request.form.get("actie")
    try:
        if action == "uitvoeren":
            erasure.carry_out(db, g.tenant, found, staff_id, clock.now())
            message = _("Het verzoek is uitgevoerd: de gegevens zijn gewist en de toestemming is ingetrokken.")
        elif action == "weigeren":
            erasure.refuse(db, found, request.form.get("uitleg", ""), staff_id, clock.now())
            message = _("Het verzoek is geweigerd; de inwoner ziet uw uitleg.")
        else:
            return _render_queue([_("Kies uitvoeren of weigeren.")], 400)
    except erasure.ErasureError as exc:
        db.commit()  # only a failing module's note on the request was written; the erasure itself rolled back
        return _render_queue(exc.messages, 400)
    db.commit()
    flash(message)
    return redirect(url_for("erasure.queue"))
