"""The knowledge base's pages: the municipal admin's articles (``/<gemeente>/beheer/kennisbank``),
the region's articles (``/regio/kennisbank``) and the desk's search (``/<gemeente>/balie/kennisbank``).

Thin adapters over :mod:`core.knowledge.service` and :mod:`core.knowledge.search`. A municipality's
article id of another municipality, or a regional article of another region, answers 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from core import clock
from core.db import get_session
from core.i18n import current_language
from core.identity.access import current_principal, requires
from core.knowledge import search, service
from core.knowledge.models import RegionalArticle
from core.tenancy.models import Region

admin_bp = Blueprint("knowledge_admin", __name__, url_prefix="/<tenant>/beheer/kennisbank")
region_bp = Blueprint("knowledge_region", __name__, url_prefix="/regio/kennisbank")
search_bp = Blueprint("knowledge", __name__, url_prefix="/<tenant>/balie/kennisbank")


def _render_article(*, action: str, title: str, form: Mapping[str, str], errors: Mapping[str, list[str]] | None = None,
                    status: int = 200, **context: Any) -> tuple[str, int]:
    page = render_template("kennisbank/artikel.html", action=action, title=title, form=form, errors=errors or {},
                           languages=service.LANGUAGES, max_question=service.MAX_QUESTION,
                           max_answer=service.MAX_ANSWER, **context)
    return page, status


def _form_of(content: service.ArticleContent) -> dict[str, str]:
    """An article's content as the form's fields."""
    fields = {f"question_{lang}": text for lang, text in content.question.items()}
    fields.update({f"answer_{lang}": text for lang, text in content.answer.items()})
    fields["topics"] = ", ".join(content.topics)
    return fields


# --- The municipality's articles ------------------------------------------------------------


@admin_bp.get("/")
@requires("beheer")
def admin_index() -> str:
    db = get_session()
    return render_template("kennisbank/beheer.html", articles=service.municipal_articles(db, g.tenant),
                           adoptable=service.adoptable(db, g.tenant), language=current_language(),
                           in_language=search.in_language)


@admin_bp.route("/nieuw", methods=["GET", "POST"])
@requires("beheer")
def admin_new() -> Response | tuple[str, int]:
    title, action = _("Nieuw artikel"), url_for("knowledge_admin.admin_new")
    if request.method == "GET":
        return _render_article(action=action, title=title, form={})
    db = get_session()
    try:
        service.create_article(db, service.content_from_form(request.form), clock.now())
    except service.InvalidArticle as error:
        return _render_article(action=action, title=title, form=request.form, errors=error.errors, status=400)
    db.commit()
    flash(_("Het artikel is bewaard."))
    return redirect(url_for("knowledge_admin.admin_index"), code=303)


def _municipal_or_404(article_id: int) -> service.MunicipalArticle:
    entry = service.municipal_article(get_session(), article_id)
    if entry is None:
        abort(404)
    return entry


@admin_bp.route("/<int:article_id>", methods=["GET", "POST"])
@requires("beheer")
def admin_edit(article_id: int) -> Response | tuple[str, int]:
    entry = _municipal_or_404(article_id)
    context = {"action": url_for("knowledge_admin.admin_edit", article_id=article_id), "title": _("Artikel bewerken"),
               "entry": entry, "language": current_language(), "in_language": search.in_language}
    if request.method == "GET":
        return _render_article(form=_form_of(service.content_of(entry.article)), **context)
    try:
        service.update_article(entry.article, service.content_from_form(request.form), clock.now())
    except service.InvalidArticle as error:
        return _render_article(form=request.form, errors=error.errors, status=400, **context)
    get_session().commit()
    flash(_("Het artikel is bewaard."))
    return redirect(url_for("knowledge_admin.admin_index"), code=303)


@admin_bp.post("/regio/<int:regional_id>/overnemen")
@requires("beheer")
def adopt(regional_id: int) -> Response:
    db = get_session()
    if service.adopt(db, g.tenant, regional_id, clock.now()) is None:
        abort(404)
    db.commit()
    flash(_("Het regionale artikel is overgenomen; u kunt het nu aanpassen."))
    return redirect(url_for("knowledge_admin.admin_index"), code=303)


@admin_bp.post("/<int:article_id>/bron-overnemen")
@requires("beheer")
def take_over_source(article_id: int) -> Response:
    entry = _municipal_or_404(article_id)
    if entry.source is None:
        abort(404)
    service.take_over_source(entry, clock.now())
    get_session().commit()
    flash(_("De nieuwe tekst van de regio is overgenomen."))
    return redirect(url_for("knowledge_admin.admin_index"), code=303)


@admin_bp.post("/<int:article_id>/eigen-versie")
@requires("beheer")
def keep_own_version(article_id: int) -> Response:
    entry = _municipal_or_404(article_id)
    if entry.source is None:
        abort(404)
    service.keep_own_version(entry)
    get_session().commit()
    flash(_("Uw eigen tekst blijft; de wijziging van de regio is als gezien genoteerd."))
    return redirect(url_for("knowledge_admin.admin_index"), code=303)


# --- The region's articles ------------------------------------------------------------------


def _regions() -> list[Region]:
    """The regions the coordinator steers (an operator: all)."""
    principal = current_principal()
    regions = select(Region).order_by(Region.name)
    if not principal.is_operator:
        regions = regions.where(Region.id.in_(sorted(principal.region_ids)))
    return list(get_session().scalars(regions))


def _regional_or_404(regional_id: int) -> RegionalArticle:
    article = get_session().get(RegionalArticle, regional_id)
    if article is None or article.region_id not in {region.id for region in _regions()}:
        abort(404)
    return article


@region_bp.get("/")
@requires("regio")
def region_index() -> str:
    db = get_session()
    regions = _regions()
    articles = {region.id: service.regional_articles(db, region.id) for region in regions}
    return render_template("kennisbank/regio.html", regions=regions, articles=articles,
                           language=current_language(), in_language=search.in_language)


@region_bp.route("/nieuw", methods=["GET", "POST"])
@requires("regio")
def region_new() -> Response | tuple[str, int]:
    regions = _regions()
    context = {"action": url_for("knowledge_region.region_new"), "title": _("Nieuw regionaal artikel"),
               "regions": regions}
    if request.method == "GET":
        return _render_article(form={}, **context)
    db = get_session()
    chosen = request.form.get("region", "")
    region = next((r for r in regions if str(r.id) == chosen), regions[0] if len(regions) == 1 else None)
    try:
        if region is None:
            raise service.InvalidArticle({"region": [_("Kies de regio van het artikel.")]})
        key = service.key_from_form(db, region.id, request.form)
        service.create_regional(db, region.id, key, service.content_from_form(request.form), clock.now())
    except service.InvalidArticle as error:
        return _render_article(form=request.form, errors=error.errors, status=400, **context)
    db.commit()
    flash(_("Het regionale artikel is bewaard."))
    return redirect(url_for("knowledge_region.region_index"), code=303)


@region_bp.route("/<int:regional_id>", methods=["GET", "POST"])
@requires("regio")
def region_edit(regional_id: int) -> Response | tuple[str, int]:
    article = _regional_or_404(regional_id)
    context = {"action": url_for("knowledge_region.region_edit", regional_id=regional_id),
               "title": _("Regionaal artikel bewerken"), "regional": article}
    if request.method == "GET":
        return _render_article(form=_form_of(service.content_of(article)), **context)
    try:
        changed = service.update_regional(article, service.content_from_form(request.form), clock.now())
    except service.InvalidArticle as error:
        return _render_article(form=request.form, errors=error.errors, status=400, **context)
    get_session().commit()
    flash(_("Het artikel is bewaard; de gemeenten die het overnamen zien dat de bron wijzigde.") if changed
          else _("Er was niets gewijzigd."))
    return redirect(url_for("knowledge_region.region_index"), code=303)


# --- The desk's search ----------------------------------------------------------------------


@search_bp.get("/")
@requires("balie")
def find() -> tuple[str, int]:
    query = request.args.get("q", "").strip()
    if len(query) > search.MAX_QUERY:
        error = _("Een zoekopdracht mag hoogstens %(max)d tekens lang zijn.", max=search.MAX_QUERY)
        return render_template("kennisbank/zoeken.html", query=query[:search.MAX_QUERY], results=None,
                               error=error), 400
    results = search.find(get_session(), g.tenant, query, current_language()) if query else None
    return render_template("kennisbank/zoeken.html", query=query, results=results, error=None), 200
