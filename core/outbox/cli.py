"""``fygitaal worker``, ``fygitaal purge`` and ``fygitaal outbox …``: thin adapters over delivery and retention."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from core.cases.retention import purge
from core.clock import now
from core.outbox import worker


def _say(message: str) -> None:
    click.echo(f"{now().astimezone().strftime('%Y-%m-%d %H:%M:%S')}  {message}")


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due once, then stop.")
@click.option("--interval", default=10.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between rounds when nothing was due.")
@with_appcontext
def worker_command(once: bool, interval: float) -> None:
    """Deliver the outbox (e-mail over SMTP, letters to the print queue); purge expired data each hour.

    Ctrl-C or SIGTERM lets the message being delivered finish and puts the rest of the round back.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()

    def stop_gently(_signum: int, _frame: Any) -> None:
        _say("stopping after the message being delivered …")
        stop.set()

    previous = {signum: signal.signal(signum, stop_gently) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        if not once:
            _say(f"worker started: SMTP {app.config['SMTP_HOST']}:{app.config['SMTP_PORT']}, every {interval:g} s; "
                 "Ctrl-C stops")
        worker.run_worker(app, interval=interval, once=once, say=_say, stop=stop)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    _say("done" if once else "worker stopped")


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Close and purge questions past their term; anonymise reports closed long ago (idempotent)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    report = purge(app, now())
    for slug in report.tenants():
        click.echo(f"{slug}: {report.line(slug)}")
    click.echo(f"purge done: {report.summary()}")


@click.group("outbox")
def outbox_group() -> None:
    """The notifications waiting for, or done with, delivery."""


@outbox_group.command("status")
@with_appcontext
def outbox_status() -> None:
    """How many messages are pending, sending, sent and failed (all municipalities)."""
    counts = worker.status_counts(current_app._get_current_object())  # type: ignore[attr-defined]
    for status in ("pending", "sending", "sent", "failed"):
        click.echo(f"{status:<8} {counts.get(status, 0)}")


@outbox_group.command("recover")
@click.option("--minutes", default=15, show_default=True, type=click.IntRange(min=15),
              help="Only messages sending for longer than this.")
@with_appcontext
def outbox_recover(minutes: int) -> None:
    """Put messages stuck in 'sending' (a worker stopped mid-delivery) back in the queue.

    Whether those reached the resident is unknown: check the mail server's log first, since a
    recovered e-mail may arrive twice.
    """
    ids = worker.recover_stuck(current_app._get_current_object(), timedelta(minutes=minutes))  # type: ignore[attr-defined]
    if not ids:
        click.echo("no messages stuck in sending")
        return
    click.echo(f"{len(ids)} messages back in the queue: {', '.join(map(str, ids))}")
