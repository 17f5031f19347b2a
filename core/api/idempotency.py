"""``Idempotency-Key`` on API POSTs: a retried request never does its work twice.

Following draft-ietf-httpapi-idempotency-key-header (and Stripe's practice): the key (at most 255
printable characters) is chosen by the client and scoped to that API client and municipality. The
first request records (client, key, SHA-256 of method, path and canonical body) in its own,
committed transaction *before* the work starts, so a concurrent retry sees it; when the work is
done the status and body are stored with it. Then, for the same key:

* same request, finished: the stored answer is replayed (same status and body, header
  ``Idempotent-Replayed: true``), failures (4xx) included;
* another method, path or body: 422;
* the first is still running: 409 with ``Retry-After``.

The unique constraint ``(tenant_id, client_id, key)`` decides between concurrent first requests;
the loser answers as a retry would. A key is kept for :data:`LIFETIME` (24 hours); an older record
is ignored and replaced, and ``fygitaal purge`` deletes old records: they hold answers, such as a
new case's follow-up link. A request that fails unexpectedly (500) leaves no record, so the same
key can be retried: the views commit as their last step, so such a failure stored nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, g, make_response, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from core.api.problems import problem
from core.cases.models import IdempotencyRecord
from core.cases.retention import IDEMPOTENCY_LIFETIME
from core.clock import as_utc, now
from core.db import database, get_session
from core.tenancy.isolation import set_tenant

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
LIFETIME = IDEMPOTENCY_LIFETIME
MAX_KEY_LENGTH = 255
KEY_PATTERN = r"^[!-~]{1,255}$"
RETRY_AFTER_SECONDS = 1
_LOCK_ATTEMPTS = 100  # SQLite only: a writer busy elsewhere answers "database is locked" at once

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


@contextmanager
def _own_session(tenant_id: int) -> Iterator[Session]:
    """A session apart from the request's, so what it commits is visible to concurrent requests at once."""
    session = database().sessionmaker()
    set_tenant(session, tenant_id)
    try:
        yield session
    finally:
        session.close()


def _locked(error: OperationalError) -> bool:
    return "locked" in str(error.orig).lower() or "busy" in str(error.orig).lower()


def _with_retries(work: Callable[[], Any]) -> Any:
    """Run ``work``; on SQLite a "database is locked" answer means: wait briefly and try again."""
    for attempt in range(_LOCK_ATTEMPTS):
        try:
            return work()
        except OperationalError as error:
            if not _locked(error) or attempt == _LOCK_ATTEMPTS - 1:
                raise
            time.sleep(0.01 + 0.002 * attempt)
    raise AssertionError("unreachable")


def _replay(record: IdempotencyRecord) -> Response:
    assert record.response_status is not None
    response = make_response(json.dumps(record.response_body), record.response_status)
    response.mimetype = "application/problem+json" if record.response_status >= 400 else "application/json"
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _answer_for(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        return problem(422, f"This {HEADER} was used for another request (method, path or body). "
                            "Use a new key for a new request.")
    if record.response_status is None:
        response = problem(409, f"A request with this {HEADER} is still being processed. "
                                "Retry later to get its answer.")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return _replay(record)


def _claim(tenant_id: int, client_id: int, key: str, request_hash: str, at: datetime) -> int | Response:
    """Record the key before the work starts (committed); or the answer when it is known already."""

    def attempt() -> int | Response | None:
        with _own_session(tenant_id) as session:
            found = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.client_id == client_id,
                                                                   IdempotencyRecord.key == key))
            if found is not None and as_utc(found.created_at) > at - LIFETIME:
                return _answer_for(found, request_hash)
            if found is not None:  # expired: the key starts afresh
                session.delete(found)
                session.flush()
            record = IdempotencyRecord(client_id=client_id, key=key, request_hash=request_hash, created_at=at)
            session.add(record)
            try:
                session.commit()
            except IntegrityError:
                return None  # a concurrent request with this key won; read its record
            return record.id

    for _round in range(3):
        outcome = _with_retries(attempt)
        if outcome is not None:
            return outcome
    response = problem(409, f"A request with this {HEADER} is still being processed. Retry later.")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _finish(tenant_id: int, record_id: int, response: Response) -> None:
    def store() -> None:
        with _own_session(tenant_id) as session:
            record = session.get(IdempotencyRecord, record_id)
            if record is not None:
                record.response_status = response.status_code
                record.response_body = response.get_json(silent=True)
                session.commit()

    _with_retries(store)


def _forget(tenant_id: int, record_id: int) -> None:
    def remove() -> None:
        with _own_session(tenant_id) as session:
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
            session.commit()

    _with_retries(remove)


def _end_request_transaction(*, rollback: bool = False) -> None:
    """Close the request session's transaction, so it holds no lock while the record is written."""
    session = get_session()
    if rollback:
        session.rollback()
    else:
        session.commit()


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
        tenant_id, client_id = g.tenant.id, g.api_client.id
        request_hash = fingerprint(request.method, request.path, request.get_data(cache=True))
        _end_request_transaction()
        claimed = _claim(tenant_id, client_id, key, request_hash, now())
        if isinstance(claimed, Response):
            return claimed
        try:
            response = _respond(view, args, kwargs)
        except Exception:
            _end_request_transaction(rollback=True)
            _forget(tenant_id, claimed)
            raise
        _end_request_transaction(rollback=response.status_code >= 400)
        _finish(tenant_id, claimed, response)
        return response

    return guarded  # type: ignore[return-value]

