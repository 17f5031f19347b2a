"""The outbox worker: delivers due notifications across municipalities, each outbox row at most once.

One row goes through three steps:

1. **claim**, in one short transaction across municipalities, one statement: ``UPDATE … SET status
   = 'sending' WHERE status = 'pending' AND id IN (the due rows, SELECT … FOR UPDATE SKIP LOCKED on
   PostgreSQL) RETURNING id``. Concurrent workers skip each other's rows on PostgreSQL; SQLite
   serialises writers, and the ``status = 'pending'`` condition holds there too. The commit makes
   the claim visible, so no other worker takes those rows. While a row is ``sending``,
   ``next_attempt_at`` holds the moment it was claimed.
2. **deliver**, outside any transaction: an e-mail over SMTP, or a PDF letter put in storage (a
   letter is sent once it is in the front office's print queue).
3. **record** the outcome in its own transaction, scoped to the row's municipality: ``sent``; or
   back to ``pending`` after a backoff (1 min, 5 min, 30 min, 2 h, 12 h); or ``failed`` after
   :data:`MAX_ATTEMPTS`. The stored error names the exception and a short reason, never the
   recipient.

A row still ``sending`` means a worker stopped between steps 2 and 3: nobody knows whether the
resident got it. The worker never retries such a row by itself, since that could deliver it twice;
:func:`recover_stuck` (``fygitaal outbox recover``) puts rows stuck for more than 15 minutes back to
``pending`` when an operator decides so, and logs which ones. The worker loop warns when there are any.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from core.cases.retention import purge
from core.clock import now
from core.db import database
from core.outbox.letters import letter_key, render_letter
from core.outbox.models import OutboxMessage
from core.profiles.export import build_waiting, expire_exports
from core.storage import storage
from core.tenancy.isolation import across_tenants, set_tenant
from core.tenancy.models import Tenant

log = logging.getLogger("fygitaal.outbox")

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
           timedelta(hours=12))
MAX_ATTEMPTS = len(BACKOFF) + 1
STUCK_AFTER = timedelta(minutes=15)
PURGE_EVERY_SECONDS = 3600
_EMAIL_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+")


class PermanentFailure(RuntimeError):
    """A message that no retry can deliver (an unknown channel): it fails at once."""


@dataclass(frozen=True)
class _Job:
    """What delivery needs of a claimed row, read inside the claim transaction."""

    id: int
    tenant_id: int
    tenant_slug: str
    tenant_name: str
    channel: str
    recipient: str
    subject: str
    body: str
    language: str
    attempts: int


@dataclass
class DeliveryReport:
    """The ids of the rows one :func:`deliver_due` call claimed, by outcome."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.failed)

    def summary(self) -> str:
        return f"{len(self.sent)} sent, {len(self.retrying)} to retry later, {len(self.failed)} failed"


