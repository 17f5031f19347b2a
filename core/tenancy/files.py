"""Reading and validating ``tenants/<slug>.toml``: every error names the file, the field and the fix."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from shapely.geometry import shape

from core.plugins.manager import PluginRegistry
from core.profiles.purposes import CORE_PURPOSES, PurposeSchema

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
RESERVED_SLUGS = frozenset(
    {"api", "open311", "oauth", "mijn", "login", "logout", "static", "healthz", "readyz", "regio",
     "melding", "taal", "beheer", "admin", "delen"}
)
SUPPORTED_LANGUAGES = ("nl", "fr", "en", "de")


class TenantConfigError(Exception):
    """One or more tenant files are invalid; ``messages`` has one line per problem."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


class RegionSchema(Schema):
    slug = fields.String(
        required=True,
        validate=validate.Regexp(SLUG_PATTERN, error="use lower-case letters, digits and '-'"),
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class IdentitySchema(Schema):
    """The identity provider for the municipality's staff; ``platform`` uses the platform's own."""

    provider = fields.String(load_default="platform", validate=validate.OneOf(["platform", "oidc"]))
    issuer = fields.Url(require_tld=False)
    client_id = fields.String()
    client_secret_env = fields.String(
        validate=validate.Regexp(r"^[A-Z][A-Z0-9_]*$", error="name an environment variable")
    )

    @validates_schema
    def _oidc_needs_client(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("provider") == "oidc":
            missing = [k for k in ("issuer", "client_id", "client_secret_env") if not data.get(k)]
            if missing:
                raise ValidationError(
                    f"provider 'oidc' needs {', '.join(missing)}; or use provider = \"platform\"",
                    field_name=missing[0],
                )


class DepartmentSchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{1,39}$", error="use lower-case letters, digits, '_'"),
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CaseTypeOverrideSchema(Schema):
    """A municipality's adjustments to a case type: where it goes, how fast, or not at all."""

    department = fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{1,39}$"))
    target_days = fields.Integer(validate=validate.Range(min=1, max=365))
    enabled = fields.Boolean()


class TenantFileSchema(Schema):
    slug = fields.String(
        required=True,
        validate=validate.Regexp(
            SLUG_PATTERN, error="use 2–40 lower-case letters, digits and '-', starting with a letter"
        ),
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    nis_code = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{5}$", error="give the 5-digit NIS code, e.g. \"44034\""),
    )
    region = fields.Nested(RegionSchema, required=True)
    languages = fields.List(
        fields.String(validate=validate.OneOf(SUPPORTED_LANGUAGES)),
        required=True,
        validate=validate.Length(min=1, error="name at least one language, e.g. [\"nl\"]"),
    )
    boundary = fields.Raw(required=True)
    identity = fields.Nested(IdentitySchema, load_default=lambda: {"provider": "platform"})
    departments = fields.List(fields.Nested(DepartmentSchema), load_default=list)
    plugins = fields.Dict(keys=fields.String(), values=fields.Dict(), load_default=dict)
    case_types = fields.Dict(keys=fields.String(), values=fields.Nested(CaseTypeOverrideSchema),
                             load_default=dict)
    question_days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=365))
    report_anonymise_days = fields.Integer(load_default=365, validate=validate.Range(min=30, max=3650))
    archive_days = fields.Integer(load_default=3650, validate=validate.Range(
        min=365, max=36500, error="give a number of days from {min} (1 year) to {max} (100 years)"))
    purposes = fields.List(fields.Nested(PurposeSchema), load_default=list)


@dataclass
class TenantFile:
    """A validated tenant file, ready to apply."""

    path: Path
    data: dict[str, Any]


def _flatten(errors: Any, prefix: str = "") -> list[str]:
    if isinstance(errors, dict):
        lines: list[str] = []
        for key, value in errors.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            lines.extend(_flatten(value, name))
        return lines
    if isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        return [f"field '{prefix}': {'; '.join(errors)}"]
    return [f"field '{prefix}': {errors}"]


def _load_boundary(value: Any, base: Path) -> dict[str, Any]:
    """A Polygon or MultiPolygon geometry from inline GeoJSON or a file next to the TOML file."""
    hint = "give a path to a GeoJSON file (relative to the TOML file) or an inline geometry table"
    if isinstance(value, str):
        path = (base / value).resolve()
        if not path.is_file():
            raise ValueError(f"file {value!r} not found; {hint}")
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{value!r} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(value, dict):
        raise ValueError(hint)
    if value.get("type") == "FeatureCollection":
        features = value.get("features") or []
        if len(features) != 1:
            raise ValueError("a FeatureCollection must hold exactly one feature, the municipality")
        value = features[0]
    if value.get("type") == "Feature":
        value = value.get("geometry") or {}
    if value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError("the boundary must be a Polygon or MultiPolygon in WGS84")
    try:
        geometry = shape(value)
    except Exception as exc:
        raise ValueError(f"the geometry cannot be read: {exc}") from exc
    if geometry.is_empty or not geometry.is_valid:
        raise ValueError("the geometry is empty or self-intersecting; fix it in a GIS tool")
    return {"type": value["type"], "coordinates": value["coordinates"]}


