"""Real-browser accessibility checks (axe-core, keyboard, language, CSP) that the test client cannot see."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_helpers import COORDINATOR, DESK_NATIONAL_NUMBER, ONTHAAL, RESIDENT, World, seed_world
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Response, expect, sync_playwright
from werkzeug.serving import make_server

from core import migrate
from core.db import database, utcnow
from core.identity.staff import grant_role
from core.profiles.export import build_waiting
from core.tenancy.service import apply_tenants, working_for
from core.testing.fixtures import make_test_app
from plugins.grofvuil.service import plan_round

pytestmark = pytest.mark.browser

TENANTS_DIR = Path(__file__).resolve().parent.parent / "tenants"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
LOCHRISTI = (51.0976, 3.8310)  # a point inside the municipality
PAGES = [
    pytest.param("/", 200, id="platform-home"),
    pytest.param("/lochristi/", 200, id="municipality-home"),
    pytest.param("/lochristi/grofvuil/", 200, id="grofvuil"),
    pytest.param("/bestaatniet/", 404, id="not-found"),
]


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory, oidc_provider: str) -> Iterator[Flask]:
    """The app with the real municipalities, on its own SQLite database."""
    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp}/browser.db"
    app = make_test_app((url, url), tmp / "instance", OIDC_ISSUER=oidc_provider,
                        OIDC_CLIENT_ID="fygitaal-browser", OIDC_CLIENT_SECRET="x")
    with app.app_context():
        migrate.upgrade(app)
        with database(app).session_scope() as session:
            apply_tenants(session, TENANTS_DIR, app.extensions["fygitaal.plugins"])
        with working_for("lochristi") as (session, _tenant):
            grant_role(session, oidc_provider, "lochristi-beheerder", "beheerder", name="Bea Beheer")
            grant_role(session, oidc_provider, ONTHAAL, "onthaal", name="Omar Onthaal")
        with working_for("lochristi") as (session, _tenant):  # so axe also sees the rounds table
            start = utcnow().date()
            for week, zone in enumerate(("Lochristi-centrum", "Zaffelare")):
                plan_round(session, zone, start + timedelta(days=7 * week + 3), capacity=40)
    try:
        yield app
    finally:
        database(app).engine.dispose()


@pytest.fixture(scope="module")
def world(live_app: Flask, oidc_provider: str) -> World:
    """The resident, desk profile, knowledge articles and coordinator the new pages need."""
    with live_app.app_context():
        return seed_world(live_app, oidc_provider)


@pytest.fixture(scope="module")
def live_server(live_app: Flask, world: World) -> Iterator[str]:
    """The seeded app, served in a thread."""
    app = live_app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"  # links in pages and mail, as the demo does
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium (never a downloaded one: this machine has no internet)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Every console error the page logged during the test."""
    return []


@contextmanager
def visitor(browser: Browser, base_url: str, console_errors: list[str]) -> Iterator[Page]:
    """A fresh, Dutch-speaking visitor (own cookies) on the live server, its console errors recorded."""
    context = browser.new_context(base_url=base_url, locale="nl-BE")
    page = context.new_page()

    def _record(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    page.on("console", _record)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, live_server: str, console_errors: list[str]) -> Iterator[Page]:
    with visitor(browser, live_server, console_errors) as page:
        yield page


def csp_errors(console_errors: list[str]) -> list[str]:
    """Chromium reports a blocked inline script or style as a console error naming the policy."""
    return [text for text in console_errors
            if "content security policy" in text.lower() or "content-security-policy" in text.lower()]