def safe_error(exc: BaseException, recipient: str) -> str:
    """``ExceptionClass: short reason`` for ``last_error``, with the recipient and any address masked."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        reason = "recipient refused (" + ", ".join(str(code) for code, _msg in exc.recipients.values()) + ")"
    elif isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        reason = f"{exc.smtp_code} {message}"
    elif isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror
    else:
        reason = str(exc)
    for line in filter(None, (part.strip() for part in recipient.splitlines())):
        reason = reason.replace(line, "[ontvanger]")
    reason = _EMAIL_ADDRESS.sub("[e-mail]", " ".join(reason.split()))
    return f"{type(exc).__name__}: {reason}"[:300]


class _Mailer:
    """One SMTP connection per delivery round, opened on first use and dropped after any error."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage, recipient: str) -> None:
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            self.smtp.send_message(message, from_addr=self.config["MAIL_FROM"], to_addrs=[recipient])
        except BaseException:
            self.close()
            raise

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.config["SMTP_HOST"], self.config["SMTP_PORT"], timeout=self.config["SMTP_TIMEOUT"])
        try:
            if self.config["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if self.config["SMTP_USERNAME"]:
                smtp.login(self.config["SMTP_USERNAME"], self.config["SMTP_PASSWORD"])
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _sender(job: _Job) -> str:
    with force_locale(job.language):
        return _("Gemeente %(tenant)s", tenant=job.tenant_name)


def compose_email(job: _Job, config: dict[str, Any]) -> EmailMessage:
    """A plain-text UTF-8 message from the municipality (by name) at the platform's address."""
    mail_from = config["MAIL_FROM"]
    message = EmailMessage()
    message["From"] = formataddr((_sender(job), mail_from))
    message["To"] = job.recipient
    message["Subject"] = job.subject
    message["Date"] = format_datetime(now())
    message["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(job.body, charset="utf-8")
    message["Content-Language"] = job.language  # after set_content, which clears the Content-* headers
    return message


def _letter(job: _Job, config: dict[str, Any]) -> str:
    font_dir = Path(config["LETTER_FONT_DIR"]) if config.get("LETTER_FONT_DIR") else None
    pdf = render_letter(sender=_sender(job), recipient=job.recipient, subject=job.subject, body=job.body,
                        at=now(), language=job.language, font_dir=font_dir)
    key = letter_key(job.tenant_slug, job.id)
    storage().put(key, pdf)
    return key


def _deliver(job: _Job, mailer: _Mailer, config: dict[str, Any]) -> str | None:
    """Deliver one message; returns the stored letter's key (``None`` for an e-mail)."""
    if job.channel == "e-mail":
        mailer.send(compose_email(job, config), job.recipient)
        return None
    if job.channel == "brief":
        return _letter(job, config)
    raise PermanentFailure(f"no delivery for channel {job.channel!r}")


def _claim(app: Flask, limit: int) -> list[_Job]:
    """Step 1: take due rows of every municipality and commit them as ``sending``."""
    at = now()
    with (
        database(app).session_scope() as session,
        across_tenants(session, "outbox worker: deliver due notifications"),
    ):
        # One statement, so SQLite takes its write lock at once (a read first could deadlock two workers).
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= at)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = list(session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due), OutboxMessage.status == "pending")
            .values(status="sending", next_attempt_at=at)
            .returning(OutboxMessage.id),
            execution_options={"synchronize_session": False},
        ))
        if not claimed:
            return []
        rows = session.execute(
            select(OutboxMessage, Tenant.slug, Tenant.name)
            .join(Tenant, Tenant.id == OutboxMessage.tenant_id)
            .where(OutboxMessage.id.in_(claimed))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        )
        return [
            _Job(id=m.id, tenant_id=m.tenant_id, tenant_slug=slug, tenant_name=name, channel=m.channel,
                 recipient=m.recipient, subject=m.subject, body=m.body, language=m.language or "nl",
                 attempts=m.attempts)
            for m, slug, name in rows
        ]


def _record(app: Flask, job: _Job, **values: Any) -> None:
    """Step 3, in the row's own municipality (no cross-tenant access needed)."""
    with database(app).session_scope() as session:
        set_tenant(session, job.tenant_id)
        result = session.execute(
            update(OutboxMessage).where(OutboxMessage.id == job.id).values(**values),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount == 0:
            log.warning("outbox message %s disappeared while it was being delivered", job.id,
                        extra={"outbox_message": job.id})


def _release(app: Flask, jobs: list[_Job]) -> None:
    """Claimed rows not yet attempted go back to ``pending`` untouched (the worker is stopping)."""
    with (
        database(app).session_scope() as session,
        across_tenants(session, "outbox worker: release unstarted messages on shutdown"),
    ):
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([job.id for job in jobs]), OutboxMessage.status == "sending")
            .values(status="pending", next_attempt_at=now()),
            execution_options={"synchronize_session": False},
        )


