"""The resident's export (GDPR art. 15 copy): requested on the web, built by the worker, fetched once.

One export covers the account's profiles in every municipality. The worker claims a waiting export
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, like the outbox claim), gathers the facts municipality by
municipality with the session scoped to that municipality (plugin hooks expect it), committing
``progress`` after each section so the status page can show it, and stores a JSON document (its
schema is ``docs/export.schema.json``) and a PDF of the same facts. Each file can be downloaded
once, by its owner, within :data:`LIFETIME` of being ready; :func:`expire_exports` removes the files
of exports that were fetched or have expired.

The PDF library is imported only where the worker renders (see :mod:`core.profiles.export_pdf`):
web workers import this module and must not load fpdf2.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.cases.models import Case, CaseEvent
from core.cases.types import case_types_for
from core.clock import as_utc, now
from core.contact.models import ContactMoment
from core.db import database
from core.identity.models import Account
from core.plugins.manager import call_impl
from core.profiles.access_log import entries_for_profile
from core.profiles.models import PreferenceChange, Profile, ProfileExport, Share
from core.profiles.purposes import catalogue_for, per_language
from core.profiles.service import consent_history, consent_receipt, profiles_of_account
from core.storage import storage
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Tenant

log = logging.getLogger("fygitaal.profiles")

LIFETIME = timedelta(minutes=15)
STUCK_AFTER = timedelta(hours=1)
FORMATS = ("json", "pdf")
BUSY = ("wachtend", "bezig")
SCHEMA_VERSION = "1.0"
CLAIM_LIMIT = 5


class ExportError(ValueError):
    """A request that cannot be taken (one is already on its way); nothing stored."""


class ExportNotFound(LookupError):
    """No such export for this account (or nothing to download yet): the resident sees 404."""


class ExportGone(LookupError):
    """The file was downloaded already or its link expired: the resident sees 410."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # gedownload | verlopen


@dataclass(frozen=True)
class Fetched:
    """One downloaded file: its bytes, where it lived (to delete after the commit) and a file name."""

    data: bytes
    key: str
    filename: str
    mimetype: str


def file_key(export_id: int, fmt: str) -> str:
    """Where an export's file is stored; fixed per export, so a failed build can clean up after itself."""
    return f"exports/{export_id}.{fmt}"


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


# --- The web side ---------------------------------------------------------------------------


def request_export(db: Session, account_id: int, *, language: str, at: datetime) -> ProfileExport:
    """A new export for the account, waiting for the worker; refused while another is on its way."""
    db.get(Account, account_id, with_for_update=True)  # two quick clicks queue here, the second is refused
    busy = db.scalar(select(ProfileExport.id).where(ProfileExport.account_id == account_id,
                                                    ProfileExport.status.in_(BUSY)))
    if busy is not None:
        raise ExportError(_("Er wordt al een kopie van uw gegevens gemaakt. Wacht tot die klaar is."))
    export = ProfileExport(account_id=account_id, status="wachtend", progress=0, language=language, requested_at=at)
    db.add(export)
    db.flush()
    return export


def exports_of(db: Session, account_id: int) -> list[ProfileExport]:
    """The account's exports, the newest first."""
    return list(db.scalars(select(ProfileExport).where(ProfileExport.account_id == account_id)
                           .order_by(ProfileExport.id.desc()).limit(50)))


def export_of(db: Session, account_id: int, export_id: int) -> ProfileExport | None:
    """One export, only for its owner (anyone else gets ``None``, shown as 404)."""
    return db.scalar(select(ProfileExport).where(ProfileExport.id == export_id,
                                                 ProfileExport.account_id == account_id))


