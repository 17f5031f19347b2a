"""The one place that decides what a person may do; views only declare what they need.

Permissions are named after the work (``balie``, ``behandeling``, ``beheer``, ``regio``). A
municipality's permissions come from roles in that municipality; someone who is not active staff
of the municipality in the URL gets 404 (no existence oracle), staff without the role get 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.identity.models import Account, RegionCoordinator, StaffMember
from core.tenancy.models import Tenant

TENANT_PERMISSIONS: dict[str, frozenset[str]] = {
    "onthaal": frozenset({"balie"}),
    "behandelaar": frozenset({"behandeling"}),
    "beheerder": frozenset({"balie", "behandeling", "beheer"}),
}
REGION_PERMISSIONS = frozenset({"regio"})
PERMISSIONS = frozenset().union(*TENANT_PERMISSIONS.values(), REGION_PERMISSIONS)


class Decision(Enum):
    ALLOW = "allow"
    LOGIN = "login"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"


@dataclass
class Principal:
    """Who is asking, and what they are in the municipality of the request."""

    account: Account | None = None
    staff: StaffMember | None = None
    roles: frozenset[str] = frozenset()
    department_ids: frozenset[int] = frozenset()
    region_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_operator(self) -> bool:
        return bool(self.account and self.account.is_operator)

    def permissions(self) -> frozenset[str]:
        granted = frozenset().union(*(TENANT_PERMISSIONS[r] for r in self.roles if r in TENANT_PERMISSIONS))
        if self.region_ids or self.is_operator:
            granted |= REGION_PERMISSIONS
        return granted


def load_principal(db: Session, account_id: int | None, tenant: Tenant | None) -> Principal:
    """Two small queries at most: the account with its regions, and its staff row in ``tenant``."""
    if account_id is None:
        return Principal()
    account = db.get(Account, account_id)
    if account is None:
        return Principal()
    regions = frozenset(db.scalars(
        select(RegionCoordinator.region_id).where(RegionCoordinator.account_id == account.id)
    ))
    staff = None
    if tenant is not None:
        staff = db.scalar(
            select(StaffMember).where(StaffMember.account_id == account.id, StaffMember.active.is_(True))
            .options(selectinload(StaffMember.roles))
        )
    roles = frozenset(r.role for r in staff.roles) if staff else frozenset()
    departments = frozenset(r.department_id for r in staff.roles if r.department_id) if staff else frozenset()
    return Principal(account, staff, roles, departments, regions)


def decide(principal: Principal, permission: str, tenant: Tenant | None) -> Decision:
    """Allow, ask to log in, or refuse with 404 (not staff here) or 403 (staff, wrong role)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if principal.account is None:
        return Decision.LOGIN
    if permission in REGION_PERMISSIONS:
        return Decision.ALLOW if permission in principal.permissions() else Decision.FORBIDDEN
    if tenant is None or principal.staff is None:
        return Decision.NOT_FOUND
    return Decision.ALLOW if permission in principal.permissions() else Decision.FORBIDDEN
