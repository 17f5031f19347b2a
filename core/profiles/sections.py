"""Plugin sections of a profile, for Mijn profiel and the 360° view, with consent applied by the core.

Plugins contribute sections through ``fygitaal_profile_sections``; each names the purpose it
serves. The core, not the plugin, decides whether the section may be shown: a section whose
purpose the resident has not consented to (or whose purpose the catalogue does not know) keeps
its title but loses its rows and carries the reason it is hidden.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from core.i18n import select_locale
from core.plugins.manager import call_impl
from core.profiles.models import Profile
from core.profiles.purposes import Consents, per_language
from core.tenancy.models import Tenant

log = logging.getLogger(__name__)


class SectionSchema(Schema):
    """The shape a plugin returns for one section (documented in ``fygitaal_profile_sections``)."""

    key = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_.-]{1,79}$"))
    title = per_language(200)
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=60))
    rows = fields.List(fields.Tuple((fields.String(validate=validate.Length(max=200)),
                                     fields.String(validate=validate.Length(max=4000)))), load_default=list)


@dataclass(frozen=True)
class ProfileSection:
    """One plugin section as shown: rows are empty and ``hidden_reason`` says why when consent is missing."""

    plugin: str
    key: str
    title: dict[str, str]
    purpose: str
    rows: tuple[tuple[str, str], ...]
    hidden_reason: str = ""

    def title_in(self, language: str) -> str:
        return self.title.get(language) or self.title["nl"]


def _apply_consent(section: ProfileSection, consents: Consents, language: str) -> ProfileSection:
    purpose = consents.catalogue.get(section.purpose)
    if purpose is None:
        reason = _("Verborgen: onbekend doel (%(code)s)", code=section.purpose)
    elif not consents.allows(section.purpose):
        reason = _("Verborgen: geen toestemming voor %(purpose)s", purpose=purpose.text("title", language))
    else:
        return section
    return ProfileSection(plugin=section.plugin, key=section.key, title=section.title, purpose=section.purpose,
                          rows=(), hidden_reason=reason)


def sections_for(db: Session, tenant: Tenant, profile: Profile, viewer: Any,
                 consents: Consents) -> list[ProfileSection]:
    """Every enabled plugin's sections for ``profile``; a failing plugin or bad section is logged and skipped."""
    hooks = current_app.extensions["fygitaal.plugins"].hooks_for(tenant)
    schema = SectionSchema()
    language = select_locale()
    sections: list[ProfileSection] = []
    for impl in hooks.fygitaal_profile_sections.get_hookimpls():
        try:
            with db.begin_nested():  # a plugin's failed query must not break the rest of the page
                returned = call_impl(impl, {"session": db, "tenant": tenant, "profile": profile, "viewer": viewer})
            loaded = [schema.load(raw) for raw in returned or []]
        except Exception:
            log.exception("plugin %s failed in fygitaal_profile_sections", impl.plugin_name,
                          extra={"plugin": impl.plugin_name})
            continue
        for data in loaded:
            section = ProfileSection(plugin=impl.plugin_name, key=data["key"], title=data["title"],
                                     purpose=data["purpose"], rows=tuple(tuple(row) for row in data["rows"]))
            sections.append(_apply_consent(section, consents, language))
    return sections
