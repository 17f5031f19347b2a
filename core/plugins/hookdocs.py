"""Renders docs/hooks.md from the hookspec docstrings, so the reference cannot drift."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from core.plugins import hookspecs

HEADER = """# Hook reference

Generated from `core/plugins/hookspecs.py` by `fygitaal plugins hookdocs > docs/hooks.md`; do not
edit by hand (`tests/test_hook_docs.py` fails when the two differ). How to write a plugin:
[plugins.md](plugins.md).

Implement a hook with the same name in your plugin module, marked with `@hookimpl` from
`core.toolkit`. An implementation may accept fewer arguments than the hook offers.
"""


def hook_functions() -> list[Callable[..., Any]]:
    """Every hookspec, in the order of the contract file."""
    return [
        value for name, value in vars(hookspecs).items()
        if name.startswith("fygitaal_") and callable(value)
    ]


def hook_signature(function: Callable[..., Any]) -> str:
    """``name(arg: Type, …) -> Return``, with the annotations as written in the contract."""
    signature = inspect.signature(function)
    params = ", ".join(
        f"{p.name}: {p.annotation}" if p.annotation is not inspect.Parameter.empty else p.name
        for p in signature.parameters.values()
    )
    result = signature.return_annotation
    return f"{function.__name__}({params}) -> {result}"


def render_hook_reference() -> str:
    sections = [HEADER]
    for function in hook_functions():
        doc = inspect.cleandoc(function.__doc__ or "")
        options = getattr(function, "fygitaal_spec", {}) or {}
        first = " (first result)" if options.get("firstresult") else ""
        sections.append(f"## `{hook_signature(function)}`{first}\n\n{doc}\n")
    return "\n".join(sections)
