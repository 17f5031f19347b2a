"""QR share pages: the resident makes, shows and revokes shares; the recipient opens one (DESIGN §6).

The plain token exists only at creation. So that the QR can be shown again during the resident's
session, the session keeps it sealed with a pad derived from the session's cookie id, which the
database never holds (it keeps only the id's hash); the token itself never reaches the database.
Opening ``/delen/<token>`` counts one view and trades the token for a session entry, then redirects to the token-free
``/delen/bekijken``. That page can be reloaded without counting another view until the share's
window ends, but for at most :data:`VIEW_MINUTES` after the scan, and not after a revocation.
Every page here is ``no-store`` and sends no referrer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import qrcode
import qrcode.image.svg
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
from flask_babel import format_date
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from core.cases.lifecycle import status_label
from core.cases.models import Case
from core.cases.types import case_types_for
from core.clock import as_utc, now
from core.db import get_session
from core.i18n import LANGUAGE_NAMES, current_language
from core.identity.access import current_principal, resident_required
from core.profiles.labels import CHANNEL_LABELS, FIELD_LABELS
from core.profiles.models import Profile, Share
from core.profiles.purposes import PROFILE_FIELDS
from core.profiles.service import profile_of_account
from core.profiles.share import (
    ANYONE,
    DEFAULT_WINDOW,
    MAX_PURPOSE,
    MAX_VIEWS,
    WINDOW_CHOICES,
    ShareError,
    ShareGone,
    ShareRefused,
    ShareRequest,
    cases_of,
    create_share,
    open_share,
    revoke_share,
    share_by_token,
    share_of_profile,
    shares_of,
    state_of,
    views_of,
)
from core.security import private_pages
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Tenant
from core.tenancy.service import list_tenants

bp = Blueprint("shares", __name__)

TOKENS_KEY = "share_tokens"  # session: {share id: token sealed with _pad} for the shares made in this session
VIEW_KEY = "share_view"  # session: the share a scan opened here, and until when
MAX_KEPT_TOKENS = 20
VIEW_MINUTES = 15
QR_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


private_pages(bp, no_referrer=True)  # share pages carry personal data or a token



def share_link(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/delen/{token}"


def qr_image(link: str, fmt: str) -> bytes:
    """The QR code of the link (only the link: no personal data), as PNG or SVG with a white background."""
    factory = qrcode.image.svg.SvgPathFillImage if fmt == "svg" else None
    image = qrcode.make(link, image_factory=factory, box_size=8, border=4)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


# --- The resident's side -----------------------------------------------------------------------


def _profile() -> Profile | None:
    account = current_principal().account
    return profile_of_account(get_session(), account.id) if account else None


def _own_share(share_id: int) -> tuple[Profile, Share]:
    """The resident's share in this municipality, or 404 (anyone else's, or none)."""
    profile = _profile()
    share = share_of_profile(get_session(), profile, share_id) if profile else None
    if profile is None or share is None:
        abort(404)
    return profile, share


def _pad(share_id: int) -> bytes | None:
    """A one-time pad for one share in this session, from the session's cookie id.

    The session row holds only the SHA-256 of that id, so a token sealed with this pad cannot be
    read from the database: a copy of it opens no share, not even one made in a live session.
    """
    sid = getattr(session, "sid", None)
    if not sid:
        return None
    label = f"fygitaal:share-token:{sid}:{share_id}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), label, hashlib.sha256).digest()


def _keep_token(share_id: int, token: str) -> None:
    pad, raw = _pad(share_id), base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    if pad is None or len(raw) != len(pad):
        return
    kept = dict(session.get(TOKENS_KEY, {}))
    kept.pop(str(share_id), None)
    kept[str(share_id)] = base64.b64encode(bytes(a ^ b for a, b in zip(raw, pad, strict=True))).decode()
    session[TOKENS_KEY] = dict(list(kept.items())[-MAX_KEPT_TOKENS:])


def _kept_token(share_id: int) -> str | None:
    sealed, pad = session.get(TOKENS_KEY, {}).get(str(share_id)), _pad(share_id)
    if sealed is None or pad is None:
        return None
    raw = bytes(a ^ b for a, b in zip(base64.b64decode(sealed), pad, strict=True))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _forget_token(share_id: int) -> None:
    kept = dict(session.get(TOKENS_KEY, {}))
    if kept.pop(str(share_id), None) is not None:
        session[TOKENS_KEY] = kept


def _case_rows(tenant: Tenant, cases: list[Case]) -> list[dict[str, str]]:
    """Reference, type and status only: a share never shows a case's description."""
    types = case_types_for(tenant)
    return [{"id": str(case.id), "reference": case.reference, "status": status_label(case.status),
             "type": types[case.type_code].label(current_language()) if case.type_code in types else case.type_code}
            for case in cases]


