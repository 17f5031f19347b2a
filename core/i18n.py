"""Languages: Dutch first, French and English; the visitor's choice wins over the browser's."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from urllib.parse import urlsplit

from babel import Locale
from babel.dates import DateTimePattern, get_date_format, get_datetime_format, get_time_format, parse_pattern
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, get_timezone

from core.clock import as_utc
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


def current_language() -> str:
    """The language of the current request's pages (Dutch when none is chosen)."""
    return str(get_locale() or "nl")


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


@dataclass(frozen=True)
class ShortFormats:
    """Babel's short date and date-time patterns for one locale and time zone, parsed once.

    Long lists (the back-office queue shows two dates per row) would otherwise resolve the
    locale, the time zone and the pattern again for every date; the output is the same.
    """

    locale: Locale
    zone: tzinfo
    date_pattern: DateTimePattern
    time_pattern: DateTimePattern
    combined: str

    @classmethod
    def current(cls) -> ShortFormats:
        """The request's formats (cached on ``g``)."""
        formats = g.get("_short_formats")
        if formats is None:
            locale, zone = get_locale(), get_timezone()
            formats = cls(locale, zone, parse_pattern(get_date_format("short", locale=locale)),
                          parse_pattern(get_time_format("short", locale=locale)),
                          str(get_datetime_format("short", locale=locale)))
            g._short_formats = formats
        return formats

    def date_time(self, value: datetime) -> str:
        local = as_utc(value).astimezone(self.zone)
        return (self.combined.replace("{1}", self.date_pattern.apply(local, self.locale))
                .replace("{0}", self.time_pattern.apply(local, self.locale)))

    def date(self, value: date | datetime) -> str:
        if isinstance(value, datetime):
            value = as_utc(value).astimezone(self.zone)
        return self.date_pattern.apply(value, self.locale)


def short_datetime(value: datetime) -> str:
    """The same text as ``value | datetimeformat('short')``, for long lists."""
    return ShortFormats.current().date_time(value)


def short_date(value: date | datetime) -> str:
    """The same text as ``value | dateformat('short')``, for long lists."""
    return ShortFormats.current().date(value)


def init_app(app: Flask, registry: PluginRegistry) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(
        str(d) for d in translation_directories(registry)
    )
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(language_names=LANGUAGE_NAMES)
    app.jinja_env.filters.update(short_datetime=short_datetime, short_date=short_date)