def fetch_once(db: Session, account_id: int, export_id: int, fmt: str, *, at: datetime) -> Fetched:
    """Mark one file fetched and return it; a second, late or foreign request is refused.

    The mark is one ``UPDATE … WHERE <fmt>_fetched_at IS NULL``: its row count decides, so of two
    concurrent clicks exactly one gets the file. The caller commits, then deletes ``Fetched.key``.
    """
    if fmt not in FORMATS:
        raise ExportNotFound(fmt)
    export = export_of(db, account_id, export_id)
    if export is None or export.status not in ("klaar", "verlopen"):
        raise ExportNotFound(export_id)
    column = ProfileExport.json_fetched_at if fmt == "json" else ProfileExport.pdf_fetched_at
    if getattr(export, column.key) is not None:
        raise ExportGone("gedownload")
    if export.status == "verlopen" or export.expires_at is None or as_utc(export.expires_at) <= at:
        raise ExportGone("verlopen")
    marked = db.execute(
        update(ProfileExport)
        .where(ProfileExport.id == export.id, column.is_(None), ProfileExport.status == "klaar",
               ProfileExport.expires_at > at)
        .values({column: at}),
        execution_options={"synchronize_session": False},
    )
    if marked.rowcount != 1:
        raise ExportGone("gedownload")
    key = file_key(export.id, fmt)
    day = as_utc(export.ready_at or at).date().isoformat()
    return Fetched(data=storage().get(key), key=key, filename=f"fygitaal-kopie-{day}.{fmt}",
                   mimetype="application/json" if fmt == "json" else "application/pdf")


# --- The worker side ------------------------------------------------------------------------


def claim_waiting(db: Session, limit: int = CLAIM_LIMIT) -> list[int]:
    """Take waiting exports as ``bezig`` in one statement (concurrent workers skip each other's rows)."""
    waiting = (select(ProfileExport.id).where(ProfileExport.status == "wachtend")
               .order_by(ProfileExport.id).limit(limit).with_for_update(skip_locked=True))
    return list(db.scalars(
        update(ProfileExport).where(ProfileExport.id.in_(waiting), ProfileExport.status == "wachtend")
        .values(status="bezig", progress=0).returning(ProfileExport.id),
        execution_options={"synchronize_session": False},
    ))


def build_waiting(app: Flask, limit: int = CLAIM_LIMIT) -> list[int]:
    """Claim and build waiting exports; one that fails is marked ``mislukt`` and the others go on."""
    with app.app_context():
        with database(app).session_scope() as db:
            claimed = claim_waiting(db, limit)
        for export_id in claimed:
            try:
                build_export(app, export_id)
            except Exception:
                log.exception("export %s failed", export_id, extra={"export": export_id})
                _fail(app, export_id)
    return claimed


def _fail(app: Flask, export_id: int) -> None:
    for fmt in FORMATS:
        storage().delete(file_key(export_id, fmt))
    with database(app).session_scope() as db:
        db.execute(update(ProfileExport).where(ProfileExport.id == export_id)
                   .values(status="mislukt", json_key=None, pdf_key=None),
                   execution_options={"synchronize_session": False})


def build_export(app: Flask, export_id: int) -> None:
    """Gather, render and store one claimed export, then mark it ready for :data:`LIFETIME`."""
    from core.profiles.export_pdf import render_export_pdf  # fpdf2 is loaded by the worker only

    with database(app).session_scope() as db:
        export = db.get(ProfileExport, export_id)
        if export is None:
            return
        language = export.language
        with force_locale(language):
            document = gather(db, export, at=now())
    font_dir = Path(app.config["LETTER_FONT_DIR"]) if app.config.get("LETTER_FONT_DIR") else None
    with force_locale(language):
        pdf = render_export_pdf(document, font_dir=font_dir)
    files = storage()
    files.put(file_key(export_id, "json"), json.dumps(document, ensure_ascii=False, indent=2).encode())
    files.put(file_key(export_id, "pdf"), pdf)
    ready = now()
    with database(app).session_scope() as db:
        db.execute(update(ProfileExport).where(ProfileExport.id == export_id).values(
            status="klaar", progress=100, ready_at=ready, expires_at=ready + LIFETIME,
            json_key=file_key(export_id, "json"), pdf_key=file_key(export_id, "pdf")),
            execution_options={"synchronize_session": False})


