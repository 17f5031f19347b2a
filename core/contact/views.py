"""The front office (``/<gemeente>/balie``): find a person, open the 360° view with a reason, register
contact moments, and act on the resident's behalf. Thin adapters over the contact, profile and intake
services.

Opening a profile with a reason writes exactly one access-log row and lets this staff member see the
360° view for ``OPEN_MINUTES``; reloading or paging the view within that window writes no new row
(it is the same opening). Without a valid opening every profile page sends the staff member to the
reason form and shows nothing. Acting on the resident's behalf also needs an opening.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from core import clock
from core.cases.forms import coordinate, extra_data, extra_fields, form_errors
from core.cases.intake import IntakeError, IntakeRequest, announce, submit_case
from core.cases.lifecycle import status_label
from core.cases.notify import kind_label
from core.cases.types import CaseType, case_types_for
from core.contact import search as person_search
from core.contact import service
from core.contact.models import CONTACT_CHANNELS, OUTCOMES
from core.db import get_session
from core.i18n import current_language
from core.identity.access import current_principal, requires
from core.knowledge.service import suggest_for
from core.profiles.labels import CHANNEL_LABELS, FIELD_LABELS, LEGAL_BASIS_LABELS, OUTCOME_LABELS
from core.profiles.models import CONTACT_CHANNELS as PREFERRED_CHANNELS
from core.profiles.models import Profile
from core.profiles.purposes import catalogue_for, consents_for
from core.profiles.sections import sections_for
from core.profiles.service import (
    Actor,
    ConsentError,
    ProfileError,
    create_desk_profile,
    record_consent,
    update_preferences,
)
from core.security import private_pages

bp = Blueprint("balie", __name__, url_prefix="/<tenant>/balie")

OPEN_KEY = "balie_geopend"
OPEN_MINUTES = 30
MAX_OPEN = 20  # openings remembered per session; the oldest is forgotten first
ON_BEHALF_CHANNELS = ("balie", "telefoon", "brief", "e-mail")  # how a request on the resident's behalf came in
INTAKE_CHANNELS = ("balie", "telefoon", "brief")
NEW_PROFILE_CHANNELS = ("balie", "telefoon")
REPLY_CHANNELS = ("e-mail", "brief", "telefoon")  # what a case's preferred channel may be
SUGGESTIONS = 5


private_pages(bp)  # every page here shows personal data



def _staff_id() -> int:
    staff = current_principal().staff
    assert staff is not None  # @requires let only staff of this municipality through
    return staff.id


def _staff_label() -> str:
    """Who opened the profile, as the resident reads it: name and role."""
    principal = current_principal()
    assert principal.account is not None
    name = principal.account.name or principal.account.subject
    return f"{name} ({', '.join(sorted(principal.roles))})"


def _profile_or_404(profile_id: int) -> Profile:
    """The municipality's profile (the tenant filter hides every other one) or a 404."""
    profile = get_session().scalar(select(Profile).where(Profile.id == profile_id))
    if profile is None:
        abort(404)
    return profile


# --- Openings, remembered in the server-side session ---------------------------------------


def _open_key(profile_id: int) -> str:
    return f"{g.tenant.id}:{profile_id}"


def _opening(profile_id: int) -> dict[str, Any] | None:
    """This staff member's unexpired opening of the profile, or None."""
    entry = (session.get(OPEN_KEY) or {}).get(_open_key(profile_id))
    if not entry or entry.get("staff") != _staff_id():
        return None
    if clock.now() >= datetime.fromisoformat(entry["until"]):
        return None
    return dict(entry)


def _remember_opening(profile_id: int, reason: str, at: datetime) -> None:
    openings = {key: value for key, value in (session.get(OPEN_KEY) or {}).items()
                if datetime.fromisoformat(value["until"]) > at}
    openings[_open_key(profile_id)] = {"staff": _staff_id(), "reason": reason,
                                       "until": (at + timedelta(minutes=OPEN_MINUTES)).isoformat()}
    session[OPEN_KEY] = dict(sorted(openings.items(), key=lambda item: item[1]["until"])[-MAX_OPEN:])