def describe(violations: list[dict]) -> str:
    """One line per failing node: rule, impact, target and axe's fix hint, for the developer."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} "
                     f"[{violation['helpUrl']}]")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    target: {target}\n      html: {node['html']}\n      {summary}")
    return "\n".join(lines)


@pytest.mark.parametrize(("path", "status"), PAGES)
def test_page_has_no_serious_accessibility_violations(page: Page, console_errors: list[str],
                                                      path: str, status: int):
    response = page.goto(path)
    assert response is not None and response.status == status
    expect(page.locator("main#inhoud h1")).to_be_visible()

    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core on {path}:\n{describe(blocking)}"
    assert not csp_errors(console_errors), f"CSP violations on {path}: {csp_errors(console_errors)}"


def test_first_tab_focuses_the_skip_link_which_moves_focus_to_the_content(page: Page,
                                                                           console_errors: list[str]):
    page.goto("/lochristi/")
    page.keyboard.press("Tab")
    skip_link = page.locator("a.skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_have_text("Naar de inhoud")
    expect(skip_link).to_be_in_viewport()  # it must show itself when focused

    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.closest('main#inhoud') !== null"
    )
    assert page.url.endswith("/lochristi/#inhoud")
    assert not csp_errors(console_errors), csp_errors(console_errors)


def test_language_switch_sets_the_page_language(page: Page, console_errors: list[str]):
    page.goto("/lochristi/")
    expect(page.locator("html")).to_have_attribute("lang", "nl")

    page.locator("select#taal").select_option(label="Français")
    with page.expect_navigation():
        page.locator("form.language-switch button[type=submit]").click()

    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("a.skip-link")).to_have_text("Aller au contenu")
    assert page.url.endswith("/lochristi/")  # back where the visitor was
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("taal") == "fr"
    assert not csp_errors(console_errors), csp_errors(console_errors)


def log_in(page: Page, start: str, subject: str) -> None:
    """Through the real provider's form, as a person would (``start`` is our login page)."""
    page.goto(start)
    page.locator("input[name=sub]").fill(subject)
    with page.expect_navigation():
        page.locator("button[type=submit]", has_text="Authorize").click()


def log_in_as_staff(page: Page, slug: str, subject: str) -> None:
    log_in(page, f"/{slug}/login", subject)


def test_the_staff_admin_page_is_accessible_and_works_by_keyboard(page: Page, console_errors: list[str]):
    log_in_as_staff(page, "lochristi", "lochristi-beheerder")
    expect(page.locator(".account-name")).to_have_text("Bea Beheer")
    page.goto("/lochristi/beheer/")
    expect(page.locator("main#inhoud h1")).to_contain_text("Medewerkers van Lochristi")
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core on the staff page:\n{describe(blocking)}"

    page.locator("#subject").fill("lochristi-nieuw")
    page.locator("#role").select_option("onthaal")
    page.locator("#subject").press("Enter")
    expect(page.locator("p.notice")).to_have_text("De rol is toegekend.")
    expect(page.locator("table")).to_contain_text("lochristi-nieuw")
    assert not csp_errors(console_errors), csp_errors(console_errors)


def test_a_refused_login_page_is_accessible(page: Page):
    page.goto("/login/callback?state=vervalst&code=x")
    expect(page.locator("main#inhoud h1")).to_have_text("Aanmelden mislukt")
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, describe(blocking)


def assert_accessible(page: Page, where: str) -> None:
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core on {where}:\n{describe(blocking)}"


def test_a_resident_files_a_report_and_follows_it_up(page: Page, console_errors: list[str]):
    """The whole resident path in a real browser, each page checked by axe-core."""
    page.goto("/lochristi/melding")
    assert_accessible(page, "choosing the kind of report")
    page.locator("select#type").select_option("sluikstort")
    with page.expect_navigation():
        page.get_by_role("button", name="Verder").click()
    assert_accessible(page, "the report form")
    page.locator("#beschrijving").fill("Vuilniszakken gedumpt naast de glasbol aan de kerk.")
    page.locator("#extra-volume").select_option("middel")
    page.locator("#lat").fill(str(LOCHRISTI[0]))
    page.locator("#lon").fill(str(LOCHRISTI[1]))
    page.locator("#email").fill("an@example.be")
    with page.expect_navigation():
        page.locator("form button[type=submit]").last.click()
    expect(page.locator("main#inhoud")).to_contain_text("SL-")
    assert_accessible(page, "the confirmation")
    with page.expect_navigation():
        page.locator("p.follow-link a").click()
    assert "/opvolging/dossier/SL-" in page.url, "the token is exchanged for a token-free address"
    expect(page.locator("main#inhoud h1")).to_contain_text("SL-")
    assert_accessible(page, "the follow-up page")
    assert not csp_errors(console_errors), csp_errors(console_errors)


def test_the_back_office_is_accessible(page: Page, console_errors: list[str]):
    page.goto("/lochristi/melding?type=zwerfvuil")
    page.locator("#beschrijving").fill("Blikjes in de berm")
    page.locator("#lat").fill(str(LOCHRISTI[0]))
    page.locator("#lon").fill(str(LOCHRISTI[1]))
    with page.expect_navigation():
        page.locator("form button[type=submit]").last.click()
    log_in_as_staff(page, "lochristi", "lochristi-beheerder")
    page.goto("/lochristi/behandeling/")
    expect(page.locator("main#inhoud h1")).to_be_visible()
    assert_accessible(page, "the queue")
    with page.expect_navigation():
        page.locator("main table a").first.click()
    assert_accessible(page, "a case in the back office")
    page.goto("/lochristi/balie/melding")
    assert_accessible(page, "staff entry on behalf of a resident")
    assert not csp_errors(console_errors), csp_errors(console_errors)


