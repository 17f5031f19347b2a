"""The resident's export pages (GDPR art. 15 copy): request, progress and single-use downloads.

Thin adapters over :mod:`core.profiles.export`. Everything works without JavaScript: the status page
offers a "Vernieuwen" link while the worker builds the export (no timed reload: WCAG 2.2.1).
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from core.clock import as_utc, now
from core.db import get_session
from core.i18n import current_language
from core.identity.access import resident_account, resident_login
from core.profiles.export import (
    BUSY,
    ExportError,
    ExportGone,
    ExportNotFound,
    export_of,
    exports_of,
    fetch_once,
    request_export,
)
from core.security import private_pages
from core.storage import storage

bp = Blueprint("exports", __name__)


private_pages(bp, no_referrer=True)  # every page here is about a person's data


bp.before_request(resident_login)


@bp.route("/mijn/export", methods=["GET", "POST"])
def index() -> Response | tuple[str, int]:
    """The account's exports; a POST asks for a new one and goes to its status page."""
    account = resident_account()
    db = get_session()
    if request.method == "POST":
        try:
            export = request_export(db, account.id, language=current_language(), at=now())
        except ExportError as exc:
            db.rollback()
            return render_template("mijn/export.html", exports=exports_of(db, account.id), error=str(exc)), 409
        db.commit()
        return redirect(url_for("exports.status", export_id=export.id), code=303)
    return render_template("mijn/export.html", exports=exports_of(db, account.id), error=None), 200


@bp.get("/mijn/export/<int:export_id>")
def status(export_id: int) -> Response | tuple[str, int]:
    """Progress while the worker builds it; the two downloads once it is ready."""
    account = resident_account()
    export = export_of(get_session(), account.id, export_id)
    if export is None:
        abort(404)
    expired = export.expires_at is not None and as_utc(export.expires_at) <= now()
    return render_template("mijn/export_status.html", export=export, busy=export.status in BUSY,
                           expired=expired), 200


# A GET that changes state (the fetch mark): acceptable here because each link is single-use by
# design. A browser's download is a plain GET, and the mark is what makes the link work only once.
@bp.get("/mijn/export/<int:export_id>/<fmt>")
def download(export_id: int, fmt: str) -> Response | tuple[str, int]:
    """The file, once, for its owner, within 15 minutes of being ready; then it is deleted."""
    account = resident_account()
    db = get_session()
    try:
        fetched = fetch_once(db, account.id, export_id, fmt, at=now())
    except ExportNotFound:
        abort(404)
    except ExportGone as exc:
        db.rollback()
        return render_template("mijn/export_gone.html", reason=exc.reason, export_id=export_id), 410
    db.commit()
    storage().delete(fetched.key)  # after the commit: a failed commit leaves the file for a retry
    response = Response(fetched.data, mimetype=fetched.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{fetched.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
