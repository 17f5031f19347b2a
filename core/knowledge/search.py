"""Finding articles: full text on PostgreSQL, a plain word match on SQLite and for plugin articles.

Two ways to match: ``all`` words (the staff search box: every word counts) and ``any`` word (a
resident's question as suggestion source: long, chatty text where a few words carry the meaning).
The municipality's own and adopted articles come first, ranked by the database; articles that
plugins supply (hook ``fygitaal_knowledge_articles``) follow, ranked by how many words they match.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from flask import current_app
from sqlalchemy import Select, and_, func, literal_column, or_, select
from sqlalchemy.orm import Session

from core.knowledge.models import SEARCH_CONFIG, KnowledgeArticle
from core.tenancy.models import Tenant

log = logging.getLogger("fygitaal.knowledge")

MAX_QUERY = 200
MAX_WORDS = 20  # a long case description is cut to its first distinct meaningful words
MIN_WORD = 3
FALLBACK_LANGUAGE = "nl"
PLUGIN_REF = "plugin:"

# Words too common to mean anything, in the platform's three languages (the database's Dutch
# configuration drops its own; this list serves SQLite and plugin articles).
_STOPWORDS = """
aan als bij dan dat de deze die dit door een en er had heb hebben heeft het hier hoe hun ik in is
ja je kan kunnen me mee met mijn moet na naar niet nog nu of om ons ook op over te tot u uit van
voor waar wat wie wil wij worden wordt ze zich zijn zo zou graag alstublieft dank
les des une est pour que qui dans par sur avec pas mon mes vous nous ils elle aux ces
the and for are was you your our with how what when where can this that have from not
"""
STOPWORDS = frozenset(_STOPWORDS.split())

Match = Literal["all", "any"]


@dataclass(frozen=True)
class ArticleSuggestion:
    """An article as staff read it, in one language (falling back to Dutch).

    ``ref`` names it for links (``?artikel=<ref>``): the id of a municipal article, or
    ``plugin:<name>:<key>`` for one a plugin supplies. ``source`` says where it comes from:
    ``gemeente`` (own), ``regio`` (adopted from the region) or the plugin's name.
    """

    ref: str
    question: str
    answer: str
    topics: tuple[str, ...]
    source: str


def in_language(texts: dict[str, str], language: str) -> str:
    """The text in ``language``, else in Dutch (the language every article must have)."""
    return (texts or {}).get(language) or (texts or {}).get(FALLBACK_LANGUAGE, "")


def search_text(question: dict[str, str], answer: dict[str, str], topics: Iterable[str]) -> str:
    """What the search looks in: every language's question and answer and the topics, lower-cased."""
    parts = [*question.values(), *answer.values(), *topics]
    return "\n".join(part for part in parts if part).casefold()


def words_of(text: str) -> list[str]:
    """The distinct meaningful words of a text, in order, lower-cased."""
    seen: dict[str, None] = {}
    for word in re.findall(r"[^\W_]+", text.casefold()):
        if len(word) >= MIN_WORD and word not in STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)[:MAX_WORDS]


def find(db: Session, tenant: Tenant, text: str, language: str, *, match: Match = "all",
         limit: int = 20) -> list[ArticleSuggestion]:
    """Articles for ``text``: the municipality's own and adopted ones first, then plugin ones."""
    words = words_of(text)
    if not words:
        return []
    if db.get_bind().dialect.name == "postgresql":
        articles = list(db.scalars(_postgresql_query(text, words, match).limit(limit)))
    else:
        articles = _plain_match(db, words, match)[:limit]
    found = [_suggestion(article, language) for article in articles]
    return (found + _plugin_matches(tenant, words, language, match))[:limit]


def find_by_ref(db: Session, tenant: Tenant, ref: str, language: str) -> ArticleSuggestion | None:
    """The article a link names, if this municipality has it (another's id answers ``None``)."""
    if ref.startswith(PLUGIN_REF):
        return next((s for s in plugin_articles(tenant, language) if s.ref == ref), None)
    if not ref.isascii() or not ref.isdigit() or len(ref) > 9:  # not an id the database could hold
        return None
    article = db.scalars(select(KnowledgeArticle).where(KnowledgeArticle.id == int(ref))).one_or_none()
    return None if article is None else _suggestion(article, language)


def plugin_articles(tenant: Tenant, language: str) -> list[ArticleSuggestion]:
    """Every article the municipality's enabled plugins supply; a failing plugin is logged and skipped."""
    hooks = current_app.extensions["fygitaal.plugins"].hooks_for(tenant)
    found = []
    for impl in hooks.fygitaal_knowledge_articles.get_hookimpls():
        try:
            supplied = impl.function(tenant=tenant) or []
            found.extend(_plugin_suggestion(impl.plugin_name, raw, language) for raw in supplied)
        except Exception:  # a plugin's bug must not take the desk's search down
            log.exception("plugin %s: fygitaal_knowledge_articles failed", impl.plugin_name)
    return found


def _suggestion(article: KnowledgeArticle, language: str) -> ArticleSuggestion:
    return ArticleSuggestion(
        ref=str(article.id), question=in_language(article.question, language),
        answer=in_language(article.answer, language), topics=tuple(article.topics or ()),
        source="regio" if article.source_id is not None else "gemeente",
    )


def _plugin_suggestion(plugin: str, raw: dict[str, Any], language: str) -> ArticleSuggestion:
    if not in_language(raw["question"], language) or not in_language(raw["answer"], language):
        raise ValueError("an article needs a question and an answer in Dutch")
    return ArticleSuggestion(
        ref=f"{PLUGIN_REF}{plugin}:{raw['key']}", question=in_language(raw["question"], language),
        answer=in_language(raw["answer"], language), topics=tuple(raw.get("topics") or ()), source=plugin,
    )


def _postgresql_query(text: str, words: list[str], match: Match) -> Select[tuple[KnowledgeArticle]]:
    """Ranked full text over the GIN index's exact expression (``to_tsvector('dutch', search_text)``)."""
    config = literal_column(f"'{SEARCH_CONFIG}'")
    document = func.to_tsvector(config, KnowledgeArticle.search_text)
    # The words are letters and digits only, so joining them with | makes a safe tsquery.
    query = func.websearch_to_tsquery(config, text) if match == "all" else func.to_tsquery(config, " | ".join(words))
    return (select(KnowledgeArticle).where(document.bool_op("@@")(query))
            .order_by(func.ts_rank(document, query).desc(), KnowledgeArticle.id))


def _plain_match(db: Session, words: list[str], match: Match) -> list[KnowledgeArticle]:
    """SQLite: articles containing the words (case-insensitive), most words first."""
    conditions = [KnowledgeArticle.search_text.contains(word) for word in words]
    combined = and_(*conditions) if match == "all" else or_(*conditions)
    articles = db.scalars(select(KnowledgeArticle).where(combined).order_by(KnowledgeArticle.id)).all()
    return sorted(articles, key=lambda article: -_score(article.search_text, words))


def _plugin_matches(tenant: Tenant, words: list[str], language: str, match: Match) -> list[ArticleSuggestion]:
    scored = []
    for suggestion in plugin_articles(tenant, language):
        score = _score(search_text({"t": suggestion.question}, {"t": suggestion.answer}, suggestion.topics), words)
        if score and (match == "any" or score == len(words)):
            scored.append((score, suggestion))
    return [suggestion for _score_, suggestion in sorted(scored, key=lambda pair: -pair[0])]


def _score(text: str, words: list[str]) -> int:
    return sum(1 for word in words if word in text)
