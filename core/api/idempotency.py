"""``Idempotency-Key`` on API POSTs: a retried request never does its work twice.

Following draft-ietf-httpapi-idempotency-key-header (and Stripe's practice): the key (at most 255
printable characters) is chosen by the client and scoped to that API client and municipality. The
first request inserts (client, key, SHA-256 of method, path and canonical body) in the request's
own transaction before the work starts, so the claim commits together with the work; the answer
(status and body) is stored in a second, short commit. Then, for the same key:

* same request, finished: the stored answer is replayed (same status and body, header
  ``Idempotent-Replayed: true``), failures (4xx) included;
* another method, path or body: 422;
* the first is still running: 409 with ``Retry-After``.

The unique constraint ``(tenant_id, client_id, key)`` decides between concurrent first requests:
the second insert waits for the first transaction and then fails on the constraint, and the loser
answers as a retry would. A refused request (4xx) is rolled back, and its answer stored on its
own. A key is kept for :data:`LIFETIME` (24 hours); an older record
is ignored and replaced, and ``fygitaal purge`` deletes old records: they hold answers, such as a
new case's follow-up link. A request that fails unexpectedly (500) leaves no record, so the same
key can be retried: the claim is rolled back with the work.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, g, make_response, request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from core.api.problems import problem
from core.cases.models import IdempotencyRecord
from core.cases.retention import IDEMPOTENCY_LIFETIME
from core.clock import as_utc, now
from core.db import get_session
from core.tenancy.isolation import set_tenant

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
LIFETIME = IDEMPOTENCY_LIFETIME
MAX_KEY_LENGTH = 255
KEY_PATTERN = r"^[!-~]{1,255}$"
RETRY_AFTER_SECONDS = 1

DOCUMENTATION = (
    "Every POST accepts an `Idempotency-Key` header (1–255 printable ASCII characters, chosen by "
    "the client, e.g. a UUID), scoped to the API client. A retry with the same key and the same "
    "request replays the first answer (same status and body, header `Idempotent-Replayed: true`) "
    "and does nothing again; the same key with another request answers 422; while the first "
    "request is still running a retry answers 409 with `Retry-After`. Keys are kept for 24 hours; "
    "after that the key may be reused."
)


class KeyRefused(ValueError):
    """The header is not a usable idempotency key."""


def parse_key(raw: str) -> str:
    """The key as sent (an opaque value): 1–255 printable ASCII characters, no spaces."""
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not all("!" <= c <= "~" for c in key):
        raise KeyRefused(f"{HEADER} must be 1–{MAX_KEY_LENGTH} printable ASCII characters without spaces, "
                         "e.g. a UUID")
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 of the method, the path and the body (JSON canonicalised: key order and spacing do not count)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    assert record.response_status is not None
    response = make_response(json.dumps(record.response_body), record.response_status)
    response.mimetype = "application/problem+json" if record.response_status >= 400 else "application/json"
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _still_running() -> Response:
    response = problem(409, f"A request with this {HEADER} is still being processed. "
                            "Retry later to get its answer.")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _answer_for(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        return problem(422, f"This {HEADER} was used for another request (method, path or body). "
                            "Use a new key for a new request.")
    if record.response_status is None:
        return _still_running()
    return _replay(record)


def _record(db: Session, client_id: int, key: str) -> IdempotencyRecord | None:
    return db.scalar(select(IdempotencyRecord).where(IdempotencyRecord.client_id == client_id,
                                                     IdempotencyRecord.key == key))


def _claim(db: Session, client_id: int, key: str, request_hash: str, at: datetime) -> IdempotencyRecord | Response:
    """Insert the key in the request's own transaction, or the answer when it is known already.

    The insert holds the unique key until the work commits, so a concurrent first request with the
    same key waits on it, then fails on the constraint and answers as a retry (409 while the
    answer is not stored yet, else the replay).
    """
    found = _record(db, client_id, key)
    if found is not None and as_utc(found.created_at) > at - LIFETIME:
        return _answer_for(found, request_hash)
    if found is not None:  # expired: the key starts afresh
        db.delete(found)
        db.flush()  # before the insert: the unit of work would insert first
    record = IdempotencyRecord(client_id=client_id, key=key, request_hash=request_hash, created_at=at)
    db.add(record)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        set_tenant(db, g.tenant.id)
        other = _record(db, client_id, key)
        return _answer_for(other, request_hash) if other is not None else _still_running()
    return record


def _store_answer(db: Session, record_id: int, response: Response) -> None:
    db.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == record_id)
               .values(response_status=response.status_code, response_body=response.get_json(silent=True)))
    db.commit()


def _store_refusal(db: Session, client_id: int, key: str, request_hash: str, at: datetime,
                   response: Response) -> None:
    """A refused request (4xx) changed nothing; its answer is kept so a retry gets the same refusal."""
    set_tenant(db, g.tenant.id)
    db.add(IdempotencyRecord(client_id=client_id, key=key, request_hash=request_hash, created_at=at,
                             response_status=response.status_code, response_body=response.get_json(silent=True)))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()  # a concurrent request with this key stored its own answer first


def _respond(view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Response:
    """The view's answer; an HTTP error becomes the problem response the error handlers give it."""
    try:
        return make_response(view(*args, **kwargs))
    except HTTPException as error:
        return make_response(current_app.handle_http_exception(error))


def idempotent(view: F) -> F:
    """Honour ``Idempotency-Key`` on a POST view (inside :func:`core.api.oauth.api_scope`)."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        raw = request.headers.get(HEADER)
        if raw is None:
            return view(*args, **kwargs)
        try:
            key = parse_key(raw)
        except KeyRefused as error:
            return problem(400, str(error), errors={HEADER: [str(error)]})
        db, client_id, at = get_session(), g.api_client.id, now()
        request_hash = fingerprint(request.method, request.path, request.get_data(cache=True))
        claimed = _claim(db, client_id, key, request_hash, at)
        if isinstance(claimed, Response):
            return claimed
        record_id = claimed.id
        try:
            response = _respond(view, args, kwargs)
        except Exception:
            db.rollback()  # the claim goes with the work: the same key can be retried
            raise
        if response.status_code >= 400:
            db.rollback()
            _store_refusal(db, client_id, key, request_hash, at, response)
        else:
            db.commit()  # the work and the claim (the views commit already; this is then a no-op)
            _store_answer(db, record_id, response)
        return response

    return guarded  # type: ignore[return-value]

