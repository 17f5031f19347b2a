"""The regional console: municipalities of the region, in aggregate (never personal data)."""
