"""The knowledge base: a municipality adopts a regional article and sees when the region changes it;
the desk searches own, adopted and plugin articles; a question is answered from an article; and
nothing crosses a municipality or a region."""

import html
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core.cases.intake import IntakeRequest, submit_case
from core.identity.staff import grant_coordinator, grant_role
from core.knowledge.demo_data import REGIONAL_ARTICLES, REVISED_KEY, seed_demo_knowledge
from core.knowledge.models import KnowledgeArticle, RegionalArticle
from core.knowledge.service import ArticleContent, adopt, create_article, create_regional, suggest_for
from core.plugins.manifest import Manifest
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Region
from core.testing.fixtures import login_as
from core.toolkit import hookimpl

AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
PARKING = ArticleContent(
    question={"nl": "Hoe vraag ik een bewonerskaart aan?", "fr": "Comment demander une carte de riverain ?"},
    answer={"nl": "U vraagt de bewonerskaart aan via het e-loket met het inschrijvingsbewijs van uw wagen.",
            "fr": "Demandez la carte de riverain via le guichet en ligne avec le certificat d'immatriculation."},
    topics=("parkeren",),
)


@pytest.fixture
def kb(app, db_session, client, oidc_provider, tenant, other_tenant, clock):
    """Municipalities A and B in the test region, with their staff, and a coordinator of that region."""
    clock.at = AT
    for who, role in (("a-beheerder", "beheerder"), ("a-onthaal", "onthaal")):
        set_tenant(db_session, tenant.id)
        grant_role(db_session, oidc_provider, who, role)
    set_tenant(db_session, other_tenant.id)
    grant_role(db_session, oidc_provider, "b-beheerder", "beheerder")
    set_tenant(db_session, None)
    grant_coordinator(db_session, tenant.region, oidc_provider, "coordinator")
    db_session.flush()
    return tenant


def browser(app, oidc_provider, subject, tenant=None):
    """A browser of its own, logged in (several people take turns in one test)."""
    app.extensions["fygitaal.limiter"].reset()  # one test logs in several people from one address
    client = app.test_client()
    assert login_as(client, oidc_provider, subject, tenant=tenant.slug if tenant else None).status_code == 302
    return client


def token(client, path):
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def form_of(content, **extra):
    fields = {f"question_{lang}": text for lang, text in content.question.items()}
    fields.update({f"answer_{lang}": text for lang, text in content.answer.items()})
    return {"topics": ", ".join(content.topics), **fields, **extra}


def regional(db_session, region_id, key="bewonerskaart", content=PARKING):
    set_tenant(db_session, None)
    article = create_regional(db_session, region_id, key, content, AT)
    db_session.flush()
    return article


def own(db_session, tenant, content=PARKING):
    set_tenant(db_session, tenant.id)
    article = create_article(db_session, content, AT)
    db_session.flush()
    return article


def articles_of(db_session, tenant):
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    return list(db_session.scalars(select(KnowledgeArticle).order_by(KnowledgeArticle.id)))


def test_a_municipality_adopts_a_regional_article_and_sees_when_the_region_changes_it(
        app, db_session, oidc_provider, kb, clock):
    coordinator = browser(app, oidc_provider, "coordinator")
    created = coordinator.post("/regio/kennisbank/nieuw", data=form_of(
        PARKING, key="bewonerskaart", csrf_token=token(coordinator, "/regio/kennisbank/")))
    assert created.status_code == 303
    source = db_session.scalars(select(RegionalArticle).where(RegionalArticle.key == "bewonerskaart")).one()
    assert source.version == 1

    admin = browser(app, oidc_provider, "a-beheerder", kb)
    listing = f"/{kb.slug}/beheer/kennisbank/"
    assert "Hoe vraag ik een bewonerskaart aan?" in admin.get(listing).text  # offered for adoption
    adopted = admin.post(f"{listing}regio/{source.id}/overnemen", data={"csrf_token": token(admin, listing)})
    assert adopted.status_code == 303
    [article] = articles_of(db_session, kb)
    assert (article.source_id, article.source_version, article.answer) == (source.id, 1, PARKING.answer)
    article_id = article.id
    assert "De bron is gewijzigd" not in admin.get(listing).text

    clock.at = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)  # months later: everyone logs in anew
    coordinator, admin = browser(app, oidc_provider, "coordinator"), browser(app, oidc_provider, "a-beheerder", kb)
    new_answer = "Vraag de bewonerskaart aan via het e-loket; ze is nu digitaal en gekoppeld aan uw nummerplaat."
    changed = coordinator.post(f"/regio/kennisbank/{source.id}", data=form_of(
        PARKING, answer_nl=new_answer, csrf_token=token(coordinator, "/regio/kennisbank/")))
    assert changed.status_code == 303
    db_session.expire_all()
    assert db_session.get(RegionalArticle, source.id).version == 2

    page = admin.get(listing).text
    assert "De bron is gewijzigd op 2 maart 2027" in page
    detail = html.unescape(admin.get(f"{listing}{article_id}").text)
    assert new_answer in detail and PARKING.answer["nl"] in detail  # both texts, side by side
    assert "Mijn versie houden" in detail
    assert articles_of(db_session, kb)[0].answer["nl"] == PARKING.answer["nl"]  # nothing changed by itself

    taken = admin.post(f"{listing}{article_id}/bron-overnemen", data={"csrf_token": token(admin, listing)})
    assert taken.status_code == 303
    [article] = articles_of(db_session, kb)
    assert (article.answer["nl"], article.source_version) == (new_answer, 2)
    assert "nummerplaat" in article.search_text
    assert "De bron is gewijzigd" not in admin.get(listing).text


