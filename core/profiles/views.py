"""Mijn profiel: the resident's own data in every municipality, their preferences, consents and access log.

Every page holds personal data, so none is cached. The views translate between forms and the
profile services; a refused change re-renders the form (400) and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from core.cases.lifecycle import status_label
from core.cases.types import case_types_for
from core.clock import now
from core.db import get_session
from core.i18n import current_language
from core.identity.access import resident_account, resident_login
from core.profiles.access_log import entries_for_profile
from core.profiles.labels import CHANNEL_LABELS, FIELD_LABELS, LEGAL_BASIS_LABELS, OUTCOME_LABELS, SECTION_LABELS
from core.profiles.models import CONTACT_CHANNELS, LANGUAGES, ConsentRecord, PreferenceChange, Profile
from core.profiles.overview import overview_for
from core.profiles.purposes import Consents, Purpose, catalogue_for, consents_for
from core.profiles.service import (
    Actor,
    ConsentError,
    ProfileError,
    consent_history,
    consent_receipt,
    ensure_profile,
    profile_of_account,
    record_consent,
    update_preferences,
)
from core.security import private_pages

bp = Blueprint("mijn", __name__, url_prefix="/mijn")

def _label(labels: Mapping[str, Any], code: str | None) -> str:
    return str(labels.get(code or "", code or ""))



bp.before_request(resident_login)  # every page here is the resident's own


private_pages(bp)


def _own_profile() -> Profile | None:
    """The resident's profile in the municipality of the URL (scoped by the tenant resolution)."""
    return profile_of_account(get_session(), resident_account().id)


# --- Overview --------------------------------------------------------------------------------


@bp.get("/")
def overview() -> str:
    """Every municipality where the resident has a profile, with what it holds about them."""
    account = resident_account()
    overviews = overview_for(get_session(), account.id)
    language = current_language()
    type_labels = {}
    for item in overviews:
        types = case_types_for(item.tenant)
        for case in item.cases:
            case_type = types.get(case.type_code)
            type_labels[case.id] = case_type.label(language) if case_type else case.type_code
    consent_counts = {}
    for item in overviews:
        choices = [code for code, purpose in item.consents.catalogue.items() if purpose.is_choice]
        consent_counts[item.profile.id] = (sum(item.consents.allows(code) for code in choices), len(choices))
    return render_template("mijn/overview.html", overviews=overviews, account=account, type_labels=type_labels,
                           consent_counts=consent_counts,
                           status_label=status_label, field_labels=FIELD_LABELS, channel_labels=CHANNEL_LABELS,
                           outcome_labels=OUTCOME_LABELS, section_labels=SECTION_LABELS, label=_label)


# --- Preferences -----------------------------------------------------------------------------


def _by_whom(change: PreferenceChange) -> str:
    if change.actor_kind == "inwoner":
        return _("uzelf")
    if change.channel == "balie":
        return _("een medewerker aan de balie")
    if change.channel == "telefoon":
        return _("een medewerker aan de telefoon")
    return _("een medewerker")


def _preference_form(profile: Profile | None) -> dict[str, Any]:
    if profile is None:
        account = resident_account()
        return {"name": account.name or "", "email": account.email or "", "language": current_language()}
    return {"name": profile.name, "birth_date": profile.birth_date.isoformat() if profile.birth_date else "",
            "address": profile.address, "email": profile.email, "phone": profile.phone,
            "language": profile.language, "preferred_channel": profile.preferred_channel or "",
            "no_digital_contact": profile.no_digital_contact, "assistance_needs": profile.assistance_needs}


def _render_preferences(profile: Profile | None, form: Mapping[str, Any], errors: Mapping[str, list[str]] | None = None,
                        status: int = 200) -> tuple[str, int]:
    history = []
    if profile is not None:
        history = list(get_session().scalars(select(PreferenceChange).where(PreferenceChange.profile_id == profile.id)
                                             .order_by(PreferenceChange.id.desc())))
    errors = errors or {}
    slot_href = {slot: slot if slot in FIELD_LABELS else "" for slot in errors}
    return render_template("mijn/preferences.html", tenant=g.tenant, profile=profile, form=form, errors=errors,
                           slot_href=slot_href, history=history, by_whom=_by_whom, field_labels=FIELD_LABELS,
                           channels=CONTACT_CHANNELS, channel_labels=CHANNEL_LABELS, languages=LANGUAGES), status


@bp.get("/<tenant>/voorkeuren")
def preferences() -> tuple[str, int]:
    """The resident's details and contact preferences here (an empty form when there is no profile yet)."""
    profile = _own_profile()
    return _render_preferences(profile, _preference_form(profile))


