"""The test kit's contract: a plugin that stores personal data implements export and erase (DESIGN §5)."""

from core.db import Base
from core.testing.contracts import contract_problems, registry_problems
from core.toolkit import Manifest, hookimpl


def test_every_bundled_plugin_keeps_the_personal_data_contract(app):
    registry = app.extensions["fygitaal.plugins"]
    assert {"grofvuil", "openbare_ruimte"} <= set(registry.plugins)
    assert registry_problems(registry) == []


def test_grofvuil_stores_personal_data_and_implements_both_hooks(app):
    grofvuil = app.extensions["fygitaal.plugins"].plugins["grofvuil"]
    assert grofvuil.manifest.data_categories
    assert {"fygitaal_export_sections", "fygitaal_erase_profile"} <= set(grofvuil.hooks)


class KeepsAddresses:
    """Declares personal data and has a table of its own, but offers no export or erasure."""

    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="adresboek", version="0.1.0", owner="test", maturity="approved",
                        data_categories=("adres",))


class ExportsOnly(KeepsAddresses):
    @hookimpl
    def fygitaal_export_sections(self, session, tenant, profile):
        return []


def test_a_plugin_that_stores_personal_data_without_the_hooks_fails(app, register_plugin):
    info = register_plugin(KeepsAddresses(), "adresboek")
    tables = [*Base.metadata.tables, "adresboek_adres"]
    assert contract_problems(info, tables) == [
        "plugin adresboek stores personal data (adres) but does not implement "
        "fygitaal_export_sections, fygitaal_erase_profile"]


def test_export_alone_is_not_enough(app, register_plugin):
    info = register_plugin(ExportsOnly(), "adresboek")
    problems = contract_problems(info, [*Base.metadata.tables, "adresboek_adres"])
    assert problems == ["plugin adresboek stores personal data (adres) but does not implement fygitaal_erase_profile"]


def test_a_plugin_without_tables_keeps_nothing_itself(app, register_plugin):
    """Its categories describe what its case types collect; the core holds those, and erases them."""
    info = register_plugin(KeepsAddresses(), "adresboek")
    assert contract_problems(info) == []