def deliver_due(app: Flask, limit: int = 100, stop: threading.Event | None = None) -> DeliveryReport:
    """Claim up to ``limit`` due messages of all municipalities and deliver each one once.

    When ``stop`` is set meanwhile, the message being delivered is finished and the rest released.
    """
    report = DeliveryReport()
    with app.app_context():
        jobs = _claim(app, limit)
        mailer = _Mailer(app.config)
        try:
            for index, job in enumerate(jobs):
                if stop is not None and stop.is_set():
                    _release(app, jobs[index:])
                    break
                try:
                    document_key = _deliver(job, mailer, app.config)
                except Exception as exc:
                    attempts = job.attempts + 1
                    error = safe_error(exc, job.recipient)
                    at = now()
                    if isinstance(exc, PermanentFailure) or attempts >= MAX_ATTEMPTS:
                        _record(app, job, status="failed", attempts=attempts, last_error=error, next_attempt_at=at)
                        report.failed.append(job.id)
                        log.error("outbox message %s failed for good after %s attempts: %s", job.id, attempts,
                                  error, extra={"outbox_message": job.id, "tenant": job.tenant_slug})
                    else:
                        _record(app, job, status="pending", attempts=attempts, last_error=error,
                                next_attempt_at=at + BACKOFF[attempts - 1])
                        report.retrying.append(job.id)
                        log.warning("outbox message %s not delivered (attempt %s): %s", job.id, attempts, error,
                                    extra={"outbox_message": job.id, "tenant": job.tenant_slug})
                    continue
                _record(app, job, status="sent", attempts=job.attempts + 1, sent_at=now(), last_error=None,
                        document_key=document_key)
                report.sent.append(job.id)
        finally:
            mailer.close()
    return report


def stuck_messages(app: Flask, older_than: timedelta = STUCK_AFTER) -> int:
    """How many rows have been ``sending`` for longer than ``older_than`` (a worker stopped mid-delivery)."""
    with (
        app.app_context(),
        database(app).session_scope() as session,
        across_tenants(session, "outbox worker: count messages stuck in sending"),
    ):
        return session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= now() - older_than)) or 0


def recover_stuck(app: Flask, older_than: timedelta = STUCK_AFTER) -> list[int]:
    """Put rows ``sending`` for longer than ``older_than`` back to ``pending`` (or ``failed`` when out of
    attempts). Their first delivery may have reached the resident, so an operator decides to run this."""
    with app.app_context():
        at = now()
        with (
            database(app).session_scope() as session,
            across_tenants(session, "outbox recovery: messages stuck in sending"),
        ):
            stuck = list(session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= at - older_than)
                .with_for_update(skip_locked=True)
            ))
            for message in stuck:
                message.attempts += 1
                message.status = "failed" if message.attempts >= MAX_ATTEMPTS else "pending"
                message.next_attempt_at = at
                message.last_error = "recovered: the worker stopped while sending; delivery unknown"
            session.flush()
            ids = [message.id for message in stuck]
    if ids:
        log.warning("outbox recovery: %s messages stuck in sending were put back: %s", len(ids), ids,
                    extra={"outbox_messages": ids})
    return ids


def status_counts(app: Flask) -> dict[str, int]:
    """Rows per status, over all municipalities (for operators)."""
    with (
        app.app_context(),
        database(app).session_scope() as session,
        across_tenants(session, "outbox status: counts per status"),
    ):
        rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        return {status: count for status, count in rows}


def run_worker(app: Flask, *, interval: float = 10.0, once: bool = False, say: Callable[[str], None] = print,
               stop: threading.Event | None = None) -> None:
    """Deliver in a loop (a full batch is followed at once by the next), purge every hour.

    ``once`` delivers one round and returns, letting errors through; the loop logs an error and goes on.
    ``stop`` ends the loop from another thread (the demo).
    """
    stop = stop or threading.Event()
    limit = 100
    next_purge = time.monotonic()
    while not stop.is_set():
        full = False
        try:
            report = deliver_due(app, limit=limit, stop=stop)
            if report.claimed:
                say(f"delivered: {report.summary()}")
            full = report.claimed >= limit
            built = build_waiting(app)  # residents' exports (GDPR art. 15), then the files of ended ones
            if built:
                say(f"exports built: {len(built)}")
            with app.app_context():
                ended = expire_exports(app, now())
            if ended:
                say(f"exports ended: {ended} (files removed)")
            if not once and time.monotonic() >= next_purge:
                next_purge = time.monotonic() + PURGE_EVERY_SECONDS
                with app.app_context():
                    say(f"purge: {purge(app, now()).summary()}")
                stuck = stuck_messages(app)
                if stuck:
                    say(f"warning: {stuck} messages stuck in 'sending'; check the mail log, then "
                        "`fygitaal outbox recover`")
        except Exception as exc:
            if once:
                raise
            log.exception("outbox worker round failed")
            say(f"round failed ({type(exc).__name__}); trying again in {interval:g} s")
        if once:
            return
        if not full:
            stop.wait(interval)
