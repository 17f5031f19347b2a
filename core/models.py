"""Imports every core model so the metadata Alembic compares against is complete."""

from core.cases.models import Attachment, Case, CaseEvent, CaseFollower, IdempotencyRecord, ReferenceCounter
from core.contact.models import ContactMoment
from core.identity.models import (
    Account,
    ApiClient,
    ApiToken,
    RegionCoordinator,
    StaffMember,
    StaffRole,
    UserSession,
)
from core.knowledge.models import KnowledgeArticle, RegionalArticle
from core.outbox.models import OutboxMessage
from core.profiles.models import (
    AccessLogEntry,
    AccessLogHead,
    ConsentRecord,
    ErasureRequest,
    PreferenceChange,
    Profile,
    ProfileExport,
    Share,
)
from core.tenancy.models import Department, Region, Tenant

__all__ = [
    "AccessLogEntry",
    "AccessLogHead",
    "Account",
    "ApiClient",
    "ApiToken",
    "Attachment",
    "Case",
    "CaseEvent",
    "CaseFollower",
    "ConsentRecord",
    "ContactMoment",
    "Department",
    "ErasureRequest",
    "IdempotencyRecord",
    "KnowledgeArticle",
    "OutboxMessage",
    "PreferenceChange",
    "Profile",
    "ProfileExport",
    "ReferenceCounter",
    "Region",
    "RegionCoordinator",
    "RegionalArticle",
    "Share",
    "StaffMember",
    "StaffRole",
    "Tenant",
    "UserSession",
]