def expire_exports(app: Flask, at: datetime) -> int:
    """(In an app context.) Remove the files of exports fetched or past their time and mark them ``verlopen``.

    Exports stuck waiting or building for :data:`STUCK_AFTER` (a worker stopped) become ``mislukt``,
    so the resident can ask again. Files are deleted before the commit (deleting twice is harmless).
    Returns how many exports ended.
    """
    with database(app).session_scope() as db:
        done = list(db.scalars(select(ProfileExport).where(
            ProfileExport.status == "klaar",
            or_(ProfileExport.expires_at <= at,
                ProfileExport.json_fetched_at.is_not(None) & ProfileExport.pdf_fetched_at.is_not(None)),
        ).with_for_update(skip_locked=True)))
        stuck = list(db.scalars(select(ProfileExport).where(
            ProfileExport.status.in_(BUSY), ProfileExport.requested_at <= at - STUCK_AFTER,
        ).with_for_update(skip_locked=True)))
        files = storage()
        for export in done + stuck:
            for fmt in FORMATS:
                files.delete(file_key(export.id, fmt))
            export.json_key = export.pdf_key = None
            export.status = "verlopen" if export in done else "mislukt"
    return len(done) + len(stuck)


# --- Gathering the facts --------------------------------------------------------------------


class _Progress:
    """Counts finished sections and commits the percentage, so the status page shows it meanwhile."""

    def __init__(self, db: Session, export_id: int, total: int) -> None:
        self.db, self.export_id, self.total, self.done = db, export_id, max(total, 1), 0

    def step(self) -> None:
        self.done += 1
        percent = min(99, self.done * 100 // self.total)  # 100 only when the files are stored
        self.db.execute(update(ProfileExport).where(ProfileExport.id == self.export_id).values(progress=percent),
                        execution_options={"synchronize_session": False})
        self.db.commit()


@dataclass(frozen=True)
class _Scope:
    """What each section needs: the session (scoped to ``tenant``), the profile and the account."""

    db: Session
    tenant: Tenant
    profile: Profile
    account_id: int
    language: str


def _profile(scope: _Scope) -> dict[str, Any]:
    p = scope.profile
    return {
        "naam": p.name, "geboortedatum": p.birth_date.isoformat() if p.birth_date else None, "adres": p.address,
        "email": p.email, "telefoon": p.phone, "taal": p.language, "voorkeurkanaal": p.preferred_channel,
        "geenDigitaalContact": p.no_digital_contact, "ondersteuningsnoden": p.assistance_needs,
        "rijksregisternummerGekend": p.national_number_hash is not None, "aangemaaktDoor": p.created_by,
        "aangemaaktOp": _iso(p.created_at), "gewijzigdOp": _iso(p.updated_at), "gekoppeldOp": _iso(p.linked_at),
    }


def _preferences(scope: _Scope) -> list[dict[str, Any]]:
    changes = scope.db.scalars(select(PreferenceChange).where(PreferenceChange.profile_id == scope.profile.id)
                               .order_by(PreferenceChange.id))
    return [{"velden": list(c.fields), "tijdstip": _iso(c.created_at), "kanaal": c.channel, "door": c.actor_kind}
            for c in changes]


def _consents(scope: _Scope) -> list[dict[str, Any]]:
    catalogue = catalogue_for(scope.tenant)
    policy_url = f"{current_app.config['BASE_URL']}/{scope.tenant.slug}"
    out = []
    for record in consent_history(scope.db, scope.profile):
        purpose = catalogue.get(record.purpose_code)
        out.append({
            "doel": record.purpose_code,
            "doelTitel": purpose.text("title", scope.language) if purpose else record.purpose_code,
            "doelVersie": record.purpose_version, "toegestaan": record.granted, "tijdstip": _iso(record.created_at),
            "kanaal": record.channel, "door": record.actor_kind,
            # A purpose that left the catalogue (a plugin switched off) keeps its record, without receipt.
            "ontvangstbewijs": (consent_receipt(scope.tenant, scope.profile, record, purpose, policy_url)
                                if purpose else None),
        })
    return out


def _cases(scope: _Scope) -> list[dict[str, Any]]:
    """The person's own cases here; never a case merged into theirs, which is someone else's."""
    db = scope.db
    cases = list(db.scalars(select(Case).where(or_(Case.profile_id == scope.profile.id,
                                                   Case.reporter_account_id == scope.account_id))
                            .order_by(Case.id)))
    events: dict[int, list[dict[str, Any]]] = {case.id: [] for case in cases}
    for event in db.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(list(events)),
                                                   CaseEvent.visible_to_citizen.is_(True))
                            .order_by(CaseEvent.id)):
        events[event.case_id].append({"soort": event.kind, "tijdstip": _iso(event.created_at),
                                      "vanStatus": event.from_status, "naarStatus": event.to_status,
                                      "tekst": event.body})
    types = case_types_for(scope.tenant)
    out = []
    for case in cases:
        case_type = types.get(case.type_code)
        out.append({
            "referentie": case.reference, "type": case.type_code,
            "typeLabel": case_type.label(scope.language) if case_type else case.type_code,
            "soort": case.kind, "status": case.status, "resolutie": case.resolution,
            "resolutieToelichting": case.resolution_note, "doorverwezenNaar": case.referred_to,
            "kanaal": case.channel, "beschrijving": case.description, "gegevens": case.data or {},
            "adres": case.address, "locatie": {"lat": case.lat, "lon": case.lon} if case.lat is not None else None,
            "melder": {"naam": case.reporter_name, "email": case.reporter_email, "telefoon": case.reporter_phone,
                       "adres": case.reporter_address, "voorkeurkanaal": case.preferred_channel},
            "tevreden": case.satisfied, "aangemaaktOp": _iso(case.created_at), "afgeslotenOp": _iso(case.closed_at),
            "gebeurtenissen": events[case.id],
        })
    return out


