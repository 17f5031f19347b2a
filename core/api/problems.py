"""Errors for machines as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from werkzeug.http import HTTP_STATUS_CODES

API_PREFIXES = ("/api/", "/oauth/")


def problem(status: int, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": HTTP_STATUS_CODES.get(status, "Error"),
            "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response
