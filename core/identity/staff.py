"""Service functions for a municipality's staff: grant and revoke roles, deactivate, list.

Used by the ``fygitaal staff`` commands and by the municipal admin's page alike. The session must
be scoped to the municipality (``set_tenant``).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.identity.models import TENANT_ROLES, Account, RegionCoordinator, StaffMember, StaffRole
from core.identity.service import account_for, end_all_sessions
from core.tenancy.models import Department, Region


class StaffError(ValueError):
    """A grant or revocation that cannot be done; the message (in the reader's language) says
    why and what to do."""


def list_staff(db: Session) -> list[StaffMember]:
    return list(db.scalars(
        select(StaffMember).join(StaffMember.account).order_by(Account.name, Account.subject)
        .options(selectinload(StaffMember.roles).selectinload(StaffRole.department),
                 selectinload(StaffMember.account))
    ))


def _department(db: Session, role: str, code: str | None) -> Department | None:
    if role != "behandelaar":
        if code:
            raise StaffError(_(
                "Alleen een behandelaar werkt voor een dienst; laat de dienst leeg voor %(role)s.", role=role
            ))
        return None
    if not code:
        raise StaffError(_("Een behandelaar heeft een dienst nodig; kies er een."))
    department = db.scalar(select(Department).where(Department.code == code))
    if department is None:
        codes = ", ".join(db.scalars(select(Department.code).order_by(Department.code)))
        raise StaffError(_("Dienst %(code)s bestaat niet; kies uit: %(codes)s.", code=code, codes=codes))
    return department


def grant_role(db: Session, issuer: str, subject: str, role: str, department_code: str | None = None,
               name: str = "") -> StaffRole:
    """Give a person (by their provider's subject) a role; they become active staff."""
    if role not in TENANT_ROLES:
        roles = ", ".join(TENANT_ROLES)
        raise StaffError(_("Onbekende rol %(role)s; kies uit: %(roles)s.", role=role, roles=roles))
    subject = subject.strip()
    if not subject or len(subject) > 255:
        raise StaffError(_("Vul het aanmeld-id van de persoon in (zoals bij de identiteitsprovider)."))
    department = _department(db, role, department_code)
    account = account_for(db, issuer, subject)
    if name and not account.name:
        account.name = name[:200]
    staff = db.scalar(select(StaffMember).where(StaffMember.account_id == account.id))
    if staff is None:
        staff = StaffMember(account_id=account.id, active=True)
        db.add(staff)
        db.flush()
    staff.active = True
    department_id = department.id if department else None
    if any(r.role == role and r.department_id == department_id for r in staff.roles):
        where = f" ({department_code})" if department else ""
        raise StaffError(_("%(who)s heeft de rol %(role)s%(where)s al.", who=subject, role=role, where=where))
    granted = StaffRole(staff_id=staff.id, role=role, department_id=department_id)
    staff.roles.append(granted)
    db.flush()
    return granted


def revoke_role(db: Session, staff_id: int, role_id: int) -> None:
    """Take one role away (permissions are read on every request, so it holds at once)."""
    staff = db.get(StaffMember, staff_id)
    role = next((r for r in staff.roles if r.id == role_id), None) if staff else None
    if staff is None or role is None:
        raise StaffError(_("Deze medewerker heeft die rol niet."))
    staff.roles.remove(role)
    db.flush()


def revoke_named_role(db: Session, issuer: str, subject: str, role: str,
                      department_code: str | None = None) -> None:
    """Revoke by name (the command line): the person's ``role``, for ``department_code``."""
    staff = staff_by_subject(db, issuer, subject)
    department = _department(db, role, department_code) if role in TENANT_ROLES else None
    department_id = department.id if department else None
    match = next((r for r in staff.roles if r.role == role and r.department_id == department_id), None)
    if match is None:
        raise StaffError(_("%(who)s heeft de rol %(role)s niet.", who=subject, role=role))
    revoke_role(db, staff.id, match.id)


def set_active(db: Session, staff_id: int, active: bool) -> StaffMember:
    """Deactivate (ending every session of the person) or reactivate a staff member."""
    staff = db.get(StaffMember, staff_id)
    if staff is None:
        raise StaffError(_("Deze medewerker bestaat niet."))
    staff.active = active
    db.flush()
    if not active:
        end_all_sessions(db, staff.account_id)
    return staff


def staff_by_subject(db: Session, issuer: str, subject: str) -> StaffMember:
    staff = db.scalar(select(StaffMember).join(StaffMember.account)
                      .where(Account.issuer == issuer, Account.subject == subject))
    if staff is None:
        raise StaffError(_("%(who)s is geen medewerker van deze gemeente.", who=subject))
    return staff


def grant_coordinator(db: Session, region: Region, issuer: str, subject: str, name: str = "") -> None:
    """A regional coordinator sees aggregates across the region's municipalities."""
    account = account_for(db, issuer, subject)
    if name and not account.name:
        account.name = name[:200]
    exists = db.scalar(select(RegionCoordinator.id).where(
        RegionCoordinator.region_id == region.id, RegionCoordinator.account_id == account.id))
    if exists:
        raise StaffError(_("%(who)s coördineert %(region)s al.", who=subject, region=region.slug))
    db.add(RegionCoordinator(region_id=region.id, account_id=account.id))
    db.flush()
