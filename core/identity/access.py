"""What views use: the current person, and ``@requires(permission)``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from core.db import get_session
from core.identity.models import Account
from core.identity.policy import Decision, Principal, decide, load_principal

F = TypeVar("F", bound=Callable[..., Any])


def current_principal() -> Principal:
    """Loaded once per request."""
    if "principal" not in g:
        g.principal = load_principal(get_session(), getattr(session, "account_id", None), g.get("tenant"))
    return g.principal


def resident_login() -> Response | None:
    """None for a logged-in person; anyone else is sent to the resident login and comes back here.

    Usable as a blueprint's ``before_request`` (every page is someone's own) or through
    :func:`resident_required` on single views.
    """
    if current_principal().account is None:
        return redirect(url_for("identity.login", next=request.full_path.rstrip("?")))
    return None


def resident_account() -> Account:
    """The logged-in person's account, on a page behind :func:`resident_login`."""
    account = current_principal().account
    assert account is not None, "resident_login or resident_required guards this page"
    return account


def resident_required(view: F) -> F:
    """A page about the logged-in person's own data (any account; no role needed)."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        return resident_login() or view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def requires(permission: str) -> Callable[[F], F]:
    """Declare what a view needs; the policy decides. The permission is kept on the view so the
    role × route matrix test can find every protected route."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            decision = decide(current_principal(), permission, g.get("tenant"))
            if decision is Decision.LOGIN:
                target = request.full_path.rstrip("?")
                if "tenant" in g:
                    return redirect(url_for("identity.staff_login", tenant=g.tenant.slug, next=target))
                return redirect(url_for("identity.login", next=target))
            if decision is Decision.NOT_FOUND:
                abort(404)
            if decision is Decision.FORBIDDEN:
                abort(403)
            return view(*args, **kwargs)

        guarded.required_permission = permission  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate
