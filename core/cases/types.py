"""Case types: what a resident can report or ask, where it goes, and how it is handled.

They come from the core (the generic question), from plugins (``fygitaal_case_types``) and are
adjusted per municipality in its tenant file (``[case_types.<code>]``: department, target days,
enabled). The result is cached per municipality until its configuration changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from flask import current_app
from marshmallow import Schema

from core.tenancy.models import Tenant

LANGUAGES = ("nl", "fr", "en")


@dataclass(frozen=True)
class CaseType:
    """One kind of melding or vraag, as a plugin (or the core) defines it."""

    code: str
    kind: str
    labels: dict[str, str]
    prefix: str
    department: str | None = None
    description: dict[str, str] = field(default_factory=dict)
    group: str = ""
    keywords: tuple[str, ...] = ()
    schema: type[Schema] | None = None
    location_required: bool = False
    anonymous_allowed: bool = True
    target_days: int = 14
    duplicate_radius_m: int = 50
    standard_replies: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ("melding", "vraag"):
            raise ValueError(f"case type {self.code!r}: kind must be 'melding' or 'vraag'")
        if not self.prefix.isalpha() or not self.prefix.isupper() or len(self.prefix) > 6:
            raise ValueError(f"case type {self.code!r}: prefix must be 1–6 capital letters")

    @property
    def public(self) -> bool:
        """A report about public space that anyone may make anonymously: others may see that it exists
        (duplicates, Open311). Questions and personal requests never are."""
        return self.kind == "melding" and self.anonymous_allowed

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("nl") or self.code

    def replies_for(self, state: str, language: str) -> list[str]:
        """Standard replies a case handler can start from when moving a case into ``state``."""
        reply = self.standard_replies.get(state, {})
        text = reply.get(language) or reply.get("nl")
        return [text] if text else []


def _collect(tenant: Tenant) -> dict[str, CaseType]:
    registry = current_app.extensions["fygitaal.plugins"]
    found: dict[str, CaseType] = {}
    for contributed in registry.hooks_for(tenant).fygitaal_case_types(tenant=tenant):
        for case_type in contributed or []:
            found.setdefault(case_type.code, case_type)
    overrides: dict[str, dict[str, Any]] = tenant.case_types or {}
    for code, override in overrides.items():
        if code not in found:
            continue
        if override.get("enabled") is False:
            del found[code]
            continue
        changes = {k: override[k] for k in ("department", "target_days") if k in override}
        found[code] = replace(found[code], **changes)
    return dict(sorted(found.items(), key=lambda item: (item[1].kind, item[1].label("nl"))))


def case_types_for(tenant: Tenant) -> dict[str, CaseType]:
    """The municipality's case types by code, cached until its configuration changes."""
    cache: dict[tuple[int, int], dict[str, CaseType]] = current_app.extensions.setdefault(
        "fygitaal.case_types", {}
    )
    key = (tenant.id, tenant.config_version)
    if key not in cache:
        cache[key] = _collect(tenant)
    return cache[key]