def _check_plugins(data: dict[str, Any], registry: PluginRegistry) -> list[str]:
    problems = []
    slug = data["slug"]
    for name, settings in sorted(data["plugins"].items()):
        if name in registry.failed:
            problems.append(
                f"plugin '{name}' failed to load ({registry.failed[name]}); fix the plugin or "
                "remove it from [plugins]"
            )
            continue
        info = registry.plugins.get(name)
        if info is None:
            installed = ", ".join(sorted(registry.plugins)) or "none"
            problems.append(
                f"plugin '{name}' is not installed (installed: {installed}); install it or "
                "remove it from [plugins]"
            )
            continue
        manifest = info.manifest
        if not manifest.may_be_enabled_for(slug):
            problems.append(
                f"plugin '{name}' is {manifest.maturity}-only; add {slug} to its pilot tenants "
                "or remove it"
            )
        try:
            data["plugins"][name] = manifest.settings_schema().load(settings)
        except ValidationError as exc:
            problems.extend(_flatten(exc.messages, f"plugins.{name}"))
    return problems


def _check_purposes(data: dict[str, Any]) -> list[str]:
    """A municipality adds purposes; it cannot redefine the core's or declare one twice."""
    core_codes = {p["code"] for p in CORE_PURPOSES}
    problems, seen = [], set()
    for index, purpose in enumerate(data["purposes"]):
        code = purpose["code"]
        if code in core_codes:
            problems.append(f"field 'purposes.{index}.code': {code!r} is a core purpose; choose another code")
        elif code in seen:
            problems.append(f"field 'purposes.{index}.code': {code!r} is declared twice; keep one")
        seen.add(code)
    return problems


def read_tenant_file(path: Path, registry: PluginRegistry) -> tuple[TenantFile | None, list[str]]:
    """Parse and validate one file; return it, or the problems (each naming field and fix)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        return None, [f"{path}: not valid TOML: {exc}"]
    try:
        data = TenantFileSchema().load(raw)
    except ValidationError as exc:
        return None, [f"{path}: {line}" for line in _flatten(exc.messages)]
    problems = []
    if data["slug"] != path.stem:
        problems.append(
            f"field 'slug': {data['slug']!r} differs from the file name; rename the file to "
            f"{data['slug']}.toml or change the slug"
        )
    if data["slug"] in RESERVED_SLUGS:
        problems.append(f"field 'slug': {data['slug']!r} is reserved for the platform; choose another")
    try:
        data["boundary"] = _load_boundary(data["boundary"], path.parent)
    except ValueError as exc:
        problems.append(f"field 'boundary': {exc}")
    problems.extend(_check_plugins(data, registry))
    problems.extend(_check_purposes(data))
    if problems:
        return None, [f"{path}: {line}" for line in problems]
    return TenantFile(path=path, data=data), []


def read_tenant_directory(directory: Path, registry: PluginRegistry) -> list[TenantFile]:
    """Read every ``*.toml`` file; raise :class:`TenantConfigError` listing all problems at once."""
    if not directory.is_dir():
        raise TenantConfigError([f"{directory}: not a directory; give the folder with tenant files"])
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise TenantConfigError([f"{directory}: no *.toml tenant files found"])
    files, problems = [], []
    for path in paths:
        tenant_file, file_problems = read_tenant_file(path, registry)
        problems.extend(file_problems)
        if tenant_file is not None:
            files.append(tenant_file)
    problems.extend(_cross_file_problems(files))
    if problems:
        raise TenantConfigError(problems)
    return files


def _cross_file_problems(files: list[TenantFile]) -> list[str]:
    problems = []
    seen: dict[tuple[str, str], Path] = {}
    region_names: dict[str, tuple[str, Path]] = {}
    for tenant_file in files:
        data = tenant_file.data
        key = ("nis_code", data["nis_code"])
        if key in seen:
            problems.append(
                f"{tenant_file.path}: field 'nis_code': {key[1]!r} is already used by "
                f"{seen[key]}; each municipality has its own"
            )
        seen[key] = tenant_file.path
        region = data["region"]
        known = region_names.setdefault(region["slug"], (region["name"], tenant_file.path))
        if known[0] != region["name"]:
            problems.append(
                f"{tenant_file.path}: field 'region.name': {region['name']!r} differs from "
                f"{known[0]!r} in {known[1]}; use one name per region"
            )
    return problems
