"""Login and logout over OpenID Connect (authorization code flow, state and nonce checked)."""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlencode

from authlib.common.errors import AuthlibBaseError
from flask import (
    Blueprint,
    Response,
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
from joserfc.errors import JoseError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from core.clock import now
from core.db import get_session
from core.i18n import safe_next
from core.identity.models import Account
from core.identity.providers import (
    Provider,
    ProviderNotConfigured,
    oauth_client,
    platform_provider,
    staff_provider,
)
from core.identity.service import LoginRefused, complete_login, end_all_sessions, verify_id_token_claims
from core.profiles.service import link_desk_profiles
from core.tenancy.service import list_tenants, tenant_by_slug

log = logging.getLogger("fygitaal.identity")

bp = Blueprint("identity", __name__)

def _refusal_message(reason: str) -> str:
    messages = {
        "state": _("De aanmelding kon niet bevestigd worden: de beveiligingscode klopt niet "
                   "of werd al gebruikt."),
        "nonce": _("De aanmelding kon niet bevestigd worden: het antwoord hoort niet bij deze "
                   "aanmeldpoging."),
        "audience": _("Het antwoord van de aanmeldpagina was voor een andere toepassing bestemd."),
        "issuer": _("Het antwoord kwam niet van de verwachte aanmeldpagina."),
        "not_staff": _("U bent niet (meer) als medewerker van deze gemeente geregistreerd."),
    }
    return messages.get(reason, _("De aanmelding is mislukt."))


def _refuse(reason: str, provider_key: str, tenant_slug: str | None) -> tuple[str, int]:
    """A clear page, a log line without personal data, and no session."""
    log.warning("login refused", extra={"reason": reason, "provider": provider_key})
    if getattr(session, "account_id", None) is None:
        session.clear()
    retry = (url_for("identity.staff_login", tenant=tenant_slug) if tenant_slug
             else url_for("identity.login"))
    return render_template("identity/refused.html", message=_refusal_message(reason), retry=retry), 400


def _begin(provider: Provider, tenant_slug: str | None) -> BaseResponse:
    nonce = secrets.token_urlsafe(32)
    session["login"] = {"provider": provider.key, "tenant": tenant_slug, "nonce": nonce,
                        "next": safe_next(request.args.get("next"), "")}
    callback = url_for("identity.callback", _external=True)
    return oauth_client(provider).authorize_redirect(callback, nonce=nonce)


@bp.get("/login")
def login() -> BaseResponse:
    """Residents log in with the platform's provider."""
    try:
        return _begin(platform_provider(), None)
    except ProviderNotConfigured:
        current_app.logger.exception("resident login is not configured")
        abort(503)


@bp.get("/<tenant>/login")
def staff_login() -> BaseResponse:
    """A municipality's staff log in with the provider in its tenant file."""
    try:
        return _begin(staff_provider(g.tenant), g.tenant.slug)
    except ProviderNotConfigured:
        current_app.logger.exception("staff login is not configured for %s", g.tenant.slug)
        abort(503)


def _provider_of(attempt: dict[str, Any]) -> tuple[Provider, Any]:
    tenant = tenant_by_slug(get_session(), attempt["tenant"]) if attempt.get("tenant") else None
    if attempt.get("tenant") and tenant is None:
        abort(404)
    return (staff_provider(tenant) if tenant else platform_provider()), tenant


@bp.get("/login/callback")
def callback() -> Any:
    attempt = session.pop("login", None)
    if not attempt:
        return _refuse("state", "unknown", None)
    provider, tenant = _provider_of(attempt)
    try:
        token = oauth_client(provider).authorize_access_token()
    except (AuthlibBaseError, JoseError) as exc:
        return _refuse(_reason_of(exc), provider.key, attempt.get("tenant"))
    claims = dict(token.get("userinfo") or {})
    db = get_session()
    try:
        verify_id_token_claims(claims, provider, attempt["nonce"])
        account = complete_login(
            db, provider, claims, instance_secret=current_app.config["SECRET_KEY"],
            national_number_claim=current_app.config["OIDC_NATIONAL_NUMBER_CLAIM"],
            at=now(), tenant=tenant,
        )
    except LoginRefused as refused:
        db.rollback()
        return _refuse(refused.reason, provider.key, attempt.get("tenant"))
    linked = [] if tenant else _link_desk_profiles(db, account, claims)
    account_id = account.id
    db.commit()
    session.clear()
    session.log_in(account_id)
    session["provider"] = provider.key
    for name in linked:
        flash(_("Uw profiel bij gemeente %(name)s, aangemaakt aan de balie, is nu aan uw account gekoppeld.",
                name=name))
    log.info("login", extra={"provider": provider.key, "staff": bool(tenant)})
    default = url_for("web.tenant_home", tenant=tenant.slug) if tenant else url_for("web.platform_home")
    return redirect(attempt.get("next") or default)


def _link_desk_profiles(db: Session, account: Account, claims: dict[str, Any]) -> list[str]:
    """A resident whose login carries their national number gets the profiles desks made for them."""
    raw_number = claims.get(current_app.config["OIDC_NATIONAL_NUMBER_CLAIM"])
    if not raw_number:
        return []
    linked = link_desk_profiles(db, account, str(raw_number), instance_secret=current_app.config["SECRET_KEY"],
                                tenants=list_tenants(db), at=now())
    return [tenant.name for tenant in linked]


def _reason_of(error: Exception) -> str:
    """The refusal code for an error of authlib or joserfc (the library validates first)."""
    if getattr(error, "error", "") == "mismatching_state":
        return "state"
    text = str(error)
    for claim, reason in (("nonce", "nonce"), ("'aud'", "audience"), ("'iss'", "issuer")):
        if claim in text:
            return reason
    return "token"


@bp.post("/logout")
def logout() -> Response | BaseResponse:
    """End every session of this person, then the provider's session when it offers that."""
    account_id = getattr(session, "account_id", None)
    provider_key = session.get("provider")
    if account_id is not None:
        db = get_session()
        end_all_sessions(db, account_id)
        db.commit()
    session.end()
    home = url_for("web.platform_home", _external=True)
    end_session = _end_session_endpoint(provider_key)
    if end_session:
        return redirect(f"{end_session}?{urlencode({'post_logout_redirect_uri': home})}")
    return redirect(home, code=303)


def _end_session_endpoint(provider_key: str | None) -> str | None:
    if not provider_key:
        return None
    client = current_app.extensions["fygitaal.oauth"].create_client(provider_key)
    if client is None:
        return None
    try:
        return client.load_server_metadata().get("end_session_endpoint")
    except Exception:
        current_app.logger.warning("provider metadata unavailable at logout")
        return None
