"""The resident's web pages for cases: report, confirmation, follow-up, photos and "my reports".

Everything works without JavaScript: the report form comes in two steps (first the type, then that
type's own questions), and every action on a dossier is a small form. The views only translate
between forms and the intake and handling services.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core.cases import following, geo, intake, notify
from core.cases.forms import SLOT_HREF, ExtraField, coordinate, extra_data, extra_fields, form_errors, uploaded_photos
from core.cases.handling import HandlingError, add_information, give_satisfaction, request_reopen
from core.cases.intake import IntakeError, IntakeRequest
from core.cases.lifecycle import CLOSED_STATES, resolution_label, status_label
from core.cases.models import Attachment, Case, CaseFollower
from core.cases.types import CaseType, case_types_for
from core.clock import now
from core.db import get_session
from core.i18n import current_language
from core.identity.access import current_principal
from core.profiles.service import profile_of_account
from core.security import keep_private
from core.storage import storage
from core.tenancy.service import list_tenants

bp = Blueprint("cases", __name__)

FOLLOWED_KEY = "opvolging"  # session: {tenant id: [case ids this browser may follow]}
RECEIPT_KEY = "ontvangen"  # session: the reference and link, until the confirmation has shown them
FOLLOWING_KEY = "volgen"  # session: {tenant, follower} a follower's link opened here, or {tenant, uitgeschreven}
MAX_FOLLOWED = 50
PHOTO_VIEWERS = frozenset({"balie", "behandeling"})
CHANNEL_CHOICES = ("e-mail", "brief")
# Pages that carry (or just consumed) a follow-up token or show a dossier: never cached, never referred.
FOLLOW_UP_ENDPOINTS = frozenset({"cases.received", "cases.exchange", "cases.dossier", "cases.add_info",
                                 "cases.reopen", "cases.satisfaction", "cases.attachment", "cases.follow_link",
                                 "cases.following", "cases.confirm_following", "cases.unsubscribe"})


@bp.after_request
def _follow_up_headers(response: Response) -> Response:
    return keep_private(response, no_referrer=True) if request.endpoint in FOLLOW_UP_ENDPOINTS else response



# --- Who may follow which case ---------------------------------------------------------------


def _followed_ids() -> list[int]:
    return list(session.get(FOLLOWED_KEY, {}).get(str(g.tenant.id), []))


def _remember(case_id: int) -> None:
    """Give this browser access to a case of this municipality (a new dict: the session sees the change)."""
    followed = dict(session.get(FOLLOWED_KEY, {}))
    ids = [i for i in followed.get(str(g.tenant.id), []) if i != case_id]
    followed[str(g.tenant.id)] = [*ids, case_id][-MAX_FOLLOWED:]
    session[FOLLOWED_KEY] = followed


def _may_follow(case: Case) -> bool:
    """This browser filed or followed it, or it is the logged-in resident's (also when filed at the desk)."""
    account = current_principal().account
    if case.id in _followed_ids():
        return True
    if account is None:
        return False
    if case.reporter_account_id == account.id:
        return True
    profile = profile_of_account(get_session(), account.id) if case.profile_id is not None else None
    return profile is not None and profile.id == case.profile_id


def _case_for_resident(reference: str) -> Case:
    """The case behind a dossier URL, or 404 for anyone who may not follow it (no existence oracle)."""
    case = get_session().scalar(select(Case).where(Case.reference == reference))
    if case is None or not _may_follow(case):
        abort(404)
    return case


# --- The report form -------------------------------------------------------------------------


def _intake_request(case_type_code: str, extras: list[ExtraField]) -> IntakeRequest:
    form = request.form
    account = current_principal().account
    channel = form.get("kanaal")
    return IntakeRequest(
        type_code=case_type_code, description=form.get("beschrijving", ""), data=extra_data(extras, form),
        lat=coordinate(form.get("lat")), lon=coordinate(form.get("lon")), address=form.get("adres"),
        reporter_name=form.get("naam"), reporter_email=(form.get("email") or "").strip() or None,
        reporter_phone=form.get("telefoon"), reporter_address=form.get("postadres"),
        preferred_channel=channel if channel in CHANNEL_CHOICES else None,
        reporter_account_id=account.id if account else None,
        photos=uploaded_photos(intake.MAX_PHOTOS), language=current_language(),
    )


def _type_groups(language: str) -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, case_type in case_types_for(g.tenant).items():
        groups.setdefault(case_type.kind, []).append((code, case_type.label(language)))
    names = {"melding": _("Iets melden"), "vraag": _("Een vraag stellen")}
    return [(names.get(kind, kind), sorted(types, key=lambda t: t[1].lower())) for kind, types in groups.items()]


