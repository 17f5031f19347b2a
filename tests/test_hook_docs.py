"""The hook reference cannot drift from the contract (as Datasette's test_docs.py does)."""

import inspect
import re
from pathlib import Path

from core.plugins import hookspecs
from core.plugins.hookdocs import hook_functions, hook_signature, render_hook_reference

DOCS = Path(__file__).resolve().parent.parent / "docs"
DESIGN_HOOKS = {
    "fygitaal_plugin_manifest", "fygitaal_case_types", "fygitaal_validate_case",
    "fygitaal_case_created", "fygitaal_case_status_changed", "fygitaal_consent_purposes",
    "fygitaal_profile_sections", "fygitaal_export_sections", "fygitaal_erase_profile",
    "fygitaal_notification_channels", "fygitaal_knowledge_articles", "fygitaal_trend_indicators",
    "fygitaal_blueprints", "fygitaal_cli",
}


def test_every_hook_of_the_design_is_in_the_contract():
    assert {f.__name__ for f in hook_functions()} >= DESIGN_HOOKS


def test_every_hook_has_a_heading_with_its_exact_signature():
    reference = (DOCS / "hooks.md").read_text()
    for function in hook_functions():
        heading = f"## `{hook_signature(function)}`"
        assert heading in reference, f"docs/hooks.md lacks {heading}"


def test_every_hook_docstring_ends_with_its_scope():
    for function in hook_functions():
        doc = inspect.cleandoc(function.__doc__ or "")
        last = doc.splitlines()[-1] if doc else ""
        assert re.match(r"Scope: .+\.$", last), f"{function.__name__}: docstring must end with 'Scope: …'"


def test_the_reference_is_the_generated_one():
    """Regenerate with `make hookdocs` after changing core/plugins/hookspecs.py."""
    assert (DOCS / "hooks.md").read_text() == render_hook_reference()


def test_signatures_are_taken_from_the_contract():
    assert hook_signature(hookspecs.fygitaal_cli) == "fygitaal_cli(cli: click.Group) -> None"
