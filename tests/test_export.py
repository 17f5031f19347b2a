"""The resident's export (GDPR art. 15): request, progress, build by the worker, single-use downloads."""

import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from core.cases.models import Case, CaseEvent
from core.contact.models import ContactMoment
from core.identity.models import Account
from core.plugins.manifest import Manifest
from core.profiles.access_log import record_access
from core.profiles.export import build_waiting, expire_exports
from core.profiles.models import ProfileExport, Share
from core.profiles.service import Actor, ensure_profile, record_consent, update_preferences
from core.tenancy.isolation import set_tenant
from core.testing.fixtures import login_as
from core.toolkit import hookimpl

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "docs" / "export.schema.json").read_text())
NAME = "Gaëlle D’Hondt"
ADDRESS = "Rue de l’Église 5, 9080 Lochristi"
DESCRIPTION = "De straatlamp is kapot; herstelling kost € 120, zegt Zoë."
BRUSSELS = ZoneInfo("Europe/Brussels")


class ExportPlugin:
    """A plugin with data about residents: it exports a section, and notes the progress seen meanwhile."""

    seen_progress: ClassVar[list[int]] = []

    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="exporttest", version="1.0", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_export_sections(self, session, tenant, profile):
        self.seen_progress.append(session.scalar(select(func.max(ProfileExport.progress))))
        return [{"key": "exporttest.pasjes", "title": {"nl": "Containerpark-pasjes"},
                 "content": {"pasjes": [{"nummer": "P-42", "profiel": profile.id, "gemeente": tenant.slug}]}}]


class BrokenPlugin:
    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="kapot", version="1.0", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_export_sections(self, session, tenant, profile):
        raise RuntimeError("database weg")


def token(client, path):
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def account_of(db_session, subject):
    return db_session.scalar(select(Account).where(Account.subject == subject))


@pytest.fixture
def world(app, db_session, make_tenant, register_plugin, clock, client, oidc_provider):
    """A resident with a profile in two municipalities, each fact the export must hold, and noise it must not."""
    ExportPlugin.seen_progress = []
    register_plugin(ExportPlugin(), "exporttest")
    register_plugin(BrokenPlugin(), "kapot")
    a = make_tenant("gemeente-a", name="Gemeente Ä", plugins={"exporttest": {}, "kapot": {}})
    b = make_tenant("gemeente-b")
    login_as(client, oidc_provider, "inwoner-gaelle", claims={"name": NAME, "email": "gaelle@example.be"})
    login_as(app.test_client(), oidc_provider, "inwoner-ander", claims={"name": "Andere Melder"})
    account, other = account_of(db_session, "inwoner-gaelle"), account_of(db_session, "inwoner-ander")
    at = clock.now() - timedelta(days=3)

    with app.app_context():  # the purpose catalogue asks the app's plugins
        set_tenant(db_session, a.id)
        profile = ensure_profile(db_session, account, at)
        update_preferences(db_session, profile, {"name": NAME, "address": ADDRESS, "birth_date": "1984-02-29",
                                                 "phone": "+32 9 123 45 67"}, actor=Actor.resident(), at=at)
        record_consent(db_session, a, profile, "contact_email", True, actor=Actor.resident(), language="nl", at=at)
        record_consent(db_session, a, profile, "contact_email", False, actor=Actor.staff(None, "balie"), language="nl",
                       at=at + timedelta(hours=1))
        case = Case(reference="ZWERF-2026-00007", type_code="zwerfvuil", kind="melding", channel="web",
                    description=DESCRIPTION, profile_id=profile.id, reporter_account_id=account.id, reporter_name=NAME,
                    follow_token_hash="a" * 64, created_at=at, updated_at=at, last_activity_at=at)
        other_profile = ensure_profile(db_session, other, at)
        merged = Case(reference="ZWERF-2026-00008", type_code="zwerfvuil", kind="melding", channel="web",
                      description="Ook gezien", profile_id=other_profile.id, reporter_account_id=other.id,
                      reporter_name="Andere Melder", reporter_email="ander@example.be", follow_token_hash="b" * 64,
                      created_at=at, updated_at=at, last_activity_at=at)
        db_session.add_all([case, merged])
        db_session.flush()
        merged.status, merged.merged_into_id = "samengevoegd", case.id
        db_session.add_all([
            CaseEvent(case_id=case.id, kind="created", visible_to_citizen=True, to_status="nieuw", actor="burger",
                      created_at=at),
            CaseEvent(case_id=case.id, kind="note", visible_to_citizen=False, body="INTERNE NOTA", actor="jan",
                      created_at=at),
            CaseEvent(case_id=case.id, kind="merged_in", visible_to_citizen=False, body=merged.reference, actor="jan",
                      created_at=at),
            CaseEvent(case_id=merged.id, kind="message_from_citizen", visible_to_citizen=True,
                      body="Bericht van de andere melder", actor="burger", created_at=at),
            ContactMoment(profile_id=profile.id, channel="balie", topic="Vraag over grofvuil", summary="Uitleg gegeven",
                          outcome="beantwoord", case_id=case.id, created_at=at),
            Share(profile_id=profile.id, token_hash="c" * 64, fields=["name"], case_ids=[case.id],
                  recipient_tenant_id=b.id, purpose="Huurcontract", max_views=2, views=1, created_at=at,
                  expires_at=at + timedelta(minutes=15)),
        ])
        record_access(db_session, instance_secret=app.config["SECRET_KEY"], tenant_id=a.id, profile_id=profile.id,
                      actor_kind="medewerker", actor_label="Jan Balie", reason="Vraag aan de balie", shown=["name"], at=at)
        set_tenant(db_session, b.id)
        ensure_profile(db_session, account, at)
    db_session.commit()
    return {"a": a, "b": b, "account": account, "case": case}


