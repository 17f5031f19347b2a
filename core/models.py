"""Imports every core model so the metadata Alembic compares against is complete."""

from core.tenancy.models import Department, Region, Tenant

__all__ = ["Department", "Region", "Tenant"]
