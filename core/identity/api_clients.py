"""API clients of a municipality: created with their secret shown once, kept only as hashes.

Secrets and tokens are 256-bit random values, so a plain SHA-256 is enough to make a stolen
table useless (no password-hashing cost is needed for values nobody can guess).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.clock import as_utc
from core.identity.models import ApiClient, ApiToken
from core.tenancy.models import Tenant

SCOPES = {
    "cases:read": "read the municipality's cases",
    "cases:write": "create cases and change their state",
    "departments:read": "read the municipality's departments",
}


class ApiClientError(ValueError):
    """Bad input for an API client; the message says what to fix."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewClient:
    """What the creator sees once: afterwards only hashes remain."""

    client_id: str
    client_secret: str
    api_key: str | None


def _check_scopes(scopes: list[str]) -> None:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ApiClientError(
            f"unknown scopes: {', '.join(unknown)}; choose from {', '.join(sorted(SCOPES))}"
            if unknown else f"give at least one scope: {', '.join(sorted(SCOPES))}"
        )


def create_client(db: Session, tenant: Tenant, name: str, scopes: list[str], *, open311: bool = False,
                  client_id: str | None = None) -> NewClient:
    """A client of ``tenant`` with ``scopes``; with ``open311`` also an Open311 api_key."""
    _check_scopes(scopes)
    client_id = client_id or f"{tenant.slug}-{secrets.token_hex(6)}"
    if db.scalar(select(ApiClient.id).where(ApiClient.client_id == client_id)):
        raise ApiClientError(f"client id {client_id!r} is taken; choose another")
    secret = secrets.token_urlsafe(32)
    api_key = secrets.token_urlsafe(32) if open311 else None
    db.add(ApiClient(client_id=client_id, secret_hash=digest(secret), tenant_id=tenant.id, name=name,
                     scopes=sorted(scopes), open311_key_hash=digest(api_key) if api_key else None))
    db.flush()
    return NewClient(client_id, secret, api_key)


def rotate_secret(db: Session, client_id: str, *, open311: bool | None = None) -> NewClient:
    """A new secret (and api_key, for an Open311 client); the old ones stop working.

    ``open311`` True or False gives or takes away the Open311 api_key; None keeps things as they are.
    """
    client = db.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None:
        raise ApiClientError(f"no API client {client_id!r}")
    secret = secrets.token_urlsafe(32)
    wants_key = bool(client.open311_key_hash) if open311 is None else open311
    api_key = secrets.token_urlsafe(32) if wants_key else None
    client.secret_hash = digest(secret)
    client.open311_key_hash = digest(api_key) if api_key else None
    db.execute(delete(ApiToken).where(ApiToken.client_id == client.id))
    return NewClient(client.client_id, secret, api_key)


def client_by_id(db: Session, client_id: str) -> ApiClient | None:
    return db.scalar(select(ApiClient).where(ApiClient.client_id == client_id, ApiClient.active.is_(True)))


def client_by_open311_key(db: Session, api_key: str) -> ApiClient | None:
    """The Open311 ``api_key`` identifies the client it is bound to."""
    return db.scalar(select(ApiClient).where(ApiClient.open311_key_hash == digest(api_key),
                                             ApiClient.active.is_(True)))


def store_token(db: Session, client: ApiClient, access_token: str, scopes: list[str],
                issued_at: datetime, lifetime: timedelta) -> None:
    db.add(ApiToken(token_hash=digest(access_token), client_id=client.id, scopes=scopes,
                    issued_at=issued_at, expires_at=issued_at + lifetime))


def valid_token(db: Session, access_token: str, at: datetime) -> ApiToken | None:
    """The token, if it exists, is not expired and its client is active."""
    token = db.get(ApiToken, digest(access_token))
    if token is None or as_utc(token.expires_at) <= at or not token.client.active:
        return None
    return token