def _references(db: Session, case_ids: list[int]) -> dict[int, str]:
    if not case_ids:
        return {}
    return {case_id: reference for case_id, reference in
            db.execute(select(Case.id, Case.reference).where(Case.id.in_(case_ids)))}


def _contact_moments(scope: _Scope) -> list[dict[str, Any]]:
    moments = list(scope.db.scalars(select(ContactMoment).where(ContactMoment.profile_id == scope.profile.id)
                                    .order_by(ContactMoment.created_at, ContactMoment.id)))
    references = _references(scope.db, [m.case_id for m in moments if m.case_id is not None])
    return [{"tijdstip": _iso(m.created_at), "kanaal": m.channel, "onderwerp": m.topic, "samenvatting": m.summary,
             "uitkomst": m.outcome, "dossier": references.get(m.case_id) if m.case_id else None} for m in moments]


def _access_log(scope: _Scope) -> list[dict[str, Any]]:
    return [{"tijdstip": _iso(e.created_at), "doorSoort": e.actor_kind, "door": e.actor_label, "reden": e.reason,
             "getoond": list(e.shown)} for e in reversed(entries_for_profile(scope.db, scope.profile.id, limit=None))]


def _shares(scope: _Scope) -> list[dict[str, Any]]:
    """The resident's share links: what, for whom, how long and how often seen (never the token's hash)."""
    db = scope.db
    shares = list(db.scalars(select(Share).where(Share.profile_id == scope.profile.id).order_by(Share.id)))
    recipients = {t.id: t.name for t in db.scalars(select(Tenant).where(
        Tenant.id.in_({s.recipient_tenant_id for s in shares if s.recipient_tenant_id is not None})))}
    references = _references(db, [case_id for s in shares for case_id in s.case_ids])
    return [{
        "velden": list(s.fields), "dossiers": [references[c] for c in s.case_ids if c in references],
        "ontvanger": recipients.get(s.recipient_tenant_id) if s.recipient_tenant_id else None,
        "doel": s.purpose, "aangemaaktOp": _iso(s.created_at), "geldigTot": _iso(s.expires_at),
        "ingetrokkenOp": _iso(s.revoked_at), "maximumAantalKeer": s.max_views, "aantalKeerBekeken": s.views,
    } for s in shares]