def _render_choice(form: Mapping[str, str], errors: dict[str, list[str]] | None = None,
                   status: int = 200) -> tuple[str, int]:
    return render_template("cases/choose_type.html", groups=_type_groups(current_language()), form=form,
                           errors=errors or {}, slot_href=SLOT_HREF), status


def _render_intake(case_type: CaseType, form: Mapping[str, Any], *, errors: Mapping[str, list[str]] | None = None,
                   duplicates: list[tuple[Case, float]] | None = None, status: int = 200) -> tuple[str, int]:
    language = current_language()
    extras = extra_fields(case_type, language)
    return render_template(
        "cases/report.html", case_type=case_type, type_label=case_type.label(language), extras=extras,
        form=form, errors=form_errors(errors or {}, extras), slot_href=SLOT_HREF, duplicates=duplicates or [],
        max_description=intake.MAX_DESCRIPTION, max_photos=intake.MAX_PHOTOS, status_label=status_label,
        max_photo_mb=current_app.config["MAX_PHOTO_BYTES"] // (1024 * 1024),
        photos_sent=any(upload.filename for upload in request.files.getlist("fotos")),
    ), status


@bp.get("/<tenant>/melding")
def report() -> tuple[str, int]:
    """Step 1 chooses the type; step 2 (``?type=code``) asks that type's questions."""
    code = request.args.get("type")
    if code is None:
        return _render_choice(request.args)
    case_type = case_types_for(g.tenant).get(code)
    if case_type is None:
        return _render_choice(request.args, {"type": [_("Kies een soort melding of vraag uit de lijst.")]}, 400)
    account = current_principal().account
    form = {"lat": request.args.get("lat", ""), "lon": request.args.get("lon", ""), "kanaal": "e-mail",
            "naam": account.name if account else "", "email": account.email if account else ""}
    return _render_intake(case_type, form)


@bp.post("/<tenant>/melding")
def file_report() -> Response | tuple[str, int]:
    db = get_session()
    code = request.form.get("type", "")
    case_type = case_types_for(g.tenant).get(code)
    if case_type is None:
        return _render_choice(request.form, {"type": [_("Kies een soort melding of vraag uit de lijst.")]}, 400)
    submitted = _intake_request(code, extra_fields(case_type, current_language()))
    if case_type.public and request.form.get("bevestigd") != "1" and submitted.lat is not None \
            and submitted.lon is not None and geo.valid_wgs84(submitted.lat, submitted.lon):
        nearby = intake.nearby_open_cases(db, code, submitted.lat, submitted.lon, case_type.duplicate_radius_m)
        if nearby:
            return _render_intake(case_type, request.form, duplicates=nearby)
    try:
        result = intake.submit_case(db, g.tenant, submitted, channel="web", actor="burger", at=now())
    except IntakeError as error:
        db.rollback()
        return _render_intake(case_type, request.form, errors=error.errors, status=400)
    case_id, reference, token = result.case.id, result.case.reference, result.follow_token
    db.commit()
    intake.announce(g.tenant, result.case, db)
    _remember(case_id)
    session[RECEIPT_KEY] = {"tenant": g.tenant.id, "reference": reference, "token": token}
    return redirect(url_for("cases.received"), code=303)


@bp.post("/<tenant>/melding/volgen")
def follow() -> tuple[str, int]:
    """Follow a nearby open report instead of filing the same one again."""
    db = get_session()
    case_type = case_types_for(g.tenant).get(request.form.get("type", ""))
    lat, lon = coordinate(request.form.get("lat")), coordinate(request.form.get("lon"))
    if case_type is None or not case_type.public or lat is None or lon is None or not geo.valid_wgs84(lat, lon):
        abort(404)
    # Only a case the duplicate step could have shown: no following of any case by guessing its reference.
    nearby = intake.nearby_open_cases(db, case_type.code, lat, lon, case_type.duplicate_radius_m)
    case = next((c for c, _d in nearby if c.reference == request.form.get("referentie")), None)
    if case is None:
        abort(404)
    try:
        result = following.follow_case(db, g.tenant, case, request.form.get("email", ""), now())
    except IntakeError as error:
        db.rollback()
        return render_template("cases/follow.html", case=case, form=request.form,
                               errors={"email": error.errors["email"]}, slot_href=SLOT_HREF), 400
    email, outcome = result.follower.email, result.outcome
    db.commit()
    return render_template("cases/follow.html", case=case, outcome=outcome, email=email, form={},
                           errors={}, slot_href=SLOT_HREF), 200


