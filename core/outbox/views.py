"""The front office's print queue (``/<gemeente>/balie/afdrukken``): letters for residents who want paper."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from werkzeug.wrappers import Response

from core.db import get_session
from core.identity.access import requires
from core.outbox.print_queue import PAGE_SIZE, letter_for, print_queue
from core.storage import storage

bp = Blueprint("afdrukken", __name__, url_prefix="/<tenant>/balie/afdrukken")


@bp.get("")
@requires("balie")
def queue() -> str:
    """The municipality's letters, newest first, ``PAGE_SIZE`` a page (``?na=<id>`` pages on)."""
    after = request.args.get("na", type=int)
    rows = print_queue(get_session(), before=after)
    next_after = rows[-1][0].id if len(rows) == PAGE_SIZE else None
    return render_template("afdrukken/queue.html", rows=rows, after=after, next_after=next_after)


@bp.get("/<int:message_id>.pdf")
@requires("balie")
def download(message_id: int) -> Response:
    """One letter as a PDF download; another municipality's letter does not exist here (404)."""
    letter = letter_for(get_session(), message_id)
    if letter is None or letter.document_key is None:
        abort(404)
    try:
        data = storage().get(letter.document_key)
    except FileNotFoundError:
        abort(404)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="brief-{letter.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