class ExportSectionSchema(Schema):
    """What a plugin returns for one section (documented in ``fygitaal_export_sections``)."""

    key = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_.-]{1,79}$"))
    title = per_language(200)
    content = fields.Raw(required=True, allow_none=True)


def _plugin_sections(scope: _Scope) -> list[dict[str, Any]]:
    """Each enabled plugin's sections; a failing plugin is logged by name and shows as failed."""
    db, schema = scope.db, ExportSectionSchema()
    hooks = current_app.extensions["fygitaal.plugins"].hooks_for(scope.tenant)
    out: list[dict[str, Any]] = []
    for impl in hooks.fygitaal_export_sections.get_hookimpls():
        try:
            with db.begin_nested():  # a plugin's failed query must not break the rest of the export
                returned = call_impl(impl, {"session": db, "tenant": scope.tenant, "profile": scope.profile})
            loaded = [schema.load(raw) for raw in returned or []]
            json.dumps([data["content"] for data in loaded])  # JSON-serialisable, or it counts as failed
        except Exception:
            log.exception("plugin %s failed in fygitaal_export_sections", impl.plugin_name,
                          extra={"plugin": impl.plugin_name})
            out.append({"plugin": impl.plugin_name, "mislukt": True,
                        "melding": _("Deze module kon haar gegevens niet leveren. Vraag later een nieuwe kopie "
                                     "aan of neem contact op met de gemeente.")})
            continue
        out.extend({"plugin": impl.plugin_name, "mislukt": False, "sleutel": data["key"], "titel": data["title"],
                    "inhoud": data["content"]} for data in loaded)
    return out


SECTIONS: tuple[tuple[str, Callable[[_Scope], Any]], ...] = (
    ("profiel", _profile), ("voorkeurwijzigingen", _preferences), ("toestemmingen", _consents),
    ("dossiers", _cases), ("contactmomenten", _contact_moments), ("toegangslog", _access_log),
    ("deellinks", _shares), ("pluginsecties", _plugin_sections),
)


def gather(db: Session, export: ProfileExport, *, at: datetime) -> dict[str, Any]:
    """The export document: the account, then every municipality where it has a profile."""
    account = db.get(Account, export.account_id)
    assert account is not None
    found = profiles_of_account(db, account.id)
    progress = _Progress(db, export.id, len(found) * len(SECTIONS) + 1)
    municipalities = []
    try:
        for profile, tenant in found:
            set_tenant(db, tenant.id)
            scope = _Scope(db=db, tenant=tenant, profile=profile, account_id=account.id, language=export.language)
            entry: dict[str, Any] = {"gemeente": {"naam": tenant.name, "code": tenant.slug, "nisCode": tenant.nis_code}}
            for key, build in SECTIONS:
                entry[key] = build(scope)
                progress.step()
            municipalities.append(entry)
    finally:
        set_tenant(db, None)
    return {
        "schemaVersie": SCHEMA_VERSION,
        "metadata": {"aangemaaktOp": _iso(at), "taal": export.language,
                     "account": {"naam": account.name, "email": account.email,
                                 "identiteitsprovider": account.issuer, "aanmeldingsId": account.subject,
                                 "aangemaaktOp": _iso(account.created_at)}},
        "gemeenten": municipalities,
    }