@bp.get("/<tenant>/melding/ontvangen")
def received() -> str:
    """The reference and the follow-up link, shown once (then removed from the session)."""
    receipt = session.get(RECEIPT_KEY)
    if receipt and receipt.get("tenant") == g.tenant.id:
        session.pop(RECEIPT_KEY)
        return render_template("cases/received.html", reference=receipt["reference"],
                               link=notify.follow_url(g.tenant, receipt["token"]))
    return render_template("cases/received.html", reference=None, link=None)


# --- Following a case ------------------------------------------------------------------------


@bp.get("/<tenant>/opvolging/<token>")
def exchange(token: str) -> Response | tuple[str, int]:
    """Trade the link's token for access in this browser's session, then leave the token-bearing URL."""
    case = intake.case_by_token(get_session(), token)
    if case is None:
        return render_template("cases/unknown_link.html"), 404
    _remember(case.id)
    return redirect(url_for("cases.dossier", reference=case.reference), code=303)


@bp.get("/<tenant>/volgen/<token>")
def follow_link(token: str) -> Response | tuple[str, int]:
    """A follower's confirmation or unsubscribe link: remembered in the session, then a token-free URL.

    Nothing changes on GET (mail scanners open links too); the page it leads to asks first.
    """
    follower = following.follower_by_link(get_session(), token, now())
    if follower is None:
        session.pop(FOLLOWING_KEY, None)
        return render_template("cases/unknown_follow_link.html"), 404
    session[FOLLOWING_KEY] = {"tenant": g.tenant.id, "follower": follower.id}
    return redirect(url_for("cases.following"), code=303)


def _follower_in_session() -> CaseFollower | None:
    entry = session.get(FOLLOWING_KEY) or {}
    if entry.get("tenant") != g.tenant.id or "follower" not in entry:
        return None
    return following.follower_by_id(get_session(), entry["follower"], now())


@bp.get("/<tenant>/volgen", endpoint="following")
def following_page() -> tuple[str, int]:
    """What the link is for (reference, type, confirmed or not), with the choice to confirm or leave."""
    entry = session.get(FOLLOWING_KEY) or {}
    if entry.get("tenant") == g.tenant.id and "uitgeschreven" in entry:
        return render_template("cases/following.html", follower=None, reference=entry["uitgeschreven"]), 200
    follower = _follower_in_session()
    if follower is None:
        return render_template("cases/unknown_follow_link.html"), 404
    case = get_session().scalar(select(Case).where(Case.id == follower.case_id))
    if case is None:
        abort(404)
    case_type = case_types_for(g.tenant).get(case.type_code)
    return render_template("cases/following.html", follower=follower, reference=case.reference,
                           type_label=case_type.label(current_language()) if case_type else case.type_code), 200


@bp.post("/<tenant>/volgen/bevestigen")
def confirm_following() -> Response | tuple[str, int]:
    follower = _follower_in_session()
    if follower is None:
        return render_template("cases/unknown_follow_link.html"), 404
    following.confirm(follower, now())
    get_session().commit()
    flash(_("Bedankt. U krijgt een e-mail wanneer deze melding verandert."))
    return redirect(url_for("cases.following"), code=303)


@bp.post("/<tenant>/volgen/uitschrijven")
def unsubscribe() -> Response | tuple[str, int]:
    db = get_session()
    follower = _follower_in_session()
    if follower is None:
        return render_template("cases/unknown_follow_link.html"), 404
    reference = db.scalar(select(Case.reference).where(Case.id == follower.case_id))
    following.unsubscribe(db, follower)
    db.commit()
    session[FOLLOWING_KEY] = {"tenant": g.tenant.id, "uitgeschreven": reference}
    return redirect(url_for("cases.following"), code=303)


