"""Every extension point of Fygitaal: the one contract between the core and its plugins.

Hooks are grouped by life-cycle phase. Each docstring is the hook's reference documentation
(`docs/hooks.md` is generated from it and a test keeps the two equal) and ends with a ``Scope:``
line that says which plugins are called. Hooks may gain arguments (pluggy lets an implementation
accept fewer), never lose or rename them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.plugins import hookspec

if TYPE_CHECKING:
    from datetime import datetime

    import click
    from flask import Blueprint
    from sqlalchemy.orm import Session

    from core.cases.types import CaseType
    from core.plugins.manifest import Manifest
    from core.tenancy.models import Tenant


# --- Start-up: called once per process, for every installed plugin --------------------------


@hookspec(firstresult=True)
def fygitaal_plugin_manifest() -> Manifest:
    """Describe the plugin: who owns it, how mature it is and what data it touches.

    Return a :class:`core.toolkit.Manifest` with ``name`` (the entry-point name), ``version``,
    ``owner`` (the municipality or team that maintains it), ``maturity`` (``"pilot"``,
    ``"approved"`` or ``"deprecated"``), ``pilot_tenants`` (slugs that may enable a pilot plugin),
    ``data_categories`` (the personal-data categories it processes; empty when none) and
    ``settings_schema`` (a marshmallow schema class that validates the settings a tenant gives it in
    ``tenants/<slug>.toml``). Every plugin must implement this hook; a plugin without a manifest is
    reported as failed and cannot be enabled.

    Stops at the first non-None result (each plugin is asked on its own).

    Scope: every installed plugin, at start-up.
    """


@hookspec
def fygitaal_blueprints() -> list[Blueprint]:
    """Give the Flask blueprints that carry the plugin's pages.

    Each blueprint is mounted under ``/<tenant>/`` followed by its own ``url_prefix``; its routes
    receive the tenant in ``flask.g.tenant`` and answer 404 for a municipality that has not enabled
    the plugin, before any of the plugin's code runs. Templates go in the blueprint's own
    ``template_folder`` and extend ``"base.html"``.

    :return: a list of blueprints (may be empty).

    Scope: every installed plugin, at start-up.
    """


@hookspec
def fygitaal_cli(cli: click.Group) -> None:
    """Add commands to the ``fygitaal`` command line.

    :param cli: the root command group; add a group named after the plugin, e.g.
        ``@cli.group("grofvuil")``. Commands run inside an application context.

    Scope: every installed plugin, at start-up.
    """


# --- Cases: intake and lifecycle ------------------------------------------------------------


@hookspec
def fygitaal_case_types(tenant: Tenant) -> list[CaseType]:
    """Offer case types (kinds of melding or vraag) to a municipality.

    :param tenant: the municipality asking.
    :return: a list of :class:`core.toolkit.CaseType`: ``code``, ``kind`` (``"melding"`` or
        ``"vraag"``), ``prefix`` (the reference's capital letters, e.g. ``"ZV"`` gives
        ``ZV-2026-00042``), ``labels`` and ``description`` per language, ``department`` (a
        department code of the municipality), ``schema`` (a marshmallow schema for extra fields;
        ``metadata={"label": {...}, "values": {...}}`` on a field gives forms and Open311 their
        texts), ``location_required``, ``anonymous_allowed``, ``target_days``,
        ``duplicate_radius_m`` and ``standard_replies`` per state and language. The first plugin
        to offer a code wins; a municipality adjusts department, target days or ``enabled`` in its
        tenant file under ``[case_types.<code>]``. The result is cached per municipality until its
        configuration changes.

    Scope: only plugins enabled for ``tenant`` (and the core's own question type).
    """


@hookspec
def fygitaal_validate_case(session: Session, tenant: Tenant, case_type: str, data: dict) -> list[str]:
    """Check a case before intake stores it, beyond its case type's schema.

    :param session: the database session, scoped to ``tenant``; read only.
    :param tenant: the municipality the case is filed with.
    :param case_type: the case type's code.
    :param data: the validated input.
    :return: a list of error messages for the person filing it (empty when fine), in their
        language (use ``gettext``). All implementations are called and their errors are shown
        together; any error stops the intake and nothing is stored.

    Scope: only plugins enabled for ``tenant``.
    """


@hookspec
def fygitaal_case_created(session: Session, tenant: Tenant, case: Any) -> None:
    """React to a new case after intake has committed it.

    The case is already safe: an exception here is logged with the plugin's name and never loses
    the resident's input. Send side effects through the outbox, not directly.

    :param session: a session scoped to ``tenant`` whose intake transaction has committed; the
        plugin commits its own writes.
    :param tenant: the municipality.
    :param case: the case as stored.

    Scope: only plugins enabled for ``tenant``.
    """


@hookspec
def fygitaal_case_status_changed(
    session: Session, tenant: Tenant, case: Any, old_status: str, new_status: str
) -> None:
    """React to a case moving through the transition table (after the change is committed).

    :param session: a fresh session scoped to ``tenant``.
    :param tenant: the municipality.
    :param case: the case after the change.
    :param old_status: the state it left.
    :param new_status: the state it entered.

    Status: reserved for the case lifecycle; the core does not call it yet.

    Scope: only plugins enabled for ``tenant``.
    """


# --- Profiles, consent and the resident's rights -------------------------------------------


@hookspec
def fygitaal_consent_purposes(tenant: Tenant) -> list[Any]:
    """Add purposes to the municipality's catalogue of processing purposes.

    :param tenant: the municipality.
    :return: purpose definitions: code, title and explanation per language, legal basis
        (consent, public task, legal obligation, contract, vital interest), data categories,
        retention, what the resident loses by refusing, and a version.

    Status: called by the core when it builds a municipality's catalogue (``catalogue_for``), for
    Mijn profiel, consent and every ``allows`` check.

    Scope: only plugins enabled for ``tenant``.
    """


@hookspec
def fygitaal_profile_sections(session: Session, tenant: Tenant, profile: Any, viewer: Any) -> list[Any]:
    """Contribute sections to the 360° view and to Mijn profiel.

    Each section names the purpose it serves; the core hides it (with the reason) when
    ``allows(profile, purpose)`` says no, so a plugin never decides consent on its own. A
    section with an unknown purpose code is hidden too (fail closed). A plugin that raises, or
    returns a section of the wrong shape, is logged by name and left out; the others still show.

    :param session: the database session, scoped to ``tenant``; read only.
    :param tenant: the municipality.
    :param profile: the resident's profile in that municipality.
    :param viewer: who is looking (the resident, or a staff member with a stated reason).
    :return: a list of dicts, each ``{"key": "grofvuil.reservaties"`` (stable, lower-case),
        ``"title": {"nl": …, "fr": …, "en": …}`` (at least ``nl``), ``"purpose": "<code>"`` (a
        purpose in the catalogue: a core one such as ``dossierbehandeling`` or one the plugin
        declares through :func:`fygitaal_consent_purposes`), ``"rows": [[label, value], …]}``
        (strings, already in the viewer's language; ``gettext`` works here).

    Status: called through ``core.profiles.sections.sections_for`` (Mijn profiel, the 360° view).

    Scope: only plugins enabled for ``tenant``.
    """


@hookspec
def fygitaal_export_sections(session: Session, tenant: Tenant, profile: Any) -> list[Any]:
    """Contribute the plugin's data about a resident to their GDPR art. 15 export.

    A plugin that stores personal data must implement this hook and
    :func:`fygitaal_erase_profile`; the test kit's contract tests check it.

    :param session: the database session, scoped to ``tenant``.
    :param tenant: the municipality.
    :param profile: the resident's profile.
    :return: sections with a stable key, a title per language and JSON-serialisable content.

    Status: called by the worker for every export (``core.profiles.export``), once per
    municipality where the resident has a profile. Each section is ``{"key": …, "title":
    {"nl": …}, "content": <JSON>}``; a plugin that raises or returns another shape is logged by
    name and shows in the export as a failed section.

    Scope: only plugins enabled for ``tenant``.
    """


@hookspec
def fygitaal_erase_profile(session: Session, tenant: Tenant, profile: Any, purposes: list[str]) -> None:
    """Erase what the plugin holds about a resident for the given purposes.

    Called when the municipality carries out a resident's erasure request. Every plugin's erasure
    and the core's own run in one savepoint: when a plugin raises, nothing is erased and the request
    stays open with a note naming the plugin. Keep what a purpose the resident cannot refuse still
    needs (for example a planned pickup).

    :param session: the database session, scoped to ``tenant``; do not commit, the core does.
    :param tenant: the municipality.
    :param profile: the resident's profile.
    :param purposes: codes of the consent-based purposes whose data must go.

    Status: called by the core when staff carry out an erasure request (``core.profiles.erasure``).

    Scope: only plugins enabled for ``tenant``.
    """


@hookspec
def fygitaal_retention(session: Session, tenant: Tenant, at: datetime) -> int:
    """Remove what the plugin keeps beyond its retention terms, as of ``at``.

    A plugin that stores personal data says in its purposes how long it keeps it; this hook is
    where it keeps that promise (for example: past pickups of residents who did not consent to a
    history). Called by ``fygitaal purge`` and the worker's hourly purge, once per municipality,
    inside a savepoint: a plugin that raises is logged by name and the rest of the purge goes on.
    Must be idempotent: running it twice removes nothing the second time.

    :param session: the database session, scoped to ``tenant``; do not commit, the core does.
    :param tenant: the municipality.
    :param at: the moment the retention terms are measured from (UTC).
    :return: how many rows were removed or anonymised (for the purge report).

    Status: called by the core's retention run (``core.cases.retention.purge``).

    Scope: only plugins enabled for ``tenant``.
    """


@hookspec
def fygitaal_cases_removed(session: Session, tenant: Tenant, case_ids: list[int]) -> None:
    """Delete the plugin's rows that reference cases the core is about to remove.

    Closed cases are removed after the municipality's ``archive_days`` (10 years by default). The
    core calls this hook before it deletes them, so a plugin whose tables point at ``case_file``
    deletes (or unlinks) its rows first and no foreign key stands in the way. All plugins run in
    one savepoint per batch: when one raises, it is logged by name and that batch of cases is kept
    for the next run, so nothing is half removed. Must be idempotent: the same ids may come again.

    :param session: the database session, scoped to ``tenant``; do not commit, the core does.
    :param tenant: the municipality.
    :param case_ids: ids of the closed cases that go (at most one batch).

    Status: called by the core's retention run (``core.cases.retention.purge``).

    Scope: only plugins enabled for ``tenant``.
    """


# --- Notifications, knowledge and signals ----------------------------------------------------


@hookspec
def fygitaal_notification_channels(tenant: Tenant) -> list[Any]:
    """Add delivery channels (SMS, app push, …) for the outbox worker.

    :param tenant: the municipality.
    :return: channel definitions: a code matching a preferred channel and a ``deliver(message)``
        callable that raises to ask for a retry.

    Status: reserved for notifications; the core does not call it yet.

    Scope: only plugins enabled for ``tenant``.
    """


@hookspec
def fygitaal_knowledge_articles(tenant: Tenant) -> list[Any]:
    """Supply knowledge-base articles that front-office staff can answer from.

    :param tenant: the municipality.
    :return: articles: a stable key, question and answer per language, topics.

    Status: called by the desk's knowledge-base search and the article suggestions (questions on
    the case page, the 360° view); articles are matched in Python. Each is a dict ``{"key": str,
    "question": {lang: text}, "answer": {lang: text}, "topics": [str]}`` with at least ``nl``.

    Scope: only plugins enabled for ``tenant``.
    """


@hookspec
def fygitaal_trend_indicators(tenant: Tenant) -> list[Any]:
    """Add indicators to the municipality's signals and trends.

    Return criteria (case types, area, period, threshold), not yes/no answers, so the core can
    compute them from rollups for many areas at once.

    :param tenant: the municipality.
    :return: indicator definitions.

    Status: reserved for signals and trends; the core does not call it yet.

    Scope: only plugins enabled for ``tenant``.
    """
