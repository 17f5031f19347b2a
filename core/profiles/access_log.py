"""The access log: who opened a profile or viewed a share, when, why and what was shown.

Rows are chained per municipality: each row's hash covers its content and the previous row's
hash, keyed with a secret derived from the instance secret, so someone who can only write to
the database cannot rewrite the chain to hide a change. The head row (locked while appending)
remembers the last sequence number and hash, so a deleted tail is found too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import as_utc
from core.profiles.models import AccessLogEntry, AccessLogHead

GENESIS = "0" * 64
ACTOR_KINDS = ("medewerker", "deellink")


def _key(instance_secret: str) -> bytes:
    return hmac.new(instance_secret.encode(), b"fygitaal:access-log", hashlib.sha256).digest()


def _timestamp(value: datetime) -> str:
    """One text form on every database (SQLite hands back naive UTC, PostgreSQL aware)."""
    return as_utc(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def entry_hash(instance_secret: str, tenant_id: int, entry: AccessLogEntry, prev_hash: str) -> str:
    content = json.dumps({
        "tenant": tenant_id, "seq": entry.seq, "profile": entry.profile_id, "actor_kind": entry.actor_kind,
        "actor": entry.actor_label, "reason": entry.reason, "shown": entry.shown,
        "share": entry.share_id, "at": _timestamp(entry.created_at), "prev": prev_hash,
    }, sort_keys=True, ensure_ascii=False)
    return hmac.new(_key(instance_secret), content.encode(), hashlib.sha256).hexdigest()


def _locked_head(db: Session) -> AccessLogHead:
    for _attempt in range(3):
        head = db.scalar(select(AccessLogHead).with_for_update())
        if head is not None:
            return head
        try:
            with db.begin_nested():
                db.add(AccessLogHead(last_seq=0, last_hash=GENESIS))
        except IntegrityError:
            continue  # another request started the chain first; lock theirs
    raise RuntimeError("could not lock the access log")


def record_access(db: Session, *, instance_secret: str, tenant_id: int, profile_id: int, actor_kind: str,
                  actor_label: str, reason: str, shown: list[str], at: datetime,
                  share_id: int | None = None) -> AccessLogEntry:
    """Append one row to the current municipality's chain (the caller commits)."""
    if actor_kind not in ACTOR_KINDS:
        raise ValueError(f"unknown actor kind {actor_kind!r}")
    if not reason.strip():
        raise ValueError("an access needs a reason")
    head = _locked_head(db)
    entry = AccessLogEntry(seq=head.last_seq + 1, profile_id=profile_id, actor_kind=actor_kind,
                           actor_label=actor_label[:300], reason=reason[:300], shown=list(shown),
                           share_id=share_id, created_at=at, prev_hash=head.last_hash)
    entry.entry_hash = entry_hash(instance_secret, tenant_id, entry, head.last_hash)
    db.add(entry)
    head.last_seq, head.last_hash = entry.seq, entry.entry_hash
    db.flush()
    return entry


def entries_for_profile(db: Session, profile_id: int, limit: int | None = 200) -> list[AccessLogEntry]:
    """The newest rows about one profile, for the resident (and, with ``limit=None``, all for the export)."""
    return list(db.scalars(select(AccessLogEntry).where(AccessLogEntry.profile_id == profile_id)
                           .order_by(AccessLogEntry.id.desc()).limit(limit)))


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str


def verify_chain(db: Session, *, instance_secret: str, tenant_id: int, batch: int = 1000) -> list[ChainProblem]:
    """Walk the current municipality's chain and report every changed, missing or cut-off row."""
    problems: list[ChainProblem] = []
    expected_seq, prev = 1, GENESIS
    last_seen = 0
    while True:
        rows = list(db.scalars(select(AccessLogEntry).where(AccessLogEntry.seq >= expected_seq)
                               .order_by(AccessLogEntry.seq).limit(batch)))
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                problems.append(ChainProblem(expected_seq, f"rows {expected_seq}–{entry.seq - 1} are missing"))
            elif entry.prev_hash != prev:
                problems.append(ChainProblem(entry.seq, "does not follow the row before it"))
            if entry_hash(instance_secret, tenant_id, entry, entry.prev_hash) != entry.entry_hash:
                problems.append(ChainProblem(entry.seq, "was changed after it was written"))
            expected_seq, prev, last_seen = entry.seq + 1, entry.entry_hash, entry.seq
    head = db.scalar(select(AccessLogHead))
    if head is None and last_seen:  # deleting the head with the tail would otherwise hide the cut
        problems.append(ChainProblem(last_seen + 1, f"the head row is missing: rows after {last_seen} "
                                                    "may have been deleted"))
    elif head is not None and (head.last_seq != last_seen or head.last_hash != prev):
        problems.append(ChainProblem(last_seen + 1, f"rows after {last_seen} are missing "
                                                    f"(the chain ended at {head.last_seq})"))
    return problems
