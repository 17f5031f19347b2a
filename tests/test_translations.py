"""Dutch first, French and English complete: every user-facing string has all three."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parent.parent
CATALOGS = sorted(REPO.glob("core/translations/*/LC_MESSAGES/messages.po")) + sorted(
    REPO.glob("plugins/*/translations/*/LC_MESSAGES/messages.po")
)


def test_french_and_english_catalogues_exist():
    languages = {path.parts[-3] for path in CATALOGS}
    assert languages == {"fr", "en"}


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_message_is_translated(path):
    template = read_po((path.parents[2] / "messages.pot").open("rb"))
    catalog = read_po(path.open("rb"))
    wanted = {m.id for m in template if m.id}
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert wanted - translated == set(), f"untranslated in {path}"


def test_pages_follow_the_chosen_language(client, tenant):
    french = client.get(f"/{tenant.slug}/", headers={"Accept-Language": "fr"}).text
    assert f"Bienvenue à la commune de {tenant.name}" in french
    assert "Aller au contenu" in french
    english = client.get("/nope/", headers={"Accept-Language": "en"}).text
    assert "Page not found" in english


@pytest.mark.plugins("grofvuil")
def test_plugin_pages_use_the_plugins_own_catalogue(client, tenant):
    page = client.get(f"/{tenant.slug}/grofvuil/", headers={"Accept-Language": "en"}).text
    assert "Bulky waste collection in" in page
    assert "Skip to content" in page