def _opened_profile(profile_id: int) -> tuple[Profile, dict[str, Any]] | Response:
    """The profile and its opening, or a redirect to the reason form (nothing shown without a reason)."""
    profile = _profile_or_404(profile_id)
    opening = _opening(profile.id)
    if opening is None:
        return redirect(url_for("balie.open_form", profile_id=profile.id))
    return profile, opening


# --- Finding a person ----------------------------------------------------------------------


def _render_search(*, criteria: Mapping[str, str] | None = None, results: list[person_search.Found] | None = None,
                   error: str | None = None, searched: bool = False, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "balie/search.html", criteria=criteria or {}, results=(results or [])[:person_search.MAX_RESULTS],
        more=len(results or []) > person_search.MAX_RESULTS, error=error, searched=searched,
        max_query=person_search.MAX_QUERY)
    return page, status


@bp.get("/")
@requires("balie")
def search_form() -> tuple[str, int]:
    return _render_search()


@bp.post("/")
@requires("balie")
def search() -> tuple[str, int]:
    """A POST, like the national-number search: names, addresses and phone numbers stay out of URLs,
    browser history and access logs (and POSTs are rate-limited)."""
    criteria = {key: request.form.get(key, "") for key in person_search.CRITERIA}
    try:
        results = person_search.search(get_session(), criteria)
    except person_search.SearchError as error:
        return _render_search(criteria=criteria, error=str(error), searched=True, status=400)
    return _render_search(criteria=criteria, results=results, searched=True)


@bp.post("/rijksregisternummer")
@requires("balie")
def search_national_number() -> tuple[str, int]:
    """A POST, so the number is in no URL and no access log; it is not shown back either."""
    try:
        results = person_search.search_national_number(get_session(), g.tenant, current_app.config["SECRET_KEY"],
                                                       request.form.get("rijksregisternummer", ""))
    except person_search.SearchError as error:
        return _render_search(error=str(error), searched=True, status=400)
    return _render_search(results=results, searched=True)


# --- A new profile for someone without an account ------------------------------------------


def _render_new(*, errors: Mapping[str, list[str]] | None = None, form: Mapping[str, str] | None = None,
                status: int = 200) -> tuple[str, int]:
    purposes = [p for p in catalogue_for(g.tenant).values() if p.is_choice]
    page = render_template("balie/new_profile.html", errors=errors or {}, form=form or {}, purposes=purposes,
                           channels=NEW_PROFILE_CHANNELS, preferred_channels=PREFERRED_CHANNELS,
                           channel_labels=CHANNEL_LABELS, language=current_language())
    return page, status


@bp.get("/personen/nieuw")
@requires("balie")
def new_profile_form() -> tuple[str, int]:
    return _render_new()


@bp.post("/personen/nieuw")
@requires("balie")
def new_profile() -> Response | tuple[str, int]:
    """Create the profile with the consents the resident gives, and open it for the one who made it."""
    db = get_session()
    form = request.form
    channel = form.get("kanaal", "")
    details = {"name": form.get("naam", ""), "birth_date": form.get("geboortedatum", ""),
               "address": form.get("adres", ""), "email": form.get("email", ""), "phone": form.get("telefoon", ""),
               "language": form.get("taal", "nl"), "preferred_channel": form.get("voorkeur") or None,
               "no_digital_contact": form.get("geen_digitaal_contact") == "1",
               "assistance_needs": form.get("ondersteuning", "")}
    at = clock.now()
    try:
        if channel not in NEW_PROFILE_CHANNELS:
            raise ProfileError({"kanaal": [_("Kies of de inwoner aan de balie staat of belt.")]})
        actor = Actor.staff(_staff_id(), channel)
        profile = create_desk_profile(db, g.tenant, details, instance_secret=current_app.config["SECRET_KEY"],
                                      national_number_raw=form.get("rijksregisternummer", "").strip() or None,
                                      actor=actor, at=at)
        for purpose in catalogue_for(g.tenant).values():
            if purpose.is_choice and form.get(f"toestemming_{purpose.code}") == "1":
                record_consent(db, g.tenant, profile, purpose.code, True, actor=actor, language=profile.language,
                               at=at)
    except ProfileError as refused:
        db.rollback()
        return _render_new(errors=refused.errors, form={k: v for k, v in form.items() if k != "rijksregisternummer"},
                           status=400)
    reason = service.opening_reason(db, profile, channel)
    _open(profile, reason, at)
    db.commit()
    flash(_("Het profiel is aangemaakt en geopend (%(reason)s).", reason=reason))
    return redirect(url_for("balie.person", profile_id=profile.id), code=303)


