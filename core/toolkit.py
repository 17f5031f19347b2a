"""The one module plugins import from the core: its stable surface.

Everything a plugin needs from Fygitaal is re-exported here, so the core can move its internals
without breaking plugins. Changes to this list are deliberate and announced in CHANGELOG.md.
Plugins may of course import Flask, SQLAlchemy and marshmallow themselves.
"""

from flask import g
from flask_babel import gettext, lazy_gettext

from core.cases.handling import message_resident
from core.cases.models import Case
from core.cases.types import CaseType
from core.db import Base, get_session, utcnow
from core.identity.access import current_principal, requires
from core.plugins import hookimpl
from core.plugins.manifest import MATURITIES, Manifest, NoSettings
from core.profiles.models import Profile
from core.profiles.purposes import allows
from core.tenancy.isolation import TenantScoped, tenant_foreign_key
from core.tenancy.models import Department, Tenant
from core.tenancy.rls import disable_tenant_rls, enable_tenant_rls
from core.tenancy.service import working_for


def current_tenant() -> Tenant:
    """The municipality of the current request (inside a plugin's blueprint routes)."""
    return g.tenant


def plugin_settings(name: str) -> dict:
    """The settings the current municipality gave plugin ``name`` in its tenant file."""
    return dict((g.tenant.plugins or {}).get(name, {}))


__all__ = [
    "MATURITIES",
    "Base",
    "Case",
    "CaseType",
    "Department",
    "Manifest",
    "NoSettings",
    "Profile",
    "Tenant",
    "TenantScoped",
    "allows",
    "current_principal",
    "current_tenant",
    "disable_tenant_rls",
    "enable_tenant_rls",
    "get_session",
    "gettext",
    "hookimpl",
    "lazy_gettext",
    "message_resident",
    "plugin_settings",
    "requires",
    "tenant_foreign_key",
    "utcnow",
    "working_for",
]