# --- Mijn profiel, the QR share, the front office and the knowledge base (issues 6 and 7) ---------


DUPLICATE_IDS = """() => {
    const ids = [...document.querySelectorAll('[id]')].map(element => element.id);
    return [...new Set(ids.filter((id, index) => ids.indexOf(id) !== index))];
}"""


def check_page(page: Page, console_errors: list[str], where: str, response: Response | None,
               status: int = 200) -> None:
    """What every page must pass: the expected status, a visible main heading, axe-core and the CSP."""
    assert response is not None, f"{where}: no page was loaded"
    assert response.status == status, f"{where}: status {response.status}, expected {status}"
    expect(page.locator("main#inhoud h1"), f"{where}: no visible main#inhoud h1").to_be_visible()
    duplicates = page.evaluate(DUPLICATE_IDS)
    assert not duplicates, f"{where}: ids used twice, so a label may name the wrong field: {duplicates}"
    assert_accessible(page, where)
    assert not csp_errors(console_errors), f"CSP violations on {where}: {csp_errors(console_errors)}"


def visit(page: Page, console_errors: list[str], path: str, status: int = 200) -> None:
    check_page(page, console_errors, path, page.goto(path), status)


def navigation(page: Page, action: Callable[[], None]) -> Response | None:
    """Do ``action`` (a click, a key press) and return the response of the page it leads to."""
    with page.expect_navigation() as navigated:
        action()
    return navigated.value


RESIDENT_PAGES = [  # path, a text that shows the seeded records are on the page
    ("/mijn/", "Vraag over de ophaling"),
    ("/mijn/lochristi/voorkeuren", "uzelf"),
    ("/mijn/lochristi/toestemmingen", "U gaf toestemming."),
    ("/mijn/lochristi/toegang", "Omar Onthaal"),
    ("/mijn/lochristi/wissen", "Welke gegevens wilt u laten wissen?"),
    ("/mijn/export", "Klaar"),
    ("/mijn/lochristi/delen", "Inschrijving sportkamp"),
]


def test_the_resident_pages_are_accessible(page: Page, console_errors: list[str], live_app: Flask,
                                           world: World):
    log_in(page, "/login", RESIDENT)
    for path, shown in RESIDENT_PAGES:
        visit(page, console_errors, path)
        expect(page.locator("main#inhoud"), f"{path} misses {shown!r}").to_contain_text(shown)

    page.goto("/mijn/lochristi/voorkeuren")
    page.locator("#email").fill("geen-e-mailadres")
    response = navigation(page, lambda: page.get_by_role("button", name="Bewaren").click())
    check_page(page, console_errors, "preferences with a bad e-mail address", response, 400)
    summary = page.locator(".error-summary")
    expect(summary, "the error summary is announced").to_have_attribute("role", "alert")
    expect(summary).to_contain_text("Dit e-mailadres is niet geldig.")
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#email"), "the summary's link leads to the field").to_be_focused()

    page.goto("/mijn/export")
    response = navigation(page, lambda: page.get_by_role("button", name="Vraag een kopie aan").click())
    check_page(page, console_errors, "an export being made", response)
    expect(page.locator("progress")).to_be_visible()
    build_waiting(live_app)
    response = navigation(page, lambda: page.get_by_role("link", name="Vernieuwen").click())
    check_page(page, console_errors, "a finished export", response)
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible()


