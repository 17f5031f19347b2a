"""Municipalities (tenants): their model, their files in ``tenants/`` and their isolation."""
