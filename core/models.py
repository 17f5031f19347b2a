"""Imports every core model so the metadata Alembic compares against is complete."""

from core.identity.models import (
    Account,
    ApiClient,
    ApiToken,
    RegionCoordinator,
    StaffMember,
    StaffRole,
    UserSession,
)
from core.tenancy.models import Department, Region, Tenant

__all__ = [
    "Account",
    "ApiClient",
    "ApiToken",
    "Department",
    "Region",
    "RegionCoordinator",
    "StaffMember",
    "StaffRole",
    "Tenant",
    "UserSession",
]
