"""Retention: questions close and lose their personal content after their term; old reports lose their reporter.

A question (kind ``vraag``) is kept for ``tenant.question_days`` (default 30) days after its last
activity, for both sides to supplement. After that, an open question is closed as ``verlopen`` and
every question's personal content is removed: description, extra data, location address and
resolution note, the reporter's identity, event bodies, followers, attachments (rows and files),
its outbox rows (waiting ones deleted, delivered ones emptied, letters deleted); the location is
coarsened to 3 decimals (about 100 m). The anonymous metadata stays for trends: type, kind,
department, channels, dates, status, resolution, satisfaction.

A report (kind ``melding``) closed more than the municipality's ``report_anonymise_days`` (default 365) days
ago keeps its description and place, which are about public space, but loses who reported it: the
reporter's identity, followers, the messages exchanged with them and their outbox rows.

Requests to follow a report that were not confirmed within 7 days are deleted with their
confirmation mail, and each enabled plugin applies its own terms (hook ``fygitaal_retention``).

A closed case (any of :data:`CLOSED_STATES`, ``samengevoegd`` included) whose ``closed_at`` is more
than the municipality's ``archive_days`` (default 3650, 10 years) ago is removed: first the enabled
plugins delete their rows about it (hook ``fygitaal_cases_removed``), then its attachments (rows
and files), events, followers and outbox rows (and their letters), then the case. Contact moments
stay, without the case. A case merged into a removed one keeps its own term: it loses the link
(``merged_into_id``) and goes when its own ``closed_at`` is past the term (a duplicate is closed at
the merge, so it is normally due in the same run, perhaps in a later batch). When a plugin fails, or
a row the plugins left still references a case, the whole batch stays for the next run.

``purged_at`` marks a case done, so running :func:`purge` again changes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import case as when
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.cases.following import forget_unconfirmed_followers
from core.cases.lifecycle import CLOSED_STATES, OPEN_STATES, SYSTEM_ACTOR, change_status
from core.cases.models import Attachment, Case, CaseEvent, CaseFollower, IdempotencyRecord
from core.contact.models import ContactMoment
from core.db import database
from core.outbox.models import OutboxMessage
from core.plugins.manager import PluginRegistry, call_impl
from core.storage import Storage, storage
from core.tenancy.isolation import across_tenants, set_tenant
from core.tenancy.models import Tenant

log = logging.getLogger("fygitaal.retention")

PURGED_DESCRIPTION = "[Inhoud verwijderd na de bewaartermijn]"
BATCH = 200
CITIZEN_MESSAGES = ("message_from_citizen", "message_to_citizen")
SWEEP_DAYS = 7


@dataclass
class PurgeReport:
    """Per municipality (slug): questions closed, questions purged, reports anonymised, plugin rows
    removed, cases removed after the archive term; files removed."""

    closed: Counter[str] = field(default_factory=Counter)
    purged: Counter[str] = field(default_factory=Counter)
    anonymised: Counter[str] = field(default_factory=Counter)
    plugin_rows: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    files_removed: int = 0

    def tenants(self) -> list[str]:
        return sorted(set(self.closed) | set(self.purged) | set(self.anonymised) | set(self.plugin_rows)
                      | set(self.removed))

    def line(self, slug: str) -> str:
        return (f"{self.closed[slug]} questions closed, {self.purged[slug]} questions purged, "
                f"{self.anonymised[slug]} reports anonymised, {self.plugin_rows[slug]} plugin rows removed, "
                f"{self.removed[slug]} cases removed after the archive term")

    def summary(self) -> str:
        return (f"{sum(self.closed.values())} questions closed, {sum(self.purged.values())} questions purged, "
                f"{sum(self.anonymised.values())} reports anonymised, "
                f"{sum(self.plugin_rows.values())} plugin rows removed, "
                f"{sum(self.removed.values())} cases removed after the archive term, "
                f"{self.files_removed} files removed")


def _forget_reporter(case: Case) -> None:
    case.reporter_name = case.reporter_email = case.reporter_phone = case.reporter_address = None
    case.reporter_account_id = None
    case.profile_id = None
    case.preferred_channel = None


def _forget_around(db: Session, case_ids: list[int], *, event_kinds: tuple[str, ...] | None) -> None:
    """The followers of these cases, and the bodies of their events (of ``event_kinds``, or all)."""
    db.execute(delete(CaseFollower).where(CaseFollower.case_id.in_(case_ids)))
    events = update(CaseEvent).where(CaseEvent.case_id.in_(case_ids), CaseEvent.body.is_not(None))
    if event_kinds is not None:
        events = events.where(CaseEvent.kind.in_(event_kinds))
    db.execute(events.values(body=None), execution_options={"synchronize_session": False})


def _clear_outbox(db: Session, tenants: dict[int, Tenant], at: datetime,
                  report: PurgeReport) -> tuple[int, list[str]]:
    """One batch of outbox rows of purged cases that still hold personal data: waiting and failed ones
    are deleted, delivered ones emptied; returns how many, and their letters to delete.

    This looks at every case purged in the last :data:`SWEEP_DAYS` rather than only those just
    purged, so a row that was being delivered (``sending``, left to the worker) during one run is
    cleared by a later one.
    """
    purged = select(Case.id).where(Case.purged_at >= at - timedelta(days=SWEEP_DAYS))
    rows = list(db.execute(
        select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.document_key)
        .where(OutboxMessage.case_id.in_(purged), OutboxMessage.status != "sending",
               or_(OutboxMessage.status != "sent", OutboxMessage.recipient != "", OutboxMessage.body != ""))
        .order_by(OutboxMessage.id).limit(BATCH)
    ))
    if not rows:
        return 0, []
    waiting = [row.id for row in rows if row.status != "sent"]
    delivered = [row.id for row in rows if row.status == "sent"]
    if waiting:
        db.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(waiting)),
                   execution_options={"synchronize_session": False})
    if delivered:
        db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(delivered))
                   .values(recipient="", body="", document_key=None),
                   execution_options={"synchronize_session": False})
    return len(rows), [row.document_key for row in rows if row.document_key]


def _purge_questions(db: Session, tenants: dict[int, Tenant], at: datetime,
                     report: PurgeReport) -> tuple[int, list[str]]:
    """One batch of questions past their term; returns how many, and the storage keys to delete."""
    cutoff = when({tid: at - timedelta(days=t.question_days) for tid, t in tenants.items()},
                  value=Case.tenant_id)
    questions = list(db.scalars(
        select(Case).where(Case.kind == "vraag", Case.purged_at.is_(None), Case.last_activity_at < cutoff)
        .order_by(Case.id).limit(BATCH)
    ))
    if not questions:
        return 0, []
    ids = [q.id for q in questions]
    keys = list(db.scalars(select(Attachment.storage_key).where(Attachment.case_id.in_(ids))))
    db.execute(delete(Attachment).where(Attachment.case_id.in_(ids)), execution_options={"synchronize_session": False})
    for question in questions:
        slug = tenants[question.tenant_id].slug
        if question.status in OPEN_STATES:
            change_status(db, question, "afgehandeld", actor=SYSTEM_ACTOR, at=at, resolution="verlopen")
            report.closed[slug] += 1
        question.description = PURGED_DESCRIPTION
        question.data = {}
        question.address = None
        question.resolution_note = None
        question.lat = None if question.lat is None else round(question.lat, 3)
        question.lon = None if question.lon is None else round(question.lon, 3)
        _forget_reporter(question)
        question.purged_at = at
        report.purged[slug] += 1
    db.flush()  # the closing events exist before every body of these cases is cleared
    _forget_around(db, ids, event_kinds=None)
    return len(questions), keys


def _anonymise_reports(db: Session, tenants: dict[int, Tenant], at: datetime,
                       report: PurgeReport) -> tuple[int, list[str]]:
    """One batch of reports closed longer ago than their municipality's term; returns how many (no files:
    photos show the place)."""
    cutoff = when({tid: at - timedelta(days=t.report_anonymise_days) for tid, t in tenants.items()},
                  value=Case.tenant_id)
    reports = list(db.scalars(
        select(Case).where(Case.kind == "melding", Case.purged_at.is_(None), Case.status.in_(CLOSED_STATES),
                           Case.closed_at < cutoff)
        .order_by(Case.id).limit(BATCH)
    ))
    if not reports:
        return 0, []
    for melding in reports:
        _forget_reporter(melding)
        melding.purged_at = at
        report.anonymised[tenants[melding.tenant_id].slug] += 1
    _forget_around(db, [r.id for r in reports], event_kinds=CITIZEN_MESSAGES)
    return len(reports), []


IDEMPOTENCY_LIFETIME = timedelta(hours=24)


def _forget_unconfirmed_followers(db: Session, _tenants: dict[int, Tenant], at: datetime,
                                  _report: PurgeReport) -> tuple[int, list[str]]:
    """Requests to follow a report that nobody confirmed within 7 days (see core.cases.following)."""
    forget_unconfirmed_followers(db, at)
    return 0, []


def _expire_idempotency_records(db: Session, _tenants: dict[int, Tenant], at: datetime,
                                _report: PurgeReport) -> tuple[int, list[str]]:
    """API answers kept for Idempotency-Key replays live 24 hours (they may hold a follow-up link)."""
    db.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= at - IDEMPOTENCY_LIFETIME))
    return 0, []


def _tenant_ids(app: Flask) -> list[int]:
    with database(app).session_scope() as session:
        return list(session.scalars(select(Tenant.id).order_by(Tenant.id)))


def _plugin_retention(app: Flask, at: datetime, report: PurgeReport) -> None:
    """Each municipality's enabled plugins apply their own terms (hook ``fygitaal_retention``).

    One transaction per municipality, one savepoint per plugin: a failing plugin is logged by name
    and the others, and the other municipalities, go on.
    """
    registry = app.extensions["fygitaal.plugins"]
    for tenant_id in _tenant_ids(app):
        with database(app).session_scope() as session:
            tenant = session.get(Tenant, tenant_id)
            if tenant is None:
                continue
            set_tenant(session, tenant.id)
            for impl in registry.hooks_for(tenant).fygitaal_retention.get_hookimpls():
                try:
                    with session.begin_nested():
                        removed = call_impl(impl, {"session": session, "tenant": tenant, "at": at})
                except Exception:
                    log.exception("plugin %s failed in fygitaal_retention", impl.plugin_name,
                                  extra={"plugin": impl.plugin_name})
                    continue
                report.plugin_rows[tenant.slug] += int(removed or 0)


def _plugins_release(session: Session, tenant: Tenant, case_ids: list[int], registry: PluginRegistry) -> bool:
    """Let the enabled plugins delete their rows about these cases (hook ``fygitaal_cases_removed``).

    All plugins share one savepoint, so a failure undoes every plugin's deletions for the batch;
    returns whether the cases may go.
    """
    impl = None
    try:
        with session.begin_nested():
            for impl in registry.hooks_for(tenant).fygitaal_cases_removed.get_hookimpls():
                call_impl(impl, {"session": session, "tenant": tenant, "case_ids": case_ids})
    except Exception:
        name = impl.plugin_name if impl is not None else "?"
        log.exception("plugin %s failed in fygitaal_cases_removed; %d cases of %s kept for the next run",
                      name, len(case_ids), tenant.slug, extra={"plugin": name})
        return False
    return True


def _remove_batch(session: Session, tenant: Tenant, at: datetime, registry: PluginRegistry, files: Storage,
                  report: PurgeReport) -> int:
    """One batch of the municipality's cases closed longer ago than its archive term; returns how many
    went (0 when none are due or a plugin refused the batch)."""
    ids = list(session.scalars(
        select(Case.id).where(Case.status.in_(CLOSED_STATES),
                              Case.closed_at < at - timedelta(days=tenant.archive_days))
        .order_by(Case.id).limit(BATCH)
    ))
    if not ids:
        return 0
    keys = [*session.scalars(select(Attachment.storage_key).where(Attachment.case_id.in_(ids))),
            *session.scalars(select(OutboxMessage.document_key).where(OutboxMessage.case_id.in_(ids),
                                                                      OutboxMessage.document_key.is_not(None)))]
    bulk = {"synchronize_session": False}
    try:
        with session.begin_nested():  # the plugins' deletions and the core's stand or fall together
            if not _plugins_release(session, tenant, ids, registry):
                return 0
            for model in (Attachment, CaseEvent, CaseFollower, OutboxMessage):
                session.execute(delete(model).where(model.case_id.in_(ids)), execution_options=bulk)
            session.execute(update(ContactMoment).where(ContactMoment.case_id.in_(ids)).values(case_id=None),
                            execution_options=bulk)
            session.execute(update(Case).where(Case.merged_into_id.in_(ids)).values(merged_into_id=None),
                            execution_options=bulk)
            session.execute(delete(Case).where(Case.id.in_(ids)), execution_options=bulk)
    except IntegrityError:  # a plugin left rows pointing at these cases (it lacks fygitaal_cases_removed)
        log.exception("%d cases of %s kept for the next run: other rows still reference them", len(ids), tenant.slug)
        return 0
    for key in keys:  # before the commit, as in purge()
        files.delete(key)
    report.files_removed += len(keys)
    report.removed[tenant.slug] += len(ids)
    return len(ids)


def _remove_archived(app: Flask, at: datetime, report: PurgeReport) -> None:
    """Remove closed cases past their municipality's archive term, a batch per transaction.

    A municipality whose plugin refuses a batch is left for the next run; the others go on.
    """
    registry = app.extensions["fygitaal.plugins"]
    files = storage()
    for tenant_id in _tenant_ids(app):
        done = BATCH
        while done == BATCH:
            with database(app).session_scope() as session:
                tenant = session.get(Tenant, tenant_id)
                if tenant is None:
                    break
                set_tenant(session, tenant.id)
                done = _remove_batch(session, tenant, at, registry, files, report)


def purge(app: Flask, at: datetime) -> PurgeReport:
    """Apply retention in every municipality as of ``at``; safe to run again (idempotent).

    Works in batches, each its own transaction. A batch's files are deleted before its commit: if
    the commit fails, the cases stay unpurged and the next run finishes them (deleting a missing
    file is fine); the other order could leave personal files behind with nothing pointing at them.
    """
    report = PurgeReport()
    steps = (_purge_questions, _anonymise_reports, _clear_outbox, _expire_idempotency_records,
             _forget_unconfirmed_followers)
    with app.app_context():
        files = storage()
        for step in steps:
            done = BATCH
            while done == BATCH:
                with database(app).session_scope() as session:
                    tenants = {t.id: t for t in session.scalars(select(Tenant))}
                    if not tenants:
                        return report
                    with across_tenants(session, "retention: questions past their term, reports past anonymisation"):
                        done, keys = step(session, tenants, at, report)
                        session.flush()
                    for key in keys:
                        files.delete(key)
                    report.files_removed += len(keys)
        _plugin_retention(app, at, report)
        _remove_archived(app, at, report)
    if report.tenants():
        log.info("retention: %s", report.summary())
    return report