def request(client):
    response = client.post("/mijn/export", data={"csrf_token": token(client, "/mijn/export")})
    assert response.status_code == 303, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def run_worker(runner, db_session):
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    set_tenant(db_session, None)  # the worker's sessions share the test's connection
    db_session.expire_all()


def stored(app, export_id, fmt):
    return (app.extensions["fygitaal.storage"].root / f"exports/{export_id}.{fmt}").exists()


def test_the_export_holds_every_section_and_validates_against_the_published_schema(
        client, runner, world, db_session, app):
    export_id = request(client)
    run_worker(runner, db_session)
    response = client.get(f"/mijn/export/{export_id}/json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"
    document = response.get_json()
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    assert document["metadata"]["account"]["naam"] == NAME
    by_code = {g["gemeente"]["code"]: g for g in document["gemeenten"]}
    assert set(by_code) == {"gemeente-a", "gemeente-b"}, "every municipality where the account has a profile"
    here = by_code["gemeente-a"]
    assert here["profiel"]["naam"] == NAME and here["profiel"]["adres"] == ADDRESS
    assert here["profiel"]["geboortedatum"] == "1984-02-29"
    assert set(here["voorkeurwijzigingen"][0]["velden"]) == {"address", "birth_date", "phone"}
    given, withdrawn = here["toestemmingen"]
    assert (given["toegestaan"], withdrawn["toegestaan"], withdrawn["door"]) == (True, False, "medewerker")
    assert given["ontvangstbewijs"]["version"] == "KI-CR-v1.1.0"
    assert withdrawn["ontvangstbewijs"]["services"][0]["purposes"][0]["consentType"] == "WITHDRAWN"
    [case] = here["dossiers"]
    assert case["referentie"] == "ZWERF-2026-00007" and case["beschrijving"] == DESCRIPTION
    assert [e["soort"] for e in case["gebeurtenissen"]] == ["created"], "only citizen-visible events"
    assert here["contactmomenten"][0]["onderwerp"] == "Vraag over grofvuil"
    assert here["contactmomenten"][0]["dossier"] == "ZWERF-2026-00007"
    assert here["toegangslog"][0]["door"] == "Jan Balie" and here["toegangslog"][0]["reden"] == "Vraag aan de balie"
    [share] = here["deellinks"]
    assert share["ontvanger"] == world["b"].name and share["dossiers"] == ["ZWERF-2026-00007"]
    assert share["aantalKeerBekeken"] == 1
    sections = {s["plugin"]: s for s in here["pluginsecties"]}
    assert sections["exporttest"]["inhoud"]["pasjes"][0]["nummer"] == "P-42"
    assert sections["kapot"]["mislukt"] is True, "a failing plugin shows as failed; the export still comes"
    assert by_code["gemeente-b"]["pluginsecties"] == [], "plugins not enabled there are not asked"

    text = json.dumps(document, ensure_ascii=False)
    for foreign in ("Andere Melder", "ander@example.be", "Bericht van de andere melder", "INTERNE NOTA",
                    "ZWERF-2026-00008", "c" * 64):
        assert foreign not in text, f"{foreign!r} is not the resident's data"
    assert ExportPlugin.seen_progress and all(0 < p < 100 for p in ExportPlugin.seen_progress), \
        "progress is committed while the export is built"


def test_the_pdf_holds_the_same_facts_with_accents_euro_and_apostrophes(client, runner, world, db_session):
    export_id = request(client)
    run_worker(runner, db_session)
    response = client.get(f"/mijn/export/{export_id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    flat = " ".join(text.split())
    for fact in (NAME, ADDRESS, "ZWERF-2026-00007", "€ 120", "Zoë", "U contacteren per e-mail", "Gemeente Ä",
                 "Vraag over grofvuil", "Jan Balie", "Containerpark-pasjes"):
        assert fact in flat, f"{fact!r} missing from the PDF"
    assert "Andere Melder" not in flat


def test_progress_shows_while_waiting_and_ready_shows_both_downloads_with_the_deadline(
        client, runner, world, db_session, clock):
    export_id = request(client)
    waiting = client.get(f"/mijn/export/{export_id}")
    assert waiting.status_code == 200 and waiting.headers["Cache-Control"] == "no-store"
    assert 'http-equiv="refresh"' not in waiting.text and f'href="/mijn/export/{export_id}">' in waiting.text
    assert '<progress id="voortgang" max="100" value="0">0%</progress>' in waiting.text
    assert "<script" not in waiting.text
    db_session.get(ProfileExport, export_id).status, db_session.get(ProfileExport, export_id).progress = "bezig", 40
    db_session.commit()
    assert "40% klaar" in client.get(f"/mijn/export/{export_id}").text
    db_session.get(ProfileExport, export_id).status = "wachtend"
    db_session.commit()

    run_worker(runner, db_session)
    ready = client.get(f"/mijn/export/{export_id}").text
    assert 'http-equiv="refresh"' not in ready
    assert f'href="/mijn/export/{export_id}/json"' in ready and f'href="/mijn/export/{export_id}/pdf"' in ready
    until = (clock.now() + timedelta(minutes=15)).astimezone(BRUSSELS).strftime("%H:%M")
    assert f"geldig tot {until}" in ready
    listing = client.get("/mijn/export").text
    assert f'href="/mijn/export/{export_id}"' in listing and "Klaar" in listing


def test_a_second_request_while_one_is_on_its_way_is_refused_clearly(client, world, db_session):
    request(client)
    response = client.post("/mijn/export", data={"csrf_token": token(client, "/mijn/export")})
    assert response.status_code == 409
    assert "Er wordt al een kopie van uw gegevens gemaakt." in response.text
    assert db_session.scalar(select(func.count()).select_from(ProfileExport)) == 1


def test_each_file_downloads_once_then_410_and_it_is_gone_from_storage(client, runner, world, db_session, app):
    export_id = request(client)
    run_worker(runner, db_session)
    assert client.get(f"/mijn/export/{export_id}/json").status_code == 200
    assert not stored(app, export_id, "json") and stored(app, export_id, "pdf")
    again = client.get(f"/mijn/export/{export_id}/json")
    assert again.status_code == 410 and "al gedownload" in again.text
    assert "al gedownload" in client.get(f"/mijn/export/{export_id}").text
    assert client.get(f"/mijn/export/{export_id}/pdf").status_code == 200
    assert not stored(app, export_id, "pdf")
    run_worker(runner, db_session)
    assert db_session.get(ProfileExport, export_id).status == "verlopen"


def test_a_late_download_is_410_and_the_worker_removes_expired_files(client, runner, world, db_session, app, clock):
    export_id = request(client)
    run_worker(runner, db_session)
    clock.advance(minutes=16)
    late = client.get(f"/mijn/export/{export_id}/pdf")
    assert late.status_code == 410 and "verlopen" in late.text
    assert stored(app, export_id, "pdf"), "a refused download changes nothing"
    run_worker(runner, db_session)
    export = db_session.get(ProfileExport, export_id)
    assert export.status == "verlopen" and export.json_fetched_at is None and export.pdf_fetched_at is None
    assert not stored(app, export_id, "json") and not stored(app, export_id, "pdf")
    assert client.get(f"/mijn/export/{export_id}/json").status_code == 410


def test_another_account_gets_404_and_changes_nothing(client, runner, world, db_session, app, oidc_provider):
    export_id = request(client)
    run_worker(runner, db_session)
    stranger = app.test_client()
    login_as(stranger, oidc_provider, "inwoner-ander")
    assert stranger.get(f"/mijn/export/{export_id}").status_code == 404
    for fmt in ("json", "pdf"):
        assert stranger.get(f"/mijn/export/{export_id}/{fmt}").status_code == 404
    assert f"/mijn/export/{export_id}" not in stranger.get("/mijn/export").text
    export = db_session.get(ProfileExport, export_id)
    assert export.json_fetched_at is None and export.pdf_fetched_at is None
    assert stored(app, export_id, "json") and stored(app, export_id, "pdf")
    assert client.get(f"/mijn/export/{export_id}/json").status_code == 200, "the owner still gets it"


def test_bad_input_gets_404_and_changes_nothing(client, runner, world, db_session, app):
    export_id = request(client)
    run_worker(runner, db_session)
    assert client.get(f"/mijn/export/{export_id}/xml").status_code == 404
    assert client.get(f"/mijn/export/{export_id + 999}/json").status_code == 404
    assert client.get(f"/mijn/export/{export_id + 999}").status_code == 404
    assert client.get("/mijn/export/abc").status_code == 404
    export = db_session.get(ProfileExport, export_id)
    assert export.json_fetched_at is None and export.pdf_fetched_at is None
    assert stored(app, export_id, "json") and stored(app, export_id, "pdf")


def test_post_without_csrf_is_refused_and_stores_nothing(client, world, db_session):
    assert client.post("/mijn/export").status_code == 400
    assert db_session.scalar(select(func.count()).select_from(ProfileExport)) == 0


def test_anonymous_visitors_are_sent_to_login(client, db_session):
    for path in ("/mijn/export", "/mijn/export/1", "/mijn/export/1/json"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_a_build_that_fails_is_marked_failed_and_a_new_request_is_possible(
        client, world, db_session, app, monkeypatch):
    export_id = request(client)

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("core.profiles.export_pdf.render_export_pdf", broken)
    with app.app_context():
        assert build_waiting(app) == [export_id]
    db_session.expire_all()
    assert db_session.get(ProfileExport, export_id).status == "mislukt"
    assert not stored(app, export_id, "json")
    assert "mislukt" in client.get(f"/mijn/export/{export_id}").text
    assert request(client) != export_id


def test_an_export_stuck_in_building_ends_as_failed(client, world, db_session, app, clock):
    export_id = request(client)
    db_session.get(ProfileExport, export_id).status = "bezig"
    db_session.commit()
    with app.app_context():
        assert expire_exports(app, clock.now() + timedelta(hours=2)) == 1
    db_session.expire_all()
    assert db_session.get(ProfileExport, export_id).status == "mislukt"


def test_web_workers_do_not_load_the_pdf_library(tmp_path):
    code = ("import sys; from core.app import create_app; "
            f"create_app({{'ENV': 'testing', 'SECRET_KEY': 'x', 'DATABASE_URL': 'sqlite:///{tmp_path}/x.db'}}); "
            "import core.profiles.export_views; assert 'fpdf' not in sys.modules, 'fpdf loaded'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                            cwd=Path(__file__).resolve().parent.parent, env={"FYGITAAL_INSTANCE_PATH": str(tmp_path),
                                                                              "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr

