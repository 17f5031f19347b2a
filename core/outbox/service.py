"""Writing notifications: in the same transaction as the change they announce."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.outbox.models import OutboxMessage


def enqueue(db: Session, *, channel: str, recipient: str, subject: str, body: str, at: datetime,
            language: str = "nl", case_id: int | None = None) -> OutboxMessage:
    """Queue one message; the worker delivers it after the transaction commits."""
    message = OutboxMessage(channel=channel, recipient=recipient, subject=subject, body=body,
                            language=language, case_id=case_id, status="pending", attempts=0,
                            next_attempt_at=at, created_at=at)
    db.add(message)
    return message
