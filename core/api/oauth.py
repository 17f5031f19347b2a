"""OAuth2 client credentials (authlib's authorization server) and the bearer-token protector."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, ClassVar, TypeVar

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, InvalidScopeError, grants, scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Blueprint, Flask, Response, abort, current_app, g

from core.api.problems import problem
from core.clock import as_utc, now
from core.db import get_session
from core.identity import api_clients
from core.identity.models import ApiClient, ApiToken

log = logging.getLogger("fygitaal.api")
F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("oauth", __name__)


class OAuthClient(ClientMixin):
    """authlib's view of one of our API clients."""

    def __init__(self, record: ApiClient) -> None:
        self.record = record

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope_to_list(scope) or [] if s in self.record.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(api_clients.digest(client_secret), self.record.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class ClientCredentials(grants.ClientCredentialsGrant):
    """Asking for a scope the client does not have is an error, not a silently smaller token."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = set(scope_to_list(self.request.payload.scope) or [])
        if not requested <= set(self.request.client.record.scopes):
            raise InvalidScopeError()


def _query_client(client_id: str) -> OAuthClient | None:
    record = api_clients.client_by_id(get_session(), client_id)
    return OAuthClient(record) if record else None


def _save_token(token: dict[str, Any], request: Any) -> None:
    client: ApiClient = request.client.record
    scopes = scope_to_list(token.get("scope")) or list(client.scopes)
    token["scope"] = " ".join(scopes)
    lifetime = timedelta(minutes=current_app.config["API_TOKEN_MINUTES"])
    session = get_session()
    api_clients.store_token(session, client, token["access_token"], scopes, now(), lifetime)
    session.commit()


class TokenRecord:
    """authlib's view of one of our stored tokens."""

    def __init__(self, record: ApiToken) -> None:
        self.record = record

    def get_scope(self) -> str:
        return " ".join(self.record.scopes)

    def is_expired(self) -> bool:
        return as_utc(self.record.expires_at) <= now()

    def is_revoked(self) -> bool:
        return not self.record.client.active


class Validator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> TokenRecord | None:
        record = get_session().get(ApiToken, api_clients.digest(token_string))
        return TokenRecord(record) if record else None


@bp.post("/oauth/token")
def issue_token() -> Response:
    """The token endpoint (client credentials); refusals are logged without the secret."""
    server: AuthorizationServer = current_app.extensions["fygitaal.oauth_server"]
    response = server.create_token_response()
    if response.status_code != 200:
        log.warning("token refused", extra={"status": response.status_code,
                                             "error": (response.get_json(silent=True) or {}).get("error")})
    return response


def api_scope(scope: str) -> Callable[[F], F]:
    """Protect an API view: a valid bearer token with ``scope``, for the municipality in the URL.

    A token of another municipality gets 404, as any other request for another tenant's data.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def protected(*args: Any, **kwargs: Any) -> Any:
            protector: ResourceProtector = current_app.extensions["fygitaal.resource_protector"]
            try:
                token = protector.acquire_token([scope])
            except OAuth2Error as error:
                log.warning("bearer token refused", extra={"error": error.error})
                response = problem(error.status_code, error.get_error_description() or error.error,
                                   error=error.error)
                response.headers["WWW-Authenticate"] = f'Bearer error="{error.error}"'
                return response
            client = token.record.client
            if "tenant" not in g or client.tenant_id != g.tenant.id:
                abort(404)
            g.api_client = client
            return view(*args, **kwargs)

        protected.required_scope = scope  # type: ignore[attr-defined]
        return protected  # type: ignore[return-value]

    return decorate


def init_app(app: Flask) -> None:
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"client_credentials": app.config["API_TOKEN_MINUTES"] * 60}
    server = AuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    server.register_grant(ClientCredentials)
    protector = ResourceProtector()
    protector.register_token_validator(Validator())
    app.extensions["fygitaal.oauth_server"] = server
    app.extensions["fygitaal.resource_protector"] = protector
    app.register_blueprint(bp)
