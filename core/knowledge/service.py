"""The knowledge base's rules: writing articles, adopting regional ones, following their changes.

A regional article's ``version`` goes up on every change of its content. A municipality that
adopted it sees the change while ``source_version`` lags behind, and then either takes over the
new text or keeps its own version (both record the new ``source_version``, so the notice goes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.knowledge.models import KnowledgeArticle, RegionalArticle
from core.knowledge.search import ArticleSuggestion, find, search_text
from core.tenancy.models import Tenant

LANGUAGES = ("nl", "fr", "en")
MAX_QUESTION = 300
MAX_ANSWER = 5000
MAX_TOPICS = 10
MAX_TOPIC = 40
MAX_KEY = 80


def suggest_for(db: Session, tenant: Tenant, text: str, language: str, limit: int = 3) -> list[ArticleSuggestion]:
    """Articles that may answer ``text`` (a resident's question): any meaningful word counts."""
    return find(db, tenant, text, language, match="any", limit=limit)


@dataclass(frozen=True)
class ArticleContent:
    """What an article says: question and answer per language (Dutch required), topics."""

    question: dict[str, str]
    answer: dict[str, str]
    topics: tuple[str, ...]


class InvalidArticle(ValueError):
    """The form's content breaks the rules; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def content_from_form(form: dict[str, str]) -> ArticleContent:
    """Check a form's ``question_<lang>``, ``answer_<lang>`` and ``topics`` fields."""
    errors: dict[str, list[str]] = {}
    question, answer = {}, {}
    for language in LANGUAGES:
        for field, texts, maximum in (("question", question, MAX_QUESTION), ("answer", answer, MAX_ANSWER)):
            value = (form.get(f"{field}_{language}") or "").strip()
            if len(value) > maximum:
                errors[f"{field}_{language}"] = [_("Maximaal %(max)d tekens.", max=maximum)]
            elif value:
                texts[language] = value
    if "question_nl" not in errors and "nl" not in question:
        errors["question_nl"] = [_("Vul de vraag in het Nederlands in.")]
    if "answer_nl" not in errors and "nl" not in answer:
        errors["answer_nl"] = [_("Vul het antwoord in het Nederlands in.")]
    topics = tuple(dict.fromkeys(t.strip().casefold() for t in (form.get("topics") or "").split(",") if t.strip()))
    if len(topics) > MAX_TOPICS or any(len(topic) > MAX_TOPIC for topic in topics):
        errors["topics"] = [_("Maximaal %(count)d onderwerpen van elk hoogstens %(max)d tekens.",
                              count=MAX_TOPICS, max=MAX_TOPIC)]
    if errors:
        raise InvalidArticle(errors)
    return ArticleContent(question=question, answer=answer, topics=topics)


def content_of(article: KnowledgeArticle | RegionalArticle) -> ArticleContent:
    return ArticleContent(question=dict(article.question), answer=dict(article.answer),
                          topics=tuple(article.topics or ()))


# --- A municipality's articles -----------------------------------------------------------------


@dataclass(frozen=True)
class MunicipalArticle:
    """An article in the admin's list, with its regional source when it was adopted."""

    article: KnowledgeArticle
    source: RegionalArticle | None

    @property
    def source_changed(self) -> bool:
        """The region changed the text since the municipality took it over or last checked."""
        return self.source is not None and self.source.version > (self.article.source_version or 0)


def municipal_articles(db: Session, tenant: Tenant) -> list[MunicipalArticle]:
    """The municipality's own and adopted articles with their sources, in one query."""
    rows = db.execute(
        select(KnowledgeArticle, RegionalArticle)
        .outerjoin(RegionalArticle, RegionalArticle.id == KnowledgeArticle.source_id)
        .order_by(KnowledgeArticle.id)
    ).all()
    return [MunicipalArticle(article, source) for article, source in rows]


def municipal_article(db: Session, article_id: int) -> MunicipalArticle | None:
    """One of the session's municipality's articles (another municipality's id answers ``None``)."""
    row = db.execute(
        select(KnowledgeArticle, RegionalArticle)
        .outerjoin(RegionalArticle, RegionalArticle.id == KnowledgeArticle.source_id)
        .where(KnowledgeArticle.id == article_id)
    ).one_or_none()
    return None if row is None else MunicipalArticle(*row)


def adoptable(db: Session, tenant: Tenant) -> list[RegionalArticle]:
    """The region's articles this municipality has not adopted yet."""
    adopted = select(KnowledgeArticle.source_id).where(KnowledgeArticle.source_id.is_not(None))
    return list(db.scalars(
        select(RegionalArticle)
        .where(RegionalArticle.region_id == tenant.region_id, RegionalArticle.id.not_in(adopted))
        .order_by(RegionalArticle.key)
    ))


def _write(article: KnowledgeArticle, content: ArticleContent, now: datetime) -> None:
    article.question, article.answer, article.topics = content.question, content.answer, list(content.topics)
    article.search_text = search_text(content.question, content.answer, content.topics)
    article.updated_at = now


def create_article(db: Session, content: ArticleContent, now: datetime) -> KnowledgeArticle:
    """A municipality's own article (the session's tenant owns it)."""
    article = KnowledgeArticle(created_at=now)
    _write(article, content, now)
    db.add(article)
    db.flush()
    return article


def update_article(article: KnowledgeArticle, content: ArticleContent, now: datetime) -> None:
    """Adapt an article; an adopted one keeps its link to the regional source."""
    _write(article, content, now)


def adopt(db: Session, tenant: Tenant, regional_id: int, now: datetime) -> KnowledgeArticle | None:
    """Copy a regional article of the municipality's own region, keeping the link; ``None`` if it
    is not in that region. Adopting twice returns the article adopted before."""
    source = db.scalars(select(RegionalArticle).where(
        RegionalArticle.id == regional_id, RegionalArticle.region_id == tenant.region_id)).one_or_none()
    if source is None:
        return None
    existing = db.scalars(select(KnowledgeArticle).where(KnowledgeArticle.source_id == source.id)).one_or_none()
    if existing is not None:
        return existing
    article = KnowledgeArticle(created_at=now, source_id=source.id, source_version=source.version)
    _write(article, content_of(source), now)
    db.add(article)
    db.flush()
    return article


def take_over_source(entry: MunicipalArticle, now: datetime) -> None:
    """Replace the local text with the source's current text and record its version."""
    if entry.source is None:
        raise ValueError("only an adopted article has a source to take over")
    _write(entry.article, content_of(entry.source), now)
    entry.article.source_version = entry.source.version


def keep_own_version(entry: MunicipalArticle) -> None:
    """Keep the local text, but note that the source's current version has been seen."""
    if entry.source is None:
        raise ValueError("only an adopted article has a source to check")
    entry.article.source_version = entry.source.version


# --- The region's articles ----------------------------------------------------------------------


def regional_articles(db: Session, region_id: int) -> list[RegionalArticle]:
    return list(db.scalars(select(RegionalArticle).where(RegionalArticle.region_id == region_id)
                           .order_by(RegionalArticle.key)))


def key_from_form(db: Session, region_id: int, form: dict[str, str]) -> str:
    """A new regional article's key: short, lower-case letters, digits and dashes, unique in the region."""
    key = (form.get("key") or "").strip().casefold()
    if not key or len(key) > MAX_KEY or not all(c.isalnum() or c == "-" for c in key) or not key.isascii():
        raise InvalidArticle({"key": [_("Een sleutel van hoogstens %(max)d tekens: kleine letters, "
                                        "cijfers en koppeltekens.", max=MAX_KEY)]})
    if db.scalars(select(RegionalArticle.id).where(RegionalArticle.region_id == region_id,
                                                   RegionalArticle.key == key)).first() is not None:
        raise InvalidArticle({"key": [_("Deze sleutel bestaat al in de regio.")]})
    return key


def create_regional(db: Session, region_id: int, key: str, content: ArticleContent, now: datetime) -> RegionalArticle:
    article = RegionalArticle(region_id=region_id, key=key, question=content.question, answer=content.answer,
                              topics=list(content.topics), version=1, created_at=now, updated_at=now)
    db.add(article)
    db.flush()
    return article


def update_regional(article: RegionalArticle, content: ArticleContent, now: datetime) -> bool:
    """Change a regional article; its version goes up only when the content really changed."""
    if content == content_of(article):
        return False
    article.question, article.answer, article.topics = content.question, content.answer, list(content.topics)
    article.version += 1
    article.updated_at = now
    return True
