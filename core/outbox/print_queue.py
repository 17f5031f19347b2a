"""The front office's print queue: the letters of a municipality, newest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.models import Case
from core.outbox.models import OutboxMessage

PAGE_SIZE = 50


def print_queue(db: Session, before: int | None = None,
                limit: int = PAGE_SIZE) -> list[tuple[OutboxMessage, str | None]]:
    """The municipality's letters, newest first, with their case reference; ``before`` pages on (keyset)."""
    query = (
        select(OutboxMessage, Case.reference)
        .outerjoin(Case, Case.id == OutboxMessage.case_id)
        .where(OutboxMessage.channel == "brief", OutboxMessage.document_key.is_not(None))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(OutboxMessage.id < before)
    return [(message, reference) for message, reference in db.execute(query)]


def letter_for(db: Session, message_id: int) -> OutboxMessage | None:
    """One letter of the session's municipality (another municipality's id finds nothing)."""
    return db.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.channel == "brief",
                                                 OutboxMessage.document_key.is_not(None)))