def _render_index(profile: Profile, form: Mapping[str, Any], errors: Mapping[str, list[str]] | None = None,
                  status: int = 200) -> tuple[str, int]:
    db = get_session()
    active, past = shares_of(db, profile, now())
    windows = list(WINDOW_CHOICES)
    chosen = str(form.get("duur", ""))
    if chosen.isdigit() and int(chosen) not in windows:
        windows = sorted([*windows, int(chosen)])  # a typed-in duration stays selected when the form returns
    return render_template(
        "mijn/share_index.html", form=form, errors=errors or {}, fields=PROFILE_FIELDS, field_labels=FIELD_LABELS,
        cases=_case_rows(g.tenant, cases_of(db, profile)), tenants=list_tenants(db), anyone=ANYONE, windows=windows,
        max_views=MAX_VIEWS, max_purpose=MAX_PURPOSE, active=active, past=past, state_of=state_of, at=now(),
        slot_href={"velden": "veld-" + PROFILE_FIELDS[0], "zaken": "zaken", "ontvanger": "ontvanger",
                   "doel": "doel", "duur": "duur", "bekijken": "bekijken"},
    ), status


@bp.route("/mijn/<tenant>/delen", methods=["GET", "POST"])
@resident_required
def index() -> Response | tuple[str, int]:
    """The share form and the resident's shares here; a POST makes a share and shows its code."""
    profile = _profile()
    if profile is None:
        return render_template("mijn/share_none.html"), 200
    if request.method == "GET":
        return _render_index(profile, MultiDict({"duur": str(DEFAULT_WINDOW), "bekijken": "1", "ontvanger": ANYONE}))
    db = get_session()
    form = request.form
    chosen = ShareRequest(fields=form.getlist("velden"), case_ids=form.getlist("zaken"),
                          recipient=form.get("ontvanger", ""), purpose=form.get("doel", ""),
                          window_minutes=form.get("duur", ""), max_views=form.get("bekijken", ""))
    try:
        share, token = create_share(db, profile, chosen, at=now())
    except ShareError as error:
        db.rollback()
        return _render_index(profile, form, error.errors, 400)
    share_id = share.id
    db.commit()
    _keep_token(share_id, token)
    return redirect(url_for("shares.detail", share_id=share_id), code=303)


@bp.get("/mijn/<tenant>/delen/<int:share_id>")
@resident_required
def detail(share_id: int) -> str:
    """The code (while this session knows it), what it shares, its views and a revoke button."""
    profile, share = _own_share(share_id)
    db = get_session()
    token = _kept_token(share.id)
    cases = [c for c in cases_of(db, profile) if c.id in share.case_ids]
    recipient = db.get(Tenant, share.recipient_tenant_id) if share.recipient_tenant_id else None
    return render_template(
        "mijn/share_detail.html", share=share, state=state_of(share, now()), link=share_link(token) if token else None,
        field_labels=FIELD_LABELS, cases=_case_rows(g.tenant, cases), recipient=recipient, views=views_of(db, share),
    )


