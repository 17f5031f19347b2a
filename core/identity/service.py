"""Service functions for identity: completing a login, and ending a person's sessions."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.identity import national_number
from core.identity.models import Account, StaffMember
from core.identity.providers import Provider
from core.identity.sessions import end_sessions_of
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Tenant

log = logging.getLogger("fygitaal.identity")


class LoginRefused(Exception):
    """A login that must not create a session; ``reason`` is a code safe to log and show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify_id_token_claims(claims: dict[str, Any], provider: Provider, nonce: str) -> None:
    """Our own check of what the ID token says, against our configuration (not the library's)."""
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if claims.get("iss", "").rstrip("/") != provider.issuer:
        raise LoginRefused("issuer")
    if provider.client_id not in audiences:
        raise LoginRefused("audience")
    if not nonce or claims.get("nonce") != nonce:
        raise LoginRefused("nonce")
    if not claims.get("sub"):
        raise LoginRefused("subject")


def account_for(db: Session, issuer: str, subject: str) -> Account:
    """The account keyed by (issuer, subject), created when it does not exist yet."""
    account = db.scalar(select(Account).where(Account.issuer == issuer, Account.subject == subject))
    if account is None:
        account = Account(issuer=issuer, subject=subject)
        db.add(account)
        db.flush()
    return account


def complete_login(db: Session, provider: Provider, claims: dict[str, Any], *, instance_secret: str,
                   national_number_claim: str, at: Any, tenant: Tenant | None = None) -> Account:
    """Record a verified login; for a staff login, insist on an active membership of ``tenant``."""
    account = account_for(db, provider.issuer, claims["sub"])
    account.name = str(claims.get("name") or account.name or "")[:200]
    account.email = str(claims.get("email") or account.email or "")[:254]
    raw_number = claims.get(national_number_claim)
    if raw_number:
        try:
            account.national_number_hash = national_number.keyed_hash(
                instance_secret, "platform", str(raw_number)
            )
        except national_number.InvalidNationalNumber:
            log.warning("login: the national number claim failed its checksum; ignored",
                        extra={"provider": provider.key})
    account.last_login_at = at
    if tenant is not None:
        set_tenant(db, tenant.id)
        staff = db.scalar(select(StaffMember).where(StaffMember.account_id == account.id))
        if staff is None or not staff.active or not staff.roles:
            raise LoginRefused("not_staff")
    db.flush()
    return account


def end_all_sessions(db: Session, account_id: int) -> int:
    """Logout ends every session of the person, on every device."""
    return end_sessions_of(db, account_id)