@bp.post("/<tenant>/voorkeuren")
def save_preferences() -> Response | tuple[str, int]:
    """Store what changed; a resident without a profile here gets one (preferences before any case)."""
    db = get_session()
    changes: dict[str, Any] = {name: value for name, value in request.form.items() if name != "csrf_token"}
    changes["no_digital_contact"] = "no_digital_contact" in request.form
    profile = _own_profile()
    try:
        if profile is None:
            profile = ensure_profile(db, resident_account(), now())
        changed = update_preferences(db, profile, changes, actor=Actor.resident("web"), at=now())
    except ProfileError as error:
        db.rollback()
        return _render_preferences(_own_profile(), request.form, error.errors, 400)
    db.commit()
    flash(_("Uw gegevens en voorkeuren zijn bewaard.") if changed else _("Er was niets gewijzigd."))
    return redirect(url_for("mijn.preferences"), code=303)


# --- Consents --------------------------------------------------------------------------------


def _consent_state(consents: Consents, purpose: Purpose) -> str:
    """``gegeven``, ``niet_gegeven`` or ``opnieuw_vragen`` (given for an older version of the purpose)."""
    record = consents.latest.get(purpose.code)
    if record is None or not record.granted:
        return "niet_gegeven"
    return "gegeven" if record.purpose_version == purpose.version else "opnieuw_vragen"


def _render_consents(profile: Profile | None, errors: Mapping[str, list[str]] | None = None,
                     status: int = 200) -> tuple[str, int]:
    db = get_session()
    consents = consents_for(db, g.tenant, profile) if profile else Consents(catalogue_for(g.tenant), {})
    purposes = sorted(consents.catalogue.values(), key=lambda p: (p.is_choice, p.code))
    return render_template(
        "mijn/consents.html", tenant=g.tenant, purposes=purposes, consents=consents, state=_consent_state,
        history=consent_history(db, profile) if profile else [], language=current_language(), errors=errors or {},
        slot_href={"doel": ""}, legal_basis_labels=LEGAL_BASIS_LABELS, channel_labels=CHANNEL_LABELS, label=_label,
    ), status


@bp.get("/<tenant>/toestemmingen")
def consents() -> tuple[str, int]:
    """The municipality's purposes: what is required and why, and what is the resident's choice."""
    return _render_consents(_own_profile())


@bp.post("/<tenant>/toestemmingen")
def decide_consent() -> Response | tuple[str, int]:
    """Give or withdraw consent for one purpose; a required or unknown purpose is refused (400)."""
    db = get_session()
    decision = request.form.get("beslissing")
    if decision not in ("geven", "intrekken"):
        return _render_consents(_own_profile(), {"doel": [_("Kies of u toestemming geeft of intrekt.")]}, 400)
    profile = _own_profile()
    try:
        if profile is None:
            profile = ensure_profile(db, resident_account(), now())
        record_consent(db, g.tenant, profile, request.form.get("doel", ""), decision == "geven",
                       actor=Actor.resident("web"), language=current_language(), at=now())
    except ConsentError as error:
        db.rollback()
        return _render_consents(_own_profile(), {"doel": [str(error)]}, 400)
    db.commit()
    flash(_("Uw toestemming is bewaard.") if decision == "geven" else _("Uw toestemming is ingetrokken."))
    return redirect(url_for("mijn.consents"), code=303)


@bp.get("/<tenant>/toestemmingen/<receipt_id>.json")
def receipt(receipt_id: str) -> Response:
    """One decision as a Kantara consent receipt, only for the resident it is about."""
    db = get_session()
    profile = _own_profile()
    record = None
    if profile is not None:
        record = db.scalar(select(ConsentRecord).where(ConsentRecord.receipt_id == receipt_id,
                                                       ConsentRecord.profile_id == profile.id))
    purpose = catalogue_for(g.tenant).get(record.purpose_code) if record else None
    if profile is None or record is None or purpose is None:
        abort(404)
    policy_url = current_app.config["BASE_URL"] + url_for("mijn.consents")
    body = json.dumps(consent_receipt(g.tenant, profile, record, purpose, policy_url), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="toestemming-{record.receipt_id}.json"'
    return response


# --- Access log ------------------------------------------------------------------------------


@bp.get("/<tenant>/toegang")
def access_log() -> str:
    """Who looked at the resident's profile here, when, why and what they saw."""
    profile = _own_profile()
    entries = entries_for_profile(get_session(), profile.id) if profile else []
    return render_template("mijn/access_log.html", tenant=g.tenant, entries=entries,
                           section_labels=SECTION_LABELS, label=_label)
