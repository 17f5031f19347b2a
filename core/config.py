"""Configuration from ``FYGITAAL_*`` environment variables, with safe defaults for development."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says which variable to set."""


def _parse_host_map(raw: str) -> dict[str, str]:
    """``host=slug,host=slug`` → ``{host: slug}`` for municipalities served on their own domain."""
    mapping: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in raw.split(","))):
        host, sep, slug = pair.partition("=")
        if not sep or not host.strip() or not slug.strip():
            raise ConfigError(
                f"FYGITAAL_HOST_MAP: {pair!r} is not 'host=slug'; "
                "write it as 'meldingen.lochristi.be=lochristi'"
            )
        mapping[host.strip().lower()] = slug.strip()
    return mapping


def _instance_secret(instance_path: Path) -> str:
    """A development secret kept in ``instance/`` so restarts keep sessions valid."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask configuration: environment first, then explicit overrides (tests)."""
    env = os.environ
    overrides = dict(overrides or {})
    mode = overrides.pop("ENV", env.get("FYGITAAL_ENV", "development"))
    if mode not in ENVIRONMENTS:
        raise ConfigError(f"FYGITAAL_ENV={mode!r} is unknown; use one of {', '.join(ENVIRONMENTS)}")
    default_db = f"sqlite:///{instance_path / 'fygitaal.db'}"
    database_url = env.get("FYGITAAL_DATABASE_URL", default_db)
    config: dict[str, Any] = {
        "ENV": mode,
        "SECRET_KEY": env.get("FYGITAAL_SECRET_KEY"),
        "DATABASE_URL": database_url,
        "MIGRATION_DATABASE_URL": env.get("FYGITAAL_MIGRATION_DATABASE_URL", database_url),
        "BASE_URL": env.get("FYGITAAL_BASE_URL", "http://127.0.0.1:5000"),
        "HOST_MAP": _parse_host_map(env.get("FYGITAAL_HOST_MAP", "")),
        "TENANTS_DIR": env.get("FYGITAAL_TENANTS_DIR", "tenants"),
        "TRUSTED_PROXIES": int(env.get("FYGITAAL_TRUSTED_PROXIES", "0")),
        "MAX_CONTENT_LENGTH": int(env.get("FYGITAAL_MAX_CONTENT_LENGTH", str(30 * 1024 * 1024))),
        "MAX_PHOTO_BYTES": int(env.get("FYGITAAL_MAX_PHOTO_BYTES", str(5 * 1024 * 1024))),
        "STORAGE_PATH": env.get("FYGITAAL_STORAGE_PATH", ""),
        "SMTP_HOST": env.get("FYGITAAL_SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(env.get("FYGITAAL_SMTP_PORT", "25")),
        "MAIL_FROM": env.get("FYGITAAL_MAIL_FROM", "noreply@fygitaal.invalid"),
        "SMTP_STARTTLS": env.get("FYGITAAL_SMTP_STARTTLS", "0") == "1",
        "SMTP_USERNAME": env.get("FYGITAAL_SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("FYGITAAL_SMTP_PASSWORD", ""),
        "SMTP_TIMEOUT": float(env.get("FYGITAAL_SMTP_TIMEOUT", "10")),
        "LETTER_FONT_DIR": env.get("FYGITAAL_LETTER_FONT_DIR", "/usr/share/fonts/truetype/dejavu"),
        "OIDC_ISSUER": env.get("FYGITAAL_OIDC_ISSUER", ""),
        "OIDC_CLIENT_ID": env.get("FYGITAAL_OIDC_CLIENT_ID", ""),
        "OIDC_CLIENT_SECRET": env.get("FYGITAAL_OIDC_CLIENT_SECRET", ""),
        "OIDC_NATIONAL_NUMBER_CLAIM": env.get("FYGITAAL_OIDC_NATIONAL_NUMBER_CLAIM", "rrn"),
        "SESSION_IDLE_MINUTES": int(env.get("FYGITAAL_SESSION_IDLE_MINUTES", "30")),
        "SESSION_LIFETIME_HOURS": int(env.get("FYGITAAL_SESSION_LIFETIME_HOURS", "12")),
        "API_TOKEN_MINUTES": int(env.get("FYGITAAL_API_TOKEN_MINUTES", "60")),
        "RATELIMIT_STORAGE_URI": env.get("FYGITAAL_RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_LOGIN": env.get("FYGITAAL_RATELIMIT_LOGIN", "10 per minute"),
        "RATELIMIT_TOKEN": env.get("FYGITAAL_RATELIMIT_TOKEN", "30 per minute"),
        "RATELIMIT_POST": env.get("FYGITAAL_RATELIMIT_POST", "60 per minute"),
        "BABEL_DEFAULT_LOCALE": "nl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Brussels",
        "LANGUAGES": ("nl", "fr", "en"),
    }
    config.update(overrides)
    config["ENV"] = mode
    if not config["SECRET_KEY"]:
        if mode == "production":
            raise ConfigError(
                "FYGITAAL_SECRET_KEY is not set: production refuses to start without an explicit "
                "secret key. Set it to a long random value, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        config["SECRET_KEY"] = _instance_secret(instance_path)
    secure = mode == "production"
    config.update(
        SESSION_COOKIE_NAME="__Host-fygitaal" if secure else "fygitaal",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        DEBUG=False,
    )
    return config
