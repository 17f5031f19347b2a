"""A plugin's manifest: the facts the region needs to govern it and a tenant needs to enable it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema

MATURITIES = ("pilot", "approved", "deprecated")


class NoSettings(Schema):
    """The settings schema of a plugin that takes no settings."""


@dataclass(frozen=True)
class Manifest:
    """What ``fygitaal_plugin_manifest`` returns."""

    name: str
    version: str
    owner: str
    maturity: str
    description: str = ""
    title: dict[str, str] = field(default_factory=dict)
    entry_endpoint: str | None = None
    pilot_tenants: tuple[str, ...] = ()
    data_categories: tuple[str, ...] = ()
    settings_schema: type[Schema] = NoSettings

    def __post_init__(self) -> None:
        if self.maturity not in MATURITIES:
            raise ValueError(
                f"plugin {self.name!r}: maturity {self.maturity!r} is unknown; "
                f"use one of {', '.join(MATURITIES)}"
            )

    def may_be_enabled_for(self, tenant_slug: str) -> bool:
        """Only approved plugins are open to every municipality; pilots only to their pilots."""
        return self.maturity == "approved" or tenant_slug in self.pilot_tenants

    def title_in(self, language: str) -> str:
        """The title residents see, in their language, falling back to Dutch, then the name."""
        return self.title.get(language) or self.title.get("nl") or self.name

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "owner": self.owner,
            "maturity": self.maturity,
            "description": self.description,
            "title": dict(self.title),
            "entry_endpoint": self.entry_endpoint,
            "pilot_tenants": list(self.pilot_tenants),
            "data_categories": list(self.data_categories),
            "settings_schema": {
                name: type(f).__name__ for name, f in self.settings_schema().fields.items()
            },
        }
