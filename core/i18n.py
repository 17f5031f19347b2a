"""Languages: Dutch first, French and English; the visitor's choice wins over the browser's."""

from __future__ import annotations

import inspect
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel

from core.plugins.manager import PluginRegistry

LANGUAGE_COOKIE = "taal"
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English"}


def select_locale() -> str:
    """The visitor's choice, else the browser's; Dutch outside a request (CLI, worker)."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages, default=languages[0])


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Only a local path may be a redirect target (no open redirects)."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def translation_directories(registry: PluginRegistry) -> list[Path]:
    """The core's catalogues first, then each plugin's own ``translations/`` folder."""
    core_dir = Path(__file__).resolve().parent / "translations"
    plugin_dirs = [
        Path(inspect.getfile(info.module)).parent / "translations"  # type: ignore[arg-type]
        for info in registry.plugins.values()
        if inspect.ismodule(info.module)
    ]
    return [core_dir, *(d for d in plugin_dirs if d.is_dir())]


def init_app(app: Flask, registry: PluginRegistry) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(
        str(d) for d in translation_directories(registry)
    )
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(language_names=LANGUAGE_NAMES)
