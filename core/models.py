"""Imports every core model so the metadata Alembic compares against is complete."""

from core.cases.models import Attachment, Case, CaseEvent, CaseFollower, IdempotencyRecord, ReferenceCounter
from core.identity.models import (
    Account,
    ApiClient,
    ApiToken,
    RegionCoordinator,
    StaffMember,
    StaffRole,
    UserSession,
)
from core.outbox.models import OutboxMessage
from core.tenancy.models import Department, Region, Tenant

__all__ = [
    "Account",
    "ApiClient",
    "ApiToken",
    "Attachment",
    "Case",
    "CaseEvent",
    "CaseFollower",
    "Department",
    "IdempotencyRecord",
    "OutboxMessage",
    "ReferenceCounter",
    "Region",
    "RegionCoordinator",
    "StaffMember",
    "StaffRole",
    "Tenant",
    "UserSession",
]