# --- Opening a profile with a reason --------------------------------------------------------


def _render_open_form(profile: Profile, *, errors: Mapping[str, list[str]] | None = None,
                      form: Mapping[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    page = render_template("balie/open.html", profile=profile, errors=errors or {}, form=form or {},
                           reasons=service.REASONS, max_other=service.MAX_OTHER_REASON)
    return page, status


@bp.get("/personen/<int:profile_id>/openen")
@requires("balie")
def open_form(profile_id: int) -> tuple[str, int]:
    """Only name, birth year and id: the rest waits for a reason."""
    return _render_open_form(_profile_or_404(profile_id))


def _open(profile: Profile, reason: str, at: datetime) -> None:
    """Log the opening once (what the view will show) and remember it for ``OPEN_MINUTES``."""
    db = get_session()
    consents = consents_for(db, g.tenant, profile)
    viewer = service.StaffViewer(_staff_id(), _staff_label(), reason)
    plugin_sections = [s.key for s in sections_for(db, g.tenant, profile, viewer, consents) if not s.hidden_reason]
    service.open_profile(db, g.tenant, profile, instance_secret=current_app.config["SECRET_KEY"],
                         staff_label=_staff_label(), reason=reason,
                         shown=service.shown_sections(consents, plugin_sections), at=at)
    _remember_opening(profile.id, reason, at)


@bp.post("/personen/<int:profile_id>/openen")
@requires("balie")
def open_profile(profile_id: int) -> Response | tuple[str, int]:
    db = get_session()
    profile = _profile_or_404(profile_id)
    form = request.form
    try:
        reason = service.opening_reason(db, profile, form.get("reden", ""), form.get("referentie", ""),
                                        form.get("andere", ""))
    except service.ContactError as refused:
        return _render_open_form(profile, errors=refused.errors, form=form, status=400)
    _open(profile, reason, clock.now())
    db.commit()
    return redirect(url_for("balie.person", profile_id=profile.id), code=303)


# --- The 360° view --------------------------------------------------------------------------


def _render_person(profile: Profile, opening: Mapping[str, Any], *, errors: Mapping[str, list[str]] | None = None,
                   form: Mapping[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    db = get_session()
    language = current_language()
    raw_cursor = request.args.get("tot", "")
    try:
        cursor = service.Cursor.decode(raw_cursor) if raw_cursor else None
    except ValueError:
        abort(400)
    view = service.person_view(db, g.tenant, profile, language, cursor)
    viewer = service.StaffViewer(_staff_id(), _staff_label(), opening["reason"])
    sections = sections_for(db, g.tenant, profile, viewer, view.consents)
    question_text = " ".join(q.description for q in view.open_questions[:3])
    suggestions = suggest_for(db, g.tenant, question_text, language, SUGGESTIONS) if question_text else []
    page = render_template(
        "balie/person.html", view=view, profile=profile, opening=opening, fields=view.fields, sections=sections,
        suggestions=suggestions, cursor=cursor, errors=errors or {}, form=form or {}, language=language,
        catalogue=view.consents.catalogue, field_labels=FIELD_LABELS, channel_labels=CHANNEL_LABELS,
        outcome_labels=OUTCOME_LABELS, legal_basis_labels=LEGAL_BASIS_LABELS, contact_channels=CONTACT_CHANNELS,
        outcomes=OUTCOMES, on_behalf_channels=ON_BEHALF_CHANNELS, preferred_channels=PREFERRED_CHANNELS,
        case_types=case_types_for(g.tenant), status_label=status_label, kind_label=kind_label,
        until=datetime.fromisoformat(opening["until"]), max_topic=service.MAX_TOPIC,
        max_summary=service.MAX_SUMMARY,
    )
    return page, status


@bp.get("/personen/<int:profile_id>")
@requires("balie")
def person(profile_id: int) -> Response | tuple[str, int]:
    opened = _opened_profile(profile_id)
    if isinstance(opened, Response):
        return opened
    return _render_person(*opened)


def _refused(profile: Profile, opening: Mapping[str, Any], errors: Mapping[str, list[str]]) -> tuple[str, int]:
    """Show the view again with what to fix (400); nothing was stored."""
    get_session().rollback()
    return _render_person(profile, opening, errors=errors, form=request.form, status=400)


def _done(profile: Profile, message: str) -> Response:
    get_session().commit()
    flash(message)
    return redirect(url_for("balie.person", profile_id=profile.id), code=303)


@bp.post("/personen/<int:profile_id>/contact")
@requires("balie")
def contact_moment(profile_id: int) -> Response | tuple[str, int]:
    opened = _opened_profile(profile_id)
    if isinstance(opened, Response):
        return opened
    profile, opening = opened
    form = request.form
    try:
        service.register_contact_moment(
            get_session(), profile, channel=form.get("kanaal", ""), topic=form.get("onderwerp", ""),
            summary=form.get("samenvatting", ""), case_reference=form.get("zaak", ""),
            outcome=form.get("uitkomst", ""), staff_id=_staff_id(), at=clock.now())
    except service.ContactError as refused:
        return _refused(profile, opening, refused.errors)
    return _done(profile, _("Het contactmoment is bewaard."))


def _on_behalf_channel(form: Mapping[str, str]) -> str | None:
    """The channel the resident asked through (recorded with the change), or None when not one of ours."""
    channel = form.get("kanaal", "")
    return channel if channel in ON_BEHALF_CHANNELS else None


def _channel_missing() -> str:
    return _("Kies langs welk kanaal de inwoner dit vroeg.")


@bp.post("/personen/<int:profile_id>/voorkeuren")
@requires("balie")
def preferences(profile_id: int) -> Response | tuple[str, int]:
    """Only fields the view showed can be changed; the language is the resident's own choice."""
    opened = _opened_profile(profile_id)
    if isinstance(opened, Response):
        return opened
    profile, opening = opened
    db = get_session()
    form = request.form
    consents = consents_for(db, g.tenant, profile)
    changes: dict[str, Any] = {name: form[name] for name in
                               ("name", "birth_date", "address", "email", "phone", "assistance_needs")
                               if name in form and consents.field_allowed(name)}
    if "preferred_channel" in form:
        changes["preferred_channel"] = form["preferred_channel"] or None
    if "no_digital_contact_getoond" in form:
        changes["no_digital_contact"] = form.get("no_digital_contact") == "1"
    if form.get("language", profile.language) != profile.language:
        changes["language"] = form["language"]
    channel = _on_behalf_channel(form)
    if channel is None:
        return _refused(profile, opening, {"voorkeur_kanaal": [_channel_missing()]})
    try:
        changed = update_preferences(db, profile, changes, actor=Actor.staff(_staff_id(), channel), at=clock.now())
    except ProfileError as refused:
        return _refused(profile, opening, refused.errors)
    if not changed:
        return _done(profile, _("Er was niets gewijzigd."))
    return _done(profile, _("De gegevens zijn gewijzigd namens de inwoner."))


@bp.post("/personen/<int:profile_id>/toestemming")
@requires("balie")
def consent(profile_id: int) -> Response | tuple[str, int]:
    opened = _opened_profile(profile_id)
    if isinstance(opened, Response):
        return opened
    profile, opening = opened
    form = request.form
    decision = form.get("beslissing", "")
    channel = _on_behalf_channel(form)
    try:
        if decision not in ("geven", "intrekken"):
            raise ConsentError(_("Kies of de inwoner toestemming geeft of intrekt."))
        if channel is None:
            raise ConsentError(_channel_missing())
        record_consent(get_session(), g.tenant, profile, form.get("doel", ""), decision == "geven",
                       actor=Actor.staff(_staff_id(), channel), language=profile.language, at=clock.now())
    except ConsentError as refused:
        return _refused(profile, opening, {"toestemming": [str(refused)]})
    if decision == "geven":
        return _done(profile, _("De toestemming is geregistreerd namens de inwoner."))
    return _done(profile, _("De toestemming is ingetrokken namens de inwoner."))


# --- Filing a case or question on the resident's behalf --------------------------------------


def _render_on_behalf(profile: Profile, case_type: CaseType | None, *, errors: Mapping[str, list[str]] | None = None,
                      form: Mapping[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    language = current_language()
    page = render_template(
        "balie/on_behalf.html", profile=profile, case_type=case_type, case_types=case_types_for(g.tenant),
        extras=extra_fields(case_type, language) if case_type else [], errors=errors or {}, form=form or {},
        channels=INTAKE_CHANNELS, channel_labels=CHANNEL_LABELS, language=language)
    return page, status


@bp.get("/personen/<int:profile_id>/melding")
@requires("balie")
def on_behalf_form(profile_id: int) -> Response | tuple[str, int]:
    """Step 1 chooses the kind of case, step 2 asks what it needs; who it is for comes from the profile."""
    opened = _opened_profile(profile_id)
    if isinstance(opened, Response):
        return opened
    profile = opened[0]
    code = request.args.get("soort", "")
    case_type = case_types_for(g.tenant).get(code)
    if code and case_type is None:
        return _render_on_behalf(profile, None, errors={"soort": [_("Kies een soort melding of vraag uit de lijst.")]},
                                 status=400)
    return _render_on_behalf(profile, case_type)


@bp.post("/personen/<int:profile_id>/melding")
@requires("balie")
def on_behalf(profile_id: int) -> Response | tuple[str, int]:
    """One intake for every channel: the case is the profile's, and a contact moment links to it."""
    opened = _opened_profile(profile_id)
    if isinstance(opened, Response):
        return opened
    profile = opened[0]
    db = get_session()
    form = request.form
    case_type = case_types_for(g.tenant).get(form.get("soort", ""))
    if case_type is None:
        return _render_on_behalf(profile, None, errors={"soort": [_("Kies een soort melding of vraag uit de lijst.")]},
                                 form=form, status=400)
    extras = extra_fields(case_type, current_language())
    channel = form.get("kanaal", "")
    own = {} if channel in INTAKE_CHANNELS else {"kanaal": [_("Kies langs welk kanaal de melding binnenkwam.")]}
    at = clock.now()
    intake = IntakeRequest(
        type_code=case_type.code, description=form.get("beschrijving", ""), data=extra_data(extras, form),
        lat=coordinate(form.get("lat")), lon=coordinate(form.get("lon")), address=form.get("adres"),
        reporter_name=profile.name, reporter_address=profile.address or None, profile_id=profile.id,
        preferred_channel=profile.preferred_channel if profile.preferred_channel in REPLY_CHANNELS else None,
        language=profile.language)
    try:
        # With the form's own problem the intake still runs (and is rolled back) so every problem shows at once.
        result = submit_case(db, g.tenant, intake, channel=channel if not own else "balie",
                             actor=f"staff:{_staff_id()}", at=at)
        if own:
            raise IntakeError({})
        service.register_contact_moment(
            db, profile, channel=channel, topic=case_type.label(current_language()), summary="", case_reference="",
            outcome="melding_aangemaakt", staff_id=_staff_id(), at=at, case_id=result.case.id)
    except IntakeError as refused:
        db.rollback()
        return _render_on_behalf(profile, case_type, errors={**own, **form_errors(refused.errors, extras)},
                                 form=form, status=400)
    db.commit()
    announce(g.tenant, result.case, db)
    flash(_("%(kind)s %(reference)s is geregistreerd voor de inwoner, met een contactmoment.",
            kind=kind_label(result.case.kind).capitalize(), reference=result.case.reference))
    return redirect(url_for("balie.person", profile_id=profile.id), code=303)
