"""Contract checks the test kit offers plugin authors (DESIGN.md section 5).

A plugin that stores personal data must let residents take it home and have it erased: it
implements ``fygitaal_export_sections`` and ``fygitaal_erase_profile``. "Stores personal data"
means its manifest declares data categories and it owns tables (named ``<plugin>_…``, as every
plugin table is); a plugin that only offers case types keeps nothing itself, the core does.

In a plugin's own tests::

    from core.testing.contracts import contract_problems

    def test_my_plugin_keeps_the_contract(app):
        assert contract_problems(app.extensions["fygitaal.plugins"].plugins["mijnplugin"]) == []
"""

from __future__ import annotations

from collections.abc import Iterable

from core.db import Base
from core.plugins.manager import PluginInfo, PluginRegistry

PERSONAL_DATA_HOOKS = ("fygitaal_export_sections", "fygitaal_erase_profile")


def stores_personal_data(info: PluginInfo, tables: Iterable[str] | None = None) -> bool:
    """Does the plugin declare personal-data categories and own tables to keep them in?"""
    names = Base.metadata.tables if tables is None else tables
    return bool(info.manifest.data_categories) and any(name.startswith(f"{info.name}_") for name in names)


def contract_problems(info: PluginInfo, tables: Iterable[str] | None = None) -> list[str]:
    """What one plugin lacks, in words a plugin author can act on (empty when it keeps the contract)."""
    if not stores_personal_data(info, tables):
        return []
    missing = [hook for hook in PERSONAL_DATA_HOOKS if hook not in info.hooks]
    if not missing:
        return []
    return [f"plugin {info.name} stores personal data ({', '.join(info.manifest.data_categories)}) "
            f"but does not implement {', '.join(missing)}"]


def registry_problems(registry: PluginRegistry) -> list[str]:
    """The contract problems of every installed plugin."""
    return [problem for _name, info in sorted(registry.plugins.items()) for problem in contract_problems(info)]
