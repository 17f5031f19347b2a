"""Structured logs: one JSON object per line, so operators can search them; no personal data."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Secrets that travel in a path (a follow-up, share or follower link's token) never reach a log line.
_SECRET_IN_PATH = re.compile(r"(/opvolging/(?!dossier/)|/delen/|/volgen/)[A-Za-z0-9_-]{16,}")


def redact(text: str) -> str:
    return _SECRET_IN_PATH.sub(r"\1…", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Send the app's logs to stderr as JSON lines (idempotent)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel("WARNING")