def test_keeping_the_own_version_keeps_the_text_and_ends_the_notice(app, db_session, oidc_provider, kb):
    source = regional(db_session, kb.region_id)
    admin = browser(app, oidc_provider, "a-beheerder", kb)
    listing = f"/{kb.slug}/beheer/kennisbank/"
    admin.post(f"{listing}regio/{source.id}/overnemen", data={"csrf_token": token(admin, listing)})
    [article] = articles_of(db_session, kb)
    adapted = "In onze gemeente haalt u de bewonerskaart af aan het onthaal."
    assert admin.post(f"{listing}{article.id}", data=form_of(
        PARKING, answer_nl=adapted, csrf_token=token(admin, listing))).status_code == 303
    coordinator = browser(app, oidc_provider, "coordinator")
    coordinator.post(f"/regio/kennisbank/{source.id}", data=form_of(
        PARKING, answer_nl="Nieuwe regionale tekst.", csrf_token=token(coordinator, "/regio/kennisbank/")))
    assert "De bron is gewijzigd" in admin.get(listing).text

    kept = admin.post(f"{listing}{article.id}/eigen-versie", data={"csrf_token": token(admin, listing)})
    assert kept.status_code == 303
    [article] = articles_of(db_session, kb)
    assert (article.answer["nl"], article.source_id, article.source_version) == (adapted, source.id, 2)
    assert "De bron is gewijzigd" not in admin.get(listing).text


def test_saving_a_regional_article_unchanged_keeps_its_version(app, db_session, oidc_provider, kb):
    source = regional(db_session, kb.region_id)
    coordinator = browser(app, oidc_provider, "coordinator")
    response = coordinator.post(f"/regio/kennisbank/{source.id}", data=form_of(
        PARKING, csrf_token=token(coordinator, "/regio/kennisbank/")))
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(RegionalArticle, source.id).version == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("question_nl", "", "Vul de vraag in het Nederlands in."),
    ("answer_nl", "   ", "Vul het antwoord in het Nederlands in."),
    ("answer_fr", "x" * 5001, "Maximaal 5000 tekens."),
    ("topics", ",".join(f"onderwerp{i}" for i in range(11)), "Maximaal 10 onderwerpen"),
])
def test_an_invalid_article_is_refused_with_a_message_and_nothing_stored(
        app, db_session, oidc_provider, kb, field, value, message):
    admin = browser(app, oidc_provider, "a-beheerder", kb)
    path = f"/{kb.slug}/beheer/kennisbank/nieuw"
    response = admin.post(path, data=form_of(PARKING, **{field: value, "csrf_token": token(admin, path)}))
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert 'aria-invalid="true"' in response.text
    assert articles_of(db_session, kb) == []


def test_a_regional_article_needs_a_fresh_well_formed_key(app, db_session, oidc_provider, kb):
    regional(db_session, kb.region_id, key="bewonerskaart")
    coordinator = browser(app, oidc_provider, "coordinator")
    path = "/regio/kennisbank/nieuw"
    for key, message in (("Bewoners kaart!", "kleine letters, cijfers en koppeltekens"),
                         ("bewonerskaart", "Deze sleutel bestaat al in de regio.")):
        response = coordinator.post(path, data=form_of(PARKING, key=key, csrf_token=token(coordinator, path)))
        assert response.status_code == 400
        assert message in html.unescape(response.text)
    assert db_session.scalar(select(func.count()).select_from(RegionalArticle)) == 1


