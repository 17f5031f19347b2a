"""The plugin registry: discovery, manifests, and per-tenant hook callers.

One :class:`PluginRegistry` per app (kept in ``app.extensions``), built inside ``create_app``. A
plugin that fails to import or has no valid manifest is recorded in ``failed`` and left out; the
other municipalities keep working.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pluggy

from core.plugins import ENTRY_POINT_GROUP, PROJECT_NAME, hookspecs
from core.plugins.manifest import Manifest

log = logging.getLogger(__name__)

# The core's own hook implementations (core.cases.builtin) serve every municipality.
ALWAYS_ENABLED = frozenset({"core"})


@dataclass
class PluginInfo:
    """An installed plugin as the registry knows it."""

    name: str
    module: object
    manifest: Manifest
    hooks: list[str] = field(default_factory=list)


class TenantHooks:
    """Hook callers that reach only the plugins one tenant enabled (pytest's FSHookProxy idea)."""

    def __init__(self, pm: pluggy.PluginManager, excluded: list[object]) -> None:
        self._pm = pm
        self._excluded = excluded
        self._callers: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("fygitaal_"):
            raise AttributeError(name)
        caller = self._callers.get(name)
        if caller is None:
            caller = self._pm.subset_hook_caller(name, remove_plugins=self._excluded)
            self._callers[name] = caller
        return caller


def call_impl(impl: Any, kwargs: dict[str, Any]) -> Any:
    """Call one hook implementation with the arguments it asks for (pluggy's rule)."""
    return impl.function(*(kwargs[name] for name in impl.argnames))


def plugin_directory(entry_point_value: str) -> Path | None:
    """Where a plugin's package lives, found without importing it (for migrations)."""
    module_name = entry_point_value.partition(":")[0]
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


class PluginRegistry:
    """The process's plugin manager and what it learned about each plugin."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.failed: dict[str, str] = {}
        self._tenant_hooks: dict[tuple[int, int], TenantHooks] = {}

    def discover(self) -> None:
        """Load every plugin registered under the ``fygitaal`` entry-point group."""
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in self.plugins or ep.name in self.failed:
                continue
            try:
                module = ep.load()
            except Exception as exc:
                self._fail(ep.name, f"import failed: {type(exc).__name__}: {exc}")
                continue
            self.register(module, ep.name)
        self.check_pending()

    def check_pending(self) -> None:
        """Leave out, by name, each plugin that implements a hook the contract does not know."""
        while True:
            try:
                self.pm.check_pending()
            except pluggy.PluginValidationError as exc:
                name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
                self.unregister(name)
                self._fail(name, f"unknown hook: {exc}")
                continue
            return

    def register(self, module: object, name: str) -> PluginInfo | None:
        """Register one plugin module; record it as failed when its manifest is missing or wrong."""
        try:
            self.pm.register(module, name=name)
        except Exception as exc:
            self._fail(name, f"registration failed: {exc}")
            return None
        try:
            manifest = self.pm.subset_hook_caller(
                "fygitaal_plugin_manifest",
                remove_plugins=[p for p in self.pm.get_plugins() if p is not module],
            )()
        except Exception as exc:
            manifest = None
            reason = f"manifest failed: {type(exc).__name__}: {exc}"
        else:
            reason = "no fygitaal_plugin_manifest hook"
        if not isinstance(manifest, Manifest) or manifest.name != name:
            if isinstance(manifest, Manifest):
                reason = f"manifest names {manifest.name!r}, entry point names {name!r}"
            self.pm.unregister(module)
            self._fail(name, reason)
            return None
        hooks = sorted(c.name for c in self.pm.get_hookcallers(module) or ())
        info = PluginInfo(name=name, module=module, manifest=manifest, hooks=hooks)
        self.plugins[name] = info
        self._tenant_hooks.clear()
        return info

    def unregister(self, name: str) -> None:
        info = self.plugins.pop(name, None)
        if info is not None:
            self.pm.unregister(info.module)
        self.failed.pop(name, None)
        self._tenant_hooks.clear()

    def _fail(self, name: str, reason: str) -> None:
        log.error("plugin %s left out: %s", name, reason)
        self.failed[name] = reason

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a start-up hook plugin by plugin; a plugin that raises is reported and left out."""
        results = []
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            try:
                result = call_impl(impl, kwargs)
            except Exception as exc:
                log.exception("plugin %s: %s failed", impl.plugin_name, hook_name)
                self.unregister(impl.plugin_name)
                self._fail(impl.plugin_name, f"{hook_name} failed: {type(exc).__name__}: {exc}")
                continue
            results.append((impl.plugin_name, result))
        return results

    def forget_tenants(self) -> None:
        """Drop the per-tenant hook callers (they are rebuilt on next use)."""
        self._tenant_hooks.clear()

    def hooks_for(self, tenant: Any) -> TenantHooks:
        """The hook callers for one tenant, cached until its plugin configuration changes."""
        key = (tenant.id, tenant.config_version)
        hooks = self._tenant_hooks.get(key)
        if hooks is None:
            enabled = set(tenant.plugins or {})
            excluded = [info.module for name, info in self.plugins.items()
                        if name not in enabled and name not in ALWAYS_ENABLED]
            hooks = TenantHooks(self.pm, excluded)
            self._tenant_hooks[key] = hooks
        return hooks

    def migration_directories(self) -> list[Path]:
        """Each plugin's ``migrations/versions`` folder, including plugins that failed to import."""
        directories = []
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            base = plugin_directory(ep.value)
            if base is not None and (base / "migrations" / "versions").is_dir():
                directories.append(base / "migrations" / "versions")
        return sorted(directories)
