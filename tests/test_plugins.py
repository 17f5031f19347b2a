"""The plugin system: manifests, per-tenant hooks, pilots, and failures that stay contained."""

import json
import textwrap
from datetime import date

import pytest
from sqlalchemy import select

from core.plugins.manifest import Manifest
from core.tenancy.isolation import set_tenant
from core.testing.fixtures import CliRunner, joined_to, make_test_app
from core.toolkit import hookimpl
from plugins.grofvuil.models import Round
from plugins.grofvuil.service import plan_round


class CaseTypesPlugin:
    """A minimal plugin offering one case type."""

    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="testtypes", version="1.0", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_case_types(self, tenant):
        return [f"type for {tenant.slug}"]


def test_plugins_list_json_shows_the_bundled_plugins(runner, tenant):
    result = runner.invoke(args=["plugins", "list", "--json"])
    assert result.exit_code == 0, result.output
    listing = json.loads(result.output)
    grofvuil = next(p for p in listing["plugins"] if p["name"] == "grofvuil")
    assert grofvuil["version"] == "0.1.0"
    assert grofvuil["owner"] == "lochristi"
    assert grofvuil["maturity"] == "pilot"
    assert grofvuil["pilot_tenants"] == ["lochristi"]
    assert grofvuil["data_categories"] == ["ophaalafspraken"]
    assert grofvuil["settings_schema"] == {"max_items": "Integer", "contact_phone": "String"}
    assert "fygitaal_blueprints" in grofvuil["hooks"]
    assert listing["failed"] == []


def test_plugins_list_shows_which_tenants_enabled_it(runner, make_tenant):
    make_tenant("lochristi", plugins={"grofvuil": {}})
    make_tenant("destelbergen")
    listing = json.loads(runner.invoke(args=["plugins", "list", "--json"]).output)
    grofvuil = next(p for p in listing["plugins"] if p["name"] == "grofvuil")
    assert grofvuil["enabled_for"] == ["lochristi"]


def test_tenant_hooks_reach_only_enabled_plugins(app, register_plugin, make_tenant, db_session):
    register_plugin(CaseTypesPlugin(), "testtypes")
    registry = app.extensions["fygitaal.plugins"]
    a = make_tenant("a", plugins={"testtypes": {}})
    b = make_tenant("b")
    assert ["type for a"] in registry.hooks_for(a).fygitaal_case_types(tenant=a)
    assert ["type for b"] not in registry.hooks_for(b).fygitaal_case_types(tenant=b)


def test_tenant_hooks_follow_a_change_of_the_plugin_set(app, register_plugin, make_tenant):
    register_plugin(CaseTypesPlugin(), "testtypes")
    registry = app.extensions["fygitaal.plugins"]
    b = make_tenant("b")
    assert registry.hooks_for(b) is registry.hooks_for(b), "callers are cached per tenant"
    assert ["type for b"] not in registry.hooks_for(b).fygitaal_case_types(tenant=b)
    b.plugins = {"testtypes": {}}
    b.config_version += 1
    assert ["type for b"] in registry.hooks_for(b).fygitaal_case_types(tenant=b)


def test_a_plugin_without_manifest_is_refused_by_name(app):
    class NoManifest:
        @hookimpl
        def fygitaal_case_types(self, tenant):
            return []

    registry = app.extensions["fygitaal.plugins"]
    assert registry.register(NoManifest(), "naamloos") is None
    assert registry.failed.pop("naamloos") == "no fygitaal_plugin_manifest hook"
    assert "naamloos" not in registry.plugins


def test_a_plugin_with_an_unknown_hook_is_left_out_by_name(app):
    class Typo:
        @hookimpl
        def fygitaal_plugin_manifest(self):
            return Manifest(name="typo", version="1", owner="test", maturity="approved")

        @hookimpl
        def fygitaal_case_typos(self, tenant):
            return []

    registry = app.extensions["fygitaal.plugins"]
    registry.register(Typo(), "typo")
    registry.check_pending()
    assert "fygitaal_case_typos" in registry.failed.pop("typo")
    assert "typo" not in registry.plugins
    assert "grofvuil" in registry.plugins


def test_a_manifest_with_an_unknown_maturity_is_refused():
    with pytest.raises(ValueError, match="maturity 'beta' is unknown"):
        Manifest(name="x", version="1", owner="y", maturity="beta")


@pytest.mark.plugins("grofvuil")
def test_plugin_routes_answer_only_for_tenants_that_enabled_it(client, tenant, other_tenant):
    assert client.get(f"/{tenant.slug}/grofvuil/").status_code == 200
    response = client.get(f"/{other_tenant.slug}/grofvuil/")
    assert response.status_code == 404
    assert "Pagina niet gevonden" in response.text


@pytest.mark.plugins("grofvuil")
def test_grofvuil_page_shows_only_this_tenants_rounds(client, runner, tenant, other_tenant, db_session):
    for record, zone in ((tenant, "Zaffelare"), (other_tenant, "Elders")):
        set_tenant(db_session, record.id)
        plan_round(db_session, zone, date(2099, 1, 5), 30)
    page = client.get(f"/{tenant.slug}/grofvuil/").text
    assert "Zaffelare" in page
    assert "Elders" not in page
    assert "maximaal 5 stuks" in page


@pytest.mark.plugins("grofvuil")
def test_grofvuil_cli_plans_a_round(runner, tenant, db_session):
    result = runner.invoke(args=["grofvuil", "plan", tenant.slug, "Beervelde", "2099-03-04"])
    assert result.exit_code == 0, result.output
    set_tenant(db_session, tenant.id)
    planned = db_session.scalars(select(Round)).one()
    assert (planned.zone.name, planned.day, planned.capacity) == ("Beervelde", date(2099, 3, 4), 40)


def test_grofvuil_cli_names_an_unknown_municipality(runner, db_session):
    result = runner.invoke(args=["grofvuil", "plan", "nergens", "Zone", "2099-03-04"])
    assert result.exit_code == 1
    assert "municipality 'nergens' does not exist" in result.output


@pytest.fixture
def broken_plugin_on_path(tmp_path, monkeypatch):
    """An installed plugin (a real entry point) whose module raises on import."""
    (tmp_path / "kapotte_plugin.py").write_text("raise RuntimeError('boem bij import')\n")
    dist = tmp_path / "kapotte_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kapotte-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""\
        [fygitaal]
        kapot = kapotte_plugin
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "kapot"


def test_a_plugin_raising_on_import_leaves_the_other_tenants_working(
    broken_plugin_on_path, database_urls, tmp_path, db_session, make_tenant
):
    make_tenant("lochristi", plugins={"grofvuil": {}})
    app = make_test_app(database_urls, tmp_path / "instance")
    registry = app.extensions["fygitaal.plugins"]
    assert "boem bij import" in registry.failed["kapot"]
    assert "grofvuil" in registry.plugins
    with joined_to(app, db_session.connection()):
        client = app.test_client()
        assert client.get("/lochristi/").status_code == 200
        assert client.get("/lochristi/grofvuil/").status_code == 200
        listing = json.loads(CliRunner(app).invoke(args=["plugins", "list", "--json"]).output)
    assert {"name": "kapot", "reason": registry.failed["kapot"]} in listing["failed"]