def test_the_desk_finds_an_article_by_a_word_in_its_answer(app, db_session, oidc_provider, kb, other_tenant):
    own(db_session, kb)
    own(db_session, kb, ArticleContent({"nl": "Wanneer is het containerpark open?"},
                                            {"nl": "Het recyclagepark is open van dinsdag tot zaterdag."}, ()))
    own(db_session, other_tenant, ArticleContent({"nl": "Elders"}, {"nl": "Inschrijvingsbewijs in B."}, ()))
    desk = browser(app, oidc_provider, "a-onthaal", kb)
    page = html.unescape(desk.get(f"/{kb.slug}/balie/kennisbank/", query_string={"q": "inschrijvingsbewijs"}).text)
    assert "Hoe vraag ik een bewonerskaart aan?" in page
    assert "containerpark" not in page and "Inschrijvingsbewijs in B." not in page
    none = html.unescape(desk.get(f"/{kb.slug}/balie/kennisbank/", query_string={"q": "paspoort"}).text)
    assert "Geen artikel gevonden voor “paspoort”" in none


def test_an_empty_search_asks_for_words_and_a_long_one_is_refused(app, db_session, oidc_provider, kb):
    desk = browser(app, oidc_provider, "a-onthaal", kb)
    empty = desk.get(f"/{kb.slug}/balie/kennisbank/", query_string={"q": "  "})
    assert empty.status_code == 200
    assert "Typ enkele woorden van de vraag" in html.unescape(empty.text)
    long = desk.get(f"/{kb.slug}/balie/kennisbank/", query_string={"q": "parkeren " * 30})
    assert long.status_code == 400
    assert "Een zoekopdracht mag hoogstens 200 tekens lang zijn." in long.text


class KnowledgePlugin:
    """A plugin that supplies one article (bulky waste, as a waste plugin would)."""

    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="kbtest", version="1.0", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_knowledge_articles(self, tenant):
        return [{"key": "grofvuil", "question": {"nl": "Hoeveel kost een grofvuilophaling?"},
                 "answer": {"nl": f"In {tenant.name} kost een ophaling 25 euro per kubieke meter."},
                 "topics": ["afval"]}]


def test_a_plugin_article_appears_in_the_search_of_municipalities_that_enabled_it(
        app, db_session, oidc_provider, register_plugin, make_tenant):
    register_plugin(KnowledgePlugin(), "kbtest")
    with_plugin = make_tenant("gemeente-p", plugins={"kbtest": {}})
    set_tenant(db_session, with_plugin.id)
    grant_role(db_session, oidc_provider, "p-onthaal", "onthaal")
    own(db_session, with_plugin)
    desk = browser(app, oidc_provider, "p-onthaal", with_plugin)
    page = html.unescape(desk.get(f"/{with_plugin.slug}/balie/kennisbank/", query_string={"q": "kubieke meter"}).text)
    assert "In Gemeente-P kost een ophaling 25 euro per kubieke meter." in page
    assert "Uit de module kbtest" in page
    with app.test_request_context():
        suggested = suggest_for(db_session, with_plugin, "Ik wil grofvuil laten ophalen, wat kost dat?", "nl")
    assert [s.source for s in suggested] == ["kbtest"]

    without = make_tenant("gemeente-q")
    with app.test_request_context():
        assert suggest_for(db_session, without, "Hoeveel kost grofvuil?", "nl") == []


def file_question(app, db_session, tenant, description, language="nl"):
    set_tenant(db_session, tenant.id)
    with app.test_request_context():
        case = submit_case(db_session, tenant, IntakeRequest(
            type_code="vraag", description=description, reporter_email="an@example.be", language=language),
            channel="web", actor="burger", at=AT).case
    db_session.flush()
    return case


def test_a_question_is_answered_from_an_article_in_the_residents_language(
        app, db_session, oidc_provider, kb, other_tenant):
    article = own(db_session, kb)
    theirs = own(db_session, other_tenant)
    case = file_question(app, db_session, kb, "Bonjour, comment obtenir une carte de riverain pour ma voiture ?", "fr")
    handler = browser(app, oidc_provider, "a-beheerder", kb)
    path = f"/{kb.slug}/behandeling/{case.reference}"
    page = html.unescape(handler.get(path).text)
    assert "Antwoorden met een artikel" in page
    assert f"?artikel={article.id}#bericht" in page
    assert "Comment demander une carte de riverain ?" in page  # shown in the case's language

    prefilled = html.unescape(handler.get(path, query_string={"artikel": str(article.id)}).text)
    textarea = prefilled.split('name="bericht"')[1].split("</textarea>")[0]
    assert PARKING.answer["fr"] in textarea
    other = html.unescape(handler.get(path, query_string={"artikel": str(theirs.id)}).text)
    assert PARKING.answer["fr"] not in other.split('name="bericht"')[1].split("</textarea>")[0]
    for nonsense in ("99999999999999999999", "٣", "plugin:bestaatniet:x", "-1"):
        response = handler.get(path, query_string={"artikel": nonsense})
        assert response.status_code == 200, nonsense  # an unknown article fills nothing; no error
        assert PARKING.answer["fr"] not in html.unescape(response.text).split('name="bericht"')[1]


def test_another_municipalitys_article_is_not_found(app, db_session, oidc_provider, kb, other_tenant):
    source = regional(db_session, kb.region_id)
    admin_b = browser(app, oidc_provider, "b-beheerder", other_tenant)
    set_tenant(db_session, kb.id)
    adopted = adopt(db_session, kb, source.id, AT)
    db_session.flush()
    base = f"/{other_tenant.slug}/beheer/kennisbank/"
    csrf = token(admin_b, base)
    assert admin_b.get(f"{base}{adopted.id}").status_code == 404
    for action in ("", "/bron-overnemen", "/eigen-versie"):
        assert admin_b.post(f"{base}{adopted.id}{action}", data=form_of(PARKING, csrf_token=csrf)).status_code == 404
    assert articles_of(db_session, kb)[0].answer == PARKING.answer
    # A municipality adopts only from its own region.
    elsewhere = Region(slug="anderregio", name="Andere regio")
    db_session.add(elsewhere)
    db_session.flush()
    foreign = regional(db_session, elsewhere.id, key="elders")
    assert admin_b.post(f"{base}regio/{foreign.id}/overnemen", data={"csrf_token": csrf}).status_code == 404
    assert articles_of(db_session, other_tenant) == []


def test_a_coordinator_of_another_region_cannot_see_or_change_the_regions_articles(
        app, db_session, oidc_provider, kb):
    source = regional(db_session, kb.region_id)
    elsewhere = Region(slug="anderregio", name="Andere regio")
    db_session.add(elsewhere)
    db_session.flush()
    grant_coordinator(db_session, elsewhere, oidc_provider, "coordinator-elders")
    db_session.flush()
    stranger = browser(app, oidc_provider, "coordinator-elders")
    assert "Hoe vraag ik een bewonerskaart aan?" not in stranger.get("/regio/kennisbank/").text
    assert stranger.get(f"/regio/kennisbank/{source.id}").status_code == 404
    changed = stranger.post(f"/regio/kennisbank/{source.id}", data=form_of(
        PARKING, answer_nl="Gekaapt.", csrf_token=token(stranger, "/regio/kennisbank/")))
    assert changed.status_code == 404
    db_session.expire_all()
    assert db_session.get(RegionalArticle, source.id).version == 1


def test_the_front_desk_searches_but_does_not_edit(app, db_session, oidc_provider, kb):
    desk = browser(app, oidc_provider, "a-onthaal", kb)
    assert desk.get(f"/{kb.slug}/balie/kennisbank/").status_code == 200
    assert desk.get(f"/{kb.slug}/beheer/kennisbank/").status_code == 403
    path = f"/{kb.slug}/beheer/kennisbank/nieuw"
    assert desk.post(path, data=form_of(PARKING, csrf_token=token(desk, f"/{kb.slug}/balie/kennisbank/"))
                     ).status_code == 403
    assert articles_of(db_session, kb) == []
    assert desk.get("/regio/kennisbank/").status_code == 403
    anonymous = app.test_client().get(f"/{kb.slug}/balie/kennisbank/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_demo_knowledge_is_adopted_by_every_municipality_and_shows_a_changed_source(
        app, db_session, make_tenant, capsys):
    towns = [make_tenant("demo-west"), make_tenant("demo-oost")]
    seed_demo_knowledge(app, [t.slug for t in towns])
    seed_demo_knowledge(app, [t.slug for t in towns])  # a second run adds nothing
    set_tenant(db_session, None)
    regional_articles = list(db_session.scalars(select(RegionalArticle)))
    assert len(regional_articles) == len(REGIONAL_ARTICLES)
    assert all({"nl", "fr", "en"} <= set(a.answer) for a in regional_articles)
    revised = next(a for a in regional_articles if a.key == REVISED_KEY)
    assert revised.version == 2
    for town in towns:
        articles = articles_of(db_session, town)
        assert len(articles) == len(REGIONAL_ARTICLES) + 1  # all adopted, and one of its own
        behind = [a for a in articles if a.source_id == revised.id]
        assert [a.source_version for a in behind] == [1]  # the region changed it afterwards
        with app.test_request_context():
            found = suggest_for(db_session, town, "Mijn identiteitskaart is verlopen, hoe krijg ik een nieuwe?", "en")
        assert found[0].question == "How do I apply for a new identity card (eID)?"