def _render_dossier(case: Case, *, errors: Mapping[str, list[str]] | None = None,
                    form: Mapping[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    db = get_session()
    case_type = case_types_for(g.tenant).get(case.type_code)
    parent = db.get(Case, case.merged_into_id) if case.merged_into_id else None
    closed = case.status in CLOSED_STATES
    # A refusal for a form this state does not show is listed without a link to it.
    shown = {"aanvulling"} if case.is_open else set() if case.status == "samengevoegd" else {"reden"}
    if closed and case.status != "samengevoegd" and case.satisfied is None:
        shown.add("tevreden")
    slot_href = {slot: slot if slot in shown else "" for slot in ("aanvulling", "reden", "tevreden")}
    return render_template(
        "cases/dossier.html", case=case, parent=parent, events=[e for e in case.events if e.visible_to_citizen],
        attachments=case.attachments, type_label=case_type.label(current_language()) if case_type else case.type_code,
        status_label=status_label, resolution_label=resolution_label, closed=closed,
        errors=errors or {}, form=form or {}, slot_href=slot_href,
    ), status


@bp.get("/<tenant>/opvolging/dossier/<reference>")
def dossier(reference: str) -> tuple[str, int]:
    return _render_dossier(_case_for_resident(reference))


def _act(reference: str, slot: str, action: Callable[[Session, Case, datetime], None],
         done: str, anchor: str | None = None) -> Response | tuple[str, int]:
    """Run one resident action on a dossier; a refusal re-renders the page (400) and changes nothing."""
    db = get_session()
    case = _case_for_resident(reference)
    try:
        action(db, case, now())
    except HandlingError as error:
        db.rollback()
        return _render_dossier(case, errors={slot: [str(error)]}, form=request.form, status=400)
    db.commit()
    flash(done)
    return redirect(url_for("cases.dossier", reference=reference, _anchor=anchor), code=303)


@bp.post("/<tenant>/opvolging/dossier/<reference>/aanvullen")
def add_info(reference: str) -> Response | tuple[str, int]:
    text = request.form.get("aanvulling", "")
    return _act(reference, "aanvulling",
                lambda db, case, at: add_information(db, case, text, at=at),
                _("Uw aanvulling is toegevoegd aan het dossier."))


@bp.post("/<tenant>/opvolging/dossier/<reference>/heropenen")
def reopen(reference: str) -> Response | tuple[str, int]:
    reason = request.form.get("reden", "")
    return _act(reference, "reden", lambda db, case, at: request_reopen(db, case, reason, at=at),
                _("Het dossier is heropend. De gemeente bekijkt het opnieuw."))


@bp.post("/<tenant>/opvolging/dossier/<reference>/tevredenheid")
def satisfaction(reference: str) -> Response | tuple[str, int]:
    answer = request.form.get("tevreden")

    def give(db: Session, case: Case, at: datetime) -> None:
        if answer not in ("ja", "nee"):
            raise HandlingError(_("Kies ja of nee."))
        give_satisfaction(db, case, answer == "ja", at=at)

    if answer == "nee":
        return _act(reference, "tevreden", give, _("Jammer dat u niet tevreden bent. Wilt u dat we het dossier "
                                                   "heropenen? Zeg hieronder waarom."), anchor="heropenen")
    return _act(reference, "tevreden", give, _("Bedankt om dit te laten weten."))


@bp.get("/<tenant>/bijlagen/<int:attachment_id>")
def attachment(attachment_id: int) -> Response:
    """A photo, only for whoever follows its case or staff who work on cases here; anyone else gets 404."""
    db = get_session()
    found = db.scalar(select(Attachment).where(Attachment.id == attachment_id))
    case = db.get(Case, found.case_id) if found else None
    if found is None or case is None:
        abort(404)
    if not (_may_follow(case) or PHOTO_VIEWERS & current_principal().permissions()):
        abort(404)
    response = Response(storage().get(found.storage_key), mimetype=found.content_type)
    # Photos are re-encoded as JPEG at intake, so the extension is known.
    response.headers["Content-Disposition"] = f'attachment; filename="{case.reference}-{found.id}.jpg"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- Platform level --------------------------------------------------------------------------


@bp.get("/melding")
def platform_report() -> tuple[str, int]:
    return render_template("cases/where.html", form={}, errors={}, slot_href=SLOT_HREF), 200


@bp.post("/melding")
def route_report() -> Response | tuple[str, int]:
    """A report made at platform level goes to the municipality whose boundary contains the place."""
    lat, lon = coordinate(request.form.get("lat")), coordinate(request.form.get("lon"))
    if lat is None or lon is None or not geo.valid_wgs84(lat, lon):
        message = _("Geef een geldige plaats (breedte- en lengtegraad in WGS84).")
    else:
        tenant = geo.tenant_at(list_tenants(get_session()), lat, lon)
        if tenant is not None:
            return redirect(url_for("cases.report", tenant=tenant.slug, lat=lat, lon=lon), code=303)
        message = _("Deze plaats ligt in geen enkele gemeente van Fygitaal. Neem contact op met de gemeente "
                    "waar het is.")
    return render_template("cases/where.html", form=request.form, errors={"locatie": [message]},
                           slot_href=SLOT_HREF), 400


@bp.get("/mijn/meldingen")
def my_cases() -> Response:
    """The resident's cases now live in the Mijn profiel overview; old bookmarks still arrive there."""
    return redirect(url_for("mijn.overview"), code=301)
