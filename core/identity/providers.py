"""The OpenID Connect providers: the platform's (residents) and each municipality's (staff)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from core.tenancy.models import Tenant

PLATFORM = "platform"


class ProviderNotConfigured(RuntimeError):
    """Login is impossible until the provider is configured; the message says what to set."""


@dataclass(frozen=True)
class Provider:
    key: str
    issuer: str
    client_id: str
    client_secret: str


def platform_provider() -> Provider:
    config = current_app.config
    if not config["OIDC_ISSUER"] or not config["OIDC_CLIENT_ID"]:
        raise ProviderNotConfigured(
            "set FYGITAAL_OIDC_ISSUER, FYGITAAL_OIDC_CLIENT_ID and FYGITAAL_OIDC_CLIENT_SECRET"
        )
    return Provider(PLATFORM, config["OIDC_ISSUER"].rstrip("/"), config["OIDC_CLIENT_ID"],
                    config["OIDC_CLIENT_SECRET"])


def staff_provider(tenant: Tenant) -> Provider:
    """Where a municipality's staff log in: its own provider, or the platform's."""
    identity = tenant.identity or {}
    if identity.get("provider", PLATFORM) == PLATFORM:
        return platform_provider()
    secret = os.environ.get(identity["client_secret_env"], "")
    if not secret:
        raise ProviderNotConfigured(f"set {identity['client_secret_env']} for {tenant.slug}'s staff login")
    return Provider(f"tenant-{tenant.slug}", identity["issuer"].rstrip("/"), identity["client_id"], secret)


def oauth_client(provider: Provider) -> Any:
    """authlib's client for a provider, registered on first use (discovery is fetched lazily)."""
    oauth: OAuth = current_app.extensions["fygitaal.oauth"]
    client = oauth.create_client(provider.key)
    if client is None:
        client = oauth.register(
            provider.key,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=f"{provider.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid profile email"},
        )
    return client


def init_app(app: Flask) -> None:
    app.extensions["fygitaal.oauth"] = OAuth(app)