def test_a_resident_shares_chosen_data_and_the_recipient_sees_only_that(
        page: Page, browser: Browser, live_server: str, console_errors: list[str], world: World):
    log_in(page, "/login", RESIDENT)
    page.goto("/mijn/lochristi/delen")
    response = navigation(page, lambda: page.get_by_role("button", name="Maak de QR-code").click())
    check_page(page, console_errors, "the share form with nothing chosen", response, 400)

    page.locator("#veld-name").check()
    page.locator("#veld-phone").check()
    page.get_by_label(re.compile(world.question_reference)).check()
    page.locator("#doel").fill("Aanvraag parkeerkaart")
    page.locator("#bekijken").fill("1")
    response = navigation(page, lambda: page.locator("#doel").press("Enter"))
    check_page(page, console_errors, "the share's page with its QR code", response)
    qr = page.locator("main img")
    expect(qr, "the QR image needs a text alternative").to_have_attribute("alt", re.compile(r"\w"))
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0"), "the QR image did not load"
    link = page.locator("p.follow-link").inner_text().strip()

    with visitor(browser, live_server, console_errors) as recipient:
        check_page(recipient, console_errors, "the shared data", recipient.goto(link))
        assert recipient.url.endswith("/delen/bekijken"), "the token is exchanged for a token-free address"
        shown = recipient.locator("main#inhoud")
        expect(shown).to_contain_text("An Peeters")
        expect(shown).to_contain_text(world.question_reference)
        expect(shown).not_to_contain_text("an.peeters@example.be")  # not chosen
    with visitor(browser, live_server, console_errors) as latecomer:
        check_page(latecomer, console_errors, "a used-up share", latecomer.goto(link), 410)


def test_the_front_office_is_accessible(page: Page, console_errors: list[str], world: World):
    log_in_as_staff(page, "lochristi", ONTHAAL)
    visit(page, console_errors, "/lochristi/balie/")

    page.locator("#naam").fill(world.resident_name)
    page.locator("#geboortedatum").fill(world.resident_birth_date)
    response = navigation(page, lambda: page.locator("#naam").press("Enter"))
    check_page(page, console_errors, "a search with results", response)
    expect(page.locator("main table")).to_contain_text(world.resident_name)

    page.locator("#rijksregisternummer").fill("12345678901")
    response = navigation(page, lambda: page.locator("#rijksregisternummer").press("Enter"))
    check_page(page, console_errors, "an invalid national register number", response, 400)
    expect(page.locator(".error-summary[role=alert]")).to_contain_text("niet geldig")

    page.locator("#rijksregisternummer").fill(DESK_NATIONAL_NUMBER)
    response = navigation(page, lambda: page.locator("#rijksregisternummer").press("Enter"))
    check_page(page, console_errors, "a national register number search", response)
    response = navigation(page, lambda: page.get_by_role("link", name="Openen met een reden (Maria Claes)").click())
    check_page(page, console_errors, "the reason form", response)
    page.locator("#reden-balie").focus()
    page.keyboard.press("Space")
    expect(page.locator("#reden-balie")).to_be_checked()
    response = navigation(page, lambda: page.locator("#referentie").press("Enter"))
    check_page(page, console_errors, "the 360° view of an offline desk-made profile", response)
    expect(page.locator("p.notice.offline")).to_be_visible()

    page.goto(f"/lochristi/balie/personen/{world.resident_profile_id}/openen")
    page.locator("#reden-andere").check()
    page.locator("#andere").fill("Terugbelverzoek")
    response = navigation(page, lambda: page.get_by_role("button", name="Openen").click())
    check_page(page, console_errors, "the 360° view of a resident with an account", response)
    expect(page.locator("#kennis ~ details").first, "knowledge suggested for the open question").to_be_visible()

    response = navigation(page, lambda: page.get_by_role("link", name="Een melding of vraag registreren").click())
    check_page(page, console_errors, "filing on behalf, step 1", response)
    page.locator("#soort").select_option("vraag")
    response = navigation(page, lambda: page.get_by_role("button", name="Verder").click())
    check_page(page, console_errors, "filing on behalf, step 2", response)

    visit(page, console_errors, "/lochristi/balie/personen/nieuw")
    visit(page, console_errors, "/lochristi/balie/kennisbank/?q=afval")
    expect(page.locator("main#inhoud article").first, "the knowledge base finds articles").to_be_visible()


ADMIN_PAGES = [  # where the person logs in, who, and the pages with a text that shows the seeded records
    pytest.param("/lochristi/login", "lochristi-beheerder",
                 [("/lochristi/beheer/kennisbank/", "Hoe sorteer ik mijn afval?"),
                  ("/lochristi/beheer/wissen", "Maria Claes")], id="municipal-admin"),
    pytest.param("/login", COORDINATOR, [("/regio/kennisbank/", "afval-sorteren")], id="regional-coordinator"),
]


@pytest.mark.parametrize(("start", "subject", "pages"), ADMIN_PAGES)
def test_the_admin_pages_are_accessible(page: Page, console_errors: list[str], world: World, start: str,
                                        subject: str, pages: list[tuple[str, str]]):
    log_in(page, start, subject)
    for path, shown in pages:
        visit(page, console_errors, path)
        expect(page.locator("main#inhoud"), f"{path} misses {shown!r}").to_contain_text(shown)
