"""The case handlers' back office (``/<gemeente>/behandeling``) and staff filing a case on a resident's behalf
(``/<gemeente>/balie/melding``): thin adapters over the intake and handling services."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session, joinedload, selectinload
from werkzeug.wrappers import Response

from core import clock
from core.cases import handling, lifecycle, notify
from core.cases.forms import ExtraField, coordinate, extra_data, extra_fields, form_errors, uploaded_photos
from core.cases.intake import (
    MAX_DESCRIPTION,
    MAX_PHOTOS,
    IntakeError,
    IntakeRequest,
    announce,
    nearby_open_cases,
    submit_case,
)
from core.cases.models import Case
from core.cases.types import CaseType, case_types_for
from core.db import get_session
from core.i18n import current_language
from core.identity.access import current_principal, requires
from core.identity.models import Account, StaffMember
from core.identity.policy import Principal
from core.knowledge import search as knowledge_search
from core.knowledge import service as knowledge
from core.security import private_pages
from core.tenancy.models import Department

bp = Blueprint("behandeling", __name__, url_prefix="/<tenant>/behandeling")
balie_bp = Blueprint("balie_intake", __name__, url_prefix="/<tenant>/balie")

PAGE_SIZE = 50
MAX_REFERENCE = 40
MAX_REFERRAL = 200
MAX_SEARCH = 40
MAX_ARTICLE_REF = 120
STAFF_CHANNELS = ("telefoon", "balie", "brief", "e-mail")
CONTACT_CHANNELS = ("e-mail", "brief", "telefoon")
RECEIVED_KEY = "balie_melding"


# These pages show personal data (and once, a follow-up link).
private_pages(bp)
private_pages(balie_bp)


# --- The queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    """What the queue shows: ``dienst`` is ``mijn``, ``alle`` or a department code; ``status`` is
    ``open``, ``alle`` or one state."""

    dienst: str
    status: str
    soort: str = ""
    mij: bool = False
    zoek: str = ""
    na: int | None = None

    def args(self, **changes: Any) -> dict[str, Any]:
        """The filters as query parameters (for the "Volgende" link and the form's values)."""
        chosen = replace(self, **changes)
        args: dict[str, Any] = {"dienst": chosen.dienst, "status": chosen.status}
        args.update({k: v for k, v in (("soort", chosen.soort), ("zoek", chosen.zoek)) if v})
        if chosen.mij:
            args["mij"] = "1"
        if chosen.na is not None:
            args["na"] = chosen.na
        return args


def read_filters(args: Mapping[str, str], principal: Principal, departments: list[Department],
                 case_types: Mapping[str, CaseType]) -> QueueFilters:
    """The filters from the query string; a behandelaar starts with their departments, a beheerder with
    all. An unknown value is a 400: a hand-made URL should not silently show something else."""
    own_departments = bool(principal.department_ids) and "beheerder" not in principal.roles
    dienst = args.get("dienst") or ("mijn" if own_departments else "alle")
    if dienst not in ("mijn", "alle") and dienst not in {d.code for d in departments}:
        abort(400)
    status = args.get("status") or "open"
    if status not in ("open", "alle") and status not in lifecycle.STATES:
        abort(400)
    soort = args.get("soort", "")
    if soort and soort not in case_types:
        abort(400)
    after = args.get("na", "")
    if after and not after.isdigit():
        abort(400)
    search = args.get("zoek", "").strip()[:MAX_SEARCH]
    return QueueFilters(dienst=dienst, status=status, soort=soort, mij=args.get("mij") == "1", zoek=search,
                        na=int(after) if after else None)


@dataclass
class QueuePage:
    rows: list[Any]
    next_after: int | None


def queue_statement(filters: QueueFilters, principal: Principal, departments: list[Department]) -> Select:
    """One query for the whole page: the cases with their assignee's name joined in (no N+1); keyset
    pagination on ``id`` rides the ``ix_case_queue`` index (tenant, department, status, id)."""
    assignee = and_(StaffMember.tenant_id == Case.tenant_id, StaffMember.id == Case.assignee_id)
    statement = (
        select(Case.id, Case.reference, Case.type_code, Case.status, Case.address, Case.created_at, Case.due_at,
               Case.department_id, Account.name.label("assignee_name"), Account.subject.label("assignee_subject"))
        .outerjoin(StaffMember, assignee).outerjoin(Account, Account.id == StaffMember.account_id)
        .order_by(Case.id.desc()).limit(PAGE_SIZE + 1)
    )
    if filters.dienst == "mijn":
        statement = statement.where(Case.department_id.in_(sorted(principal.department_ids)))
    elif filters.dienst != "alle":
        statement = statement.where(Case.department_id == next(d.id for d in departments if d.code == filters.dienst))
    if filters.status == "open":
        statement = statement.where(Case.status.in_(sorted(lifecycle.OPEN_STATES)))
    elif filters.status != "alle":
        statement = statement.where(Case.status == filters.status)
    if filters.soort:
        statement = statement.where(Case.type_code == filters.soort)
    if filters.mij and principal.staff is not None:
        statement = statement.where(Case.assignee_id == principal.staff.id)
    if filters.zoek:
        statement = statement.where(Case.reference.startswith(filters.zoek.upper(), autoescape=True))
    if filters.na is not None:
        statement = statement.where(Case.id < filters.na)
    return statement


def queue_page(db: Session, filters: QueueFilters, principal: Principal, departments: list[Department]) -> QueuePage:
    rows = list(db.execute(queue_statement(filters, principal, departments)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return QueuePage(rows, rows[-1].id if more else None)


def is_overdue(status: str, due_at: datetime | None, at: datetime) -> bool:
    return due_at is not None and status in lifecycle.OPEN_STATES and clock.as_utc(due_at) < at



def _departments(db: Session) -> list[Department]:
    return list(db.scalars(select(Department).order_by(Department.name)))


@bp.get("/")
@requires("behandeling")
def queue() -> str:
    db = get_session()
    principal = current_principal()
    departments = _departments(db)
    case_types = case_types_for(g.tenant)
    filters = read_filters(request.args, principal, departments, case_types)
    page = queue_page(db, filters, principal, departments)
    return render_template(
        "behandeling/queue.html", page=page, filters=filters, departments=departments,
        department_names={d.id: d.name for d in departments}, case_types=case_types,
        has_own_departments=bool(principal.department_ids), states=lifecycle.STATES,
        status_labels={state: str(lifecycle.status_label(state)) for state in lifecycle.STATES},
        is_overdue=is_overdue, now=clock.now(),
    )


# --- One case ------------------------------------------------------------------------------


def _case_or_404(db: Session, reference: str, *, lock: bool = False) -> Case:
    """The municipality's case (the tenant filter hides every other one) or a 404."""
    if len(reference) > MAX_REFERENCE:
        abort(404)
    statement = select(Case).where(Case.reference == reference)
    if lock:
        statement = statement.with_for_update()
    else:
        statement = statement.options(selectinload(Case.events), selectinload(Case.attachments),
                                      joinedload(Case.department))
    case = db.scalar(statement)
    if case is None:
        abort(404)
    return case


def _actor() -> str:
    staff = current_principal().staff
    assert staff is not None  # @requires let only staff of this municipality through
    return f"staff:{staff.id}"


def _staff(db: Session) -> list[StaffMember]:
    """Every staff member (the history names former colleagues too), with their account in one more query."""
    return list(db.scalars(select(StaffMember).join(StaffMember.account).order_by(Account.name, Account.subject)
                           .options(selectinload(StaffMember.account))))


def _staff_names(staff: list[StaffMember]) -> dict[int, str]:
    return {member.id: member.account.name or member.account.subject for member in staff}


def _actor_label(actor: str, names: Mapping[int, str]) -> str:
    kind, _sep, ident = actor.partition(":")
    if kind == "staff" and ident.isdigit():
        return names.get(int(ident), _("een medewerker"))
    if actor == "burger":
        return _("de melder")
    return actor


def _event_label(kind: str) -> str:
    labels = {
        "created": _("Ontvangen"), "status": _("Status gewijzigd"), "assigned": _("Toegewezen"),
        "note": _("Interne notitie"), "message_to_citizen": _("Bericht aan de melder"),
        "message_from_citizen": _("Bericht van de melder"), "merged": _("Samengevoegd"),
        "merged_in": _("Melding hierin samengevoegd"), "satisfaction": _("Tevredenheid"),
    }
    return labels.get(kind, kind)


def _shown_data(case: Case, case_type: CaseType | None, language: str) -> list[tuple[str, str]]:
    """The case's extra data under the labels (and option texts) its case type's form gives them."""
    specs = {spec.key: spec for spec in extra_fields(case_type, language)} if case_type else {}
    shown = []
    for key, value in (case.data or {}).items():
        spec = specs.get(key)
        if isinstance(value, bool):
            text = _("ja") if value else _("nee")
        else:
            text = dict(spec.options).get(str(value), str(value)) if spec else str(value)
        shown.append((spec.label if spec else key, text))
    return shown


def _replies(case: Case, case_type: CaseType | None, next_states: list[str]) -> list[tuple[str, str]]:
    """Standard replies for the current and the next states, in the resident's language."""
    if case_type is None:
        return []
    return [(state, text) for state in dict.fromkeys([case.status, *next_states])
            for text in case_type.replies_for(state, case.language)]


def _render_detail(db: Session, case: Case, *, error: str | None = None, form: Mapping[str, str] | None = None,
                   status: int = 200) -> tuple[str, int]:
    language = current_language()
    case_type = case_types_for(g.tenant).get(case.type_code)
    staff = _staff(db)
    names = _staff_names(staff)
    next_states = [s for s in lifecycle.STATES if s in lifecycle.TRANSITIONS[case.status] and s != "samengevoegd"]
    replies = _replies(case, case_type, next_states)
    template = request.args.get("sjabloon", "")
    articles = knowledge.suggest_for(db, g.tenant, case.description, case.language) if case.kind == "vraag" else []
    chosen = request.args.get("artikel", "")[:MAX_ARTICLE_REF]
    article = knowledge_search.find_by_ref(db, g.tenant, chosen, case.language) if chosen else None
    message_text = ((form or {}).get("bericht") or (article.answer if article else "")
                    or next((text for state, text in replies if state == template), ""))
    nearby: list[tuple[Case, float]] = []
    if case_type is not None and case.is_open and case.lat is not None and case.lon is not None:
        nearby = nearby_open_cases(db, case.type_code, case.lat, case.lon, case_type.duplicate_radius_m,
                                   exclude_id=case.id)
    parent = db.get(Case, case.merged_into_id) if case.merged_into_id else None
    merged_in = list(db.scalars(select(Case.reference).where(Case.merged_into_id == case.id).order_by(Case.id)))
    page = render_template(
        "behandeling/detail.html", case=case, case_type=case_type,
        type_label=case_type.label(language) if case_type else case.type_code,
        staff=[m for m in staff if m.active], names=names, assignee=names.get(case.assignee_id or 0),
        actor_label=lambda actor: _actor_label(actor, names), event_label=_event_label,
        extra=_shown_data(case, case_type, language), next_states=next_states,
        resolutions=lifecycle.RESOLUTIONS, resolution_label=lifecycle.resolution_label,
        status_label=lifecycle.status_label, replies=replies, message_text=message_text, nearby=nearby,
        parent=parent, merged_in=merged_in, error=error, form=form or {}, articles=articles,
        overdue=is_overdue(case.status, case.due_at, clock.now()),
    )
    return page, status


@bp.get("/<reference>")
@requires("behandeling")
def detail(reference: str) -> tuple[str, int]:
    db = get_session()
    return _render_detail(db, _case_or_404(db, reference))


def _act(reference: str, action: Callable[[Session, Case, str, datetime], None],
         done: str) -> Response | tuple[str, int]:
    """Run one handling action on a locked case, commit and go back to the case; a refusal shows the
    case again with the reason (400) and nothing changed."""
    db = get_session()
    case = _case_or_404(db, reference, lock=True)
    try:
        action(db, case, _actor(), clock.now())
    except (handling.HandlingError, lifecycle.InvalidTransition) as error:
        db.rollback()
        return _render_detail(db, _case_or_404(db, reference), error=str(error), form=request.form, status=400)
    db.commit()
    flash(done)
    return redirect(url_for("behandeling.detail", reference=case.reference), code=303)


@bp.post("/<reference>/toewijzen")
@requires("behandeling")
def assign(reference: str) -> Response | tuple[str, int]:
    chosen = request.form.get("medewerker", "").strip()

    def action(db: Session, case: Case, actor: str, at: datetime) -> None:
        if chosen and not chosen.isdigit():
            raise handling.HandlingError(_("Deze medewerker bestaat niet of is niet actief."))
        handling.assign(db, case, int(chosen) if chosen else None, actor=actor, at=at)

    return _act(reference, action, _("De toewijzing is bewaard.") if chosen else _("Het dossier is vrijgegeven."))


@bp.post("/<reference>/status")
@requires("behandeling")
def change_state(reference: str) -> Response | tuple[str, int]:
    form = request.form
    new_status = form.get("status", "")
    note, referred_to = form.get("toelichting", ""), form.get("doorverwezen_naar", "")

    def action(db: Session, case: Case, actor: str, at: datetime) -> None:
        if not new_status:
            raise handling.HandlingError(_("Kies een nieuwe status."))
        if len(note) > handling.MAX_TEXT:
            raise handling.HandlingError(_("Een tekst mag hoogstens %(n)s tekens lang zijn.", n=handling.MAX_TEXT))
        if len(referred_to.strip()) > MAX_REFERRAL:
            raise handling.HandlingError(_("De naam van wie het dossier overneemt mag hoogstens %(n)s tekens "
                                           "lang zijn.", n=MAX_REFERRAL))
        handling.change_state(db, g.tenant, case, new_status, actor=actor, at=at,
                              resolution=form.get("resolutie") or None, note=note, referred_to=referred_to)

    return _act(reference, action, _("De status is gewijzigd; de melder wordt op de hoogte gebracht."))


@bp.post("/<reference>/bericht")
@requires("behandeling")
def message(reference: str) -> Response | tuple[str, int]:
    def action(db: Session, case: Case, actor: str, at: datetime) -> None:
        handling.message_resident(db, g.tenant, case, request.form.get("bericht", ""), actor=actor, at=at)

    return _act(reference, action, _("Het bericht aan de melder is verstuurd."))


@bp.post("/<reference>/notitie")
@requires("behandeling")
def note(reference: str) -> Response | tuple[str, int]:
    def action(db: Session, case: Case, actor: str, at: datetime) -> None:
        handling.add_note(db, case, request.form.get("notitie", ""), actor=actor, at=at)

    return _act(reference, action, _("De interne notitie is bewaard."))


@bp.post("/<reference>/samenvoegen")
@requires("behandeling")
def merge(reference: str) -> Response | tuple[str, int]:
    """``richting=daarin``: this case is a duplicate of ``ander``; ``hierin``: ``ander`` is a duplicate of this."""
    other_reference = request.form.get("ander", "").strip()[:MAX_REFERENCE]
    direction = request.form.get("richting", "")

    def action(db: Session, case: Case, actor: str, at: datetime) -> None:
        other = db.scalar(select(Case).where(Case.reference == other_reference).with_for_update())
        if other is None:
            raise handling.HandlingError(_("Er is geen melding %(reference)s in deze gemeente.",
                                           reference=other_reference or "—"))
        if direction not in ("daarin", "hierin"):
            raise handling.HandlingError(_("Kies welke melding in welke opgaat."))
        duplicate, parent = (case, other) if direction == "daarin" else (other, case)
        handling.merge(db, g.tenant, duplicate, parent, actor=actor, at=at)

    return _act(reference, action, _("De meldingen zijn samengevoegd."))


# --- Staff filing a case for a resident ----------------------------------------------------


# The resident's report form and this one ask the same questions; the form helpers are shared.
SLOT_HREF = {"locatie": "adres", "contact": "email"}


def _own_errors(form: Mapping[str, str]) -> dict[str, list[str]]:
    """What only the staff form asks: the channel the case came in by, the resident's channel and language."""
    errors: dict[str, list[str]] = {}
    if form.get("kanaal") not in STAFF_CHANNELS:
        errors["kanaal"] = [_("Kies langs welk kanaal de melding binnenkwam.")]
    if (form.get("voorkeur") or None) not in (None, *CONTACT_CHANNELS):
        errors["voorkeur"] = [_("Kies hoe de inwoner een antwoord wil krijgen.")]
    if form.get("taal", "nl") not in current_app.config["LANGUAGES"]:
        errors["taal"] = [_("Kies de taal van de inwoner.")]
    return errors


def _intake_request(form: Mapping[str, str], case_type: CaseType, extras: list[ExtraField],
                    photos: list[bytes]) -> IntakeRequest:
    """The form as the intake wants it; choices :func:`_own_errors` refuses never reach it."""
    preferred = form.get("voorkeur") if form.get("voorkeur") in CONTACT_CHANNELS else None
    language = form.get("taal") if form.get("taal") in current_app.config["LANGUAGES"] else "nl"
    return IntakeRequest(
        type_code=case_type.code, description=form.get("beschrijving", ""), data=extra_data(extras, form),
        lat=coordinate(form.get("lat")), lon=coordinate(form.get("lon")), address=form.get("adres"),
        reporter_name=form.get("naam"), reporter_email=(form.get("email") or "").strip() or None,
        reporter_phone=form.get("telefoon"), reporter_address=form.get("postadres"),
        preferred_channel=preferred, photos=photos, language=language,
    )


def _render_staff_form(case_type: CaseType | None, *, errors: Mapping[str, list[str]] | None = None,
                       form: Mapping[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    """``errors`` by form slot (see :func:`core.cases.forms.form_errors`)."""
    language = current_language()
    page = render_template(
        "behandeling/balie_melding.html", case_type=case_type, case_types=case_types_for(g.tenant),
        extras=extra_fields(case_type, language) if case_type else [], channels=STAFF_CHANNELS,
        contact_channels=CONTACT_CHANNELS, errors=errors or {}, slot_href=SLOT_HREF, form=form or {},
        language=language, max_description=MAX_DESCRIPTION,
    )
    return page, status


@balie_bp.get("/melding")
@requires("balie")
def staff_intake_form() -> tuple[str, int]:
    """Step 1 chooses the kind of case (no JavaScript needed), step 2 asks what that kind needs."""
    code = request.args.get("soort", "")
    case_type = case_types_for(g.tenant).get(code)
    if code and case_type is None:
        return _render_staff_form(None, errors={"soort": [_("Kies een soort melding of vraag uit de lijst.")]},
                                  status=400)
    return _render_staff_form(case_type)


@balie_bp.post("/melding")
@requires("balie")
def staff_intake() -> Response | tuple[str, int]:
    db = get_session()
    form = request.form
    case_type = case_types_for(g.tenant).get(form.get("soort", ""))
    if case_type is None:
        return _render_staff_form(None, errors={"soort": [_("Kies een soort melding of vraag uit de lijst.")]},
                                  form=form, status=400)
    extras = extra_fields(case_type, current_language())
    own = _own_errors(form)
    # With the form's own problems the intake still runs (without photos, and rolled back) so that every
    # problem is shown at once.
    photos = [] if own else uploaded_photos(MAX_PHOTOS)
    try:
        result = submit_case(db, g.tenant, _intake_request(form, case_type, extras, photos),
                             channel=form["kanaal"] if "kanaal" not in own else "balie", actor=_actor(),
                             at=clock.now())
        if own:
            raise IntakeError({})
    except IntakeError as refused:
        db.rollback()
        return _render_staff_form(case_type, errors={**own, **form_errors(refused.errors, extras)}, form=form,
                                  status=400)
    db.commit()
    announce(g.tenant, result.case, db)
    session[RECEIVED_KEY] = {
        "tenant": g.tenant.id, "reference": result.case.reference,
        "follow_url": notify.follow_url(g.tenant, result.follow_token),
        "letter": result.case.preferred_channel == "brief", "email": result.case.reporter_email or "",
    }
    return redirect(url_for("balie_intake.staff_intake_received"), code=303)


@balie_bp.get("/melding/ontvangen")
@requires("balie")
def staff_intake_received() -> Response | str:
    """Shown once: the reference and the follow-up link to hand over or print (the link is kept nowhere)."""
    received = session.pop(RECEIVED_KEY, None)
    if not received or received.get("tenant") != g.tenant.id:  # a receipt belongs to its municipality
        return redirect(url_for("balie_intake.staff_intake_form"))
    return render_template("behandeling/balie_ontvangen.html", received=received,
                           can_handle="behandeling" in current_principal().permissions())
