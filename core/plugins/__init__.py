"""The plugin contract's markers; the hooks themselves are in :mod:`core.plugins.hookspecs`."""

import pluggy

PROJECT_NAME = "fygitaal"
ENTRY_POINT_GROUP = "fygitaal"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