@bp.get("/mijn/<tenant>/delen/<int:share_id>/qr.<fmt>")
@resident_required
def qr(share_id: int, fmt: str) -> Response:
    if fmt not in QR_TYPES:
        abort(404)
    share = _own_share(share_id)[1]
    token = _kept_token(share.id)
    if token is None:
        abort(404)
    response = Response(qr_image(share_link(token), fmt), mimetype=QR_TYPES[fmt])
    response.headers["Content-Disposition"] = f'inline; filename="deelcode-{share.id}.{fmt}"'
    return response


@bp.post("/mijn/<tenant>/delen/<int:share_id>/intrekken")
@resident_required
def revoke(share_id: int) -> Response:
    share = _own_share(share_id)[1]
    db = get_session()
    revoke_share(db, share, now())
    db.commit()
    _forget_token(share_id)
    flash(_("De deelcode is ingetrokken. Niemand kan ze nog openen."))
    return redirect(url_for("shares.detail", share_id=share_id), code=303)


# --- The recipient's side ----------------------------------------------------------------------


def _not_for_you() -> tuple[str, int]:
    """One page for a wrong token and for a code meant for another municipality (no oracle)."""
    return render_template("delen/not_for_you.html"), 404


def _gone(state: str) -> tuple[str, int]:
    session.pop(VIEW_KEY, None)
    return render_template("delen/gone.html", state=state), 410


@bp.get("/delen/<token>", endpoint="open")
def open_link(token: str) -> Response | tuple[str, int]:
    """Count the view, remember it in this browser's session, and leave the token-bearing URL."""
    db = get_session()
    share = share_by_token(db, token)
    if share is None:
        return _not_for_you()
    account_id = getattr(session, "account_id", None)
    at = now()
    try:
        opened = open_share(db, share, account_id=account_id, instance_secret=current_app.config["SECRET_KEY"],
                            at=at)
    except ShareRefused:
        db.rollback()
        return _not_for_you()
    except ShareGone as gone:
        db.rollback()
        return _gone(gone.state)
    until = min(as_utc(opened.expires_at), at + timedelta(minutes=VIEW_MINUTES))
    session[VIEW_KEY] = {"share": opened.id, "tenant": opened.tenant_id, "account": account_id,
                         "until": until.isoformat()}
    db.commit()
    return redirect(url_for("shares.view"), code=303)


def _shown_value(profile: Profile, name: str) -> str:
    value = getattr(profile, name)
    if name == "no_digital_contact":
        return _("Ja") if value else _("Nee")
    if not value:
        return _("(niet ingevuld)")
    if isinstance(value, date):
        return format_date(value, "long")
    if name == "language":
        return LANGUAGE_NAMES.get(value, value)
    if name == "preferred_channel":
        return str(CHANNEL_LABELS.get(value, value))
    return str(value)


@bp.get("/delen/bekijken")
def view() -> tuple[str, int]:
    """The chosen fields and cases, the issuing municipality and the expiry; nothing else."""
    entry = session.get(VIEW_KEY)
    if not entry or entry.get("account") != getattr(session, "account_id", None):
        return _not_for_you()
    db = get_session()
    set_tenant(db, entry["tenant"])
    share = db.get(Share, entry["share"])
    at = now()
    if share is None:
        return _not_for_you()
    if share.revoked_at is not None:
        return _gone("ingetrokken")
    if at >= datetime.fromisoformat(entry["until"]):
        return _gone("verlopen")
    profile = db.get(Profile, share.profile_id)
    issuer = db.get(Tenant, share.tenant_id)
    if profile is None or issuer is None:
        return _not_for_you()
    cases = [c for c in cases_of(db, profile) if c.id in share.case_ids]
    fields = [(str(FIELD_LABELS.get(name, name)), _shown_value(profile, name)) for name in share.fields]
    return render_template("delen/view.html", issuer=issuer, fields=fields, cases=_case_rows(issuer, cases),
                           expires_at=share.expires_at, until=datetime.fromisoformat(entry["until"])), 200
