"""What /mijn shows: a person's profiles in every municipality with what each holds about them.

One query per kind of thing for all profiles together (never one per profile or per case), so
the page stays cheap however long the person's history grows; each list keeps only the newest
rows and links to the full page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from core.cases.models import Case
from core.contact.models import ContactMoment
from core.profiles.models import AccessLogEntry, ConsentRecord, Profile
from core.profiles.purposes import Consents, catalogue_for
from core.profiles.service import profiles_of_account
from core.tenancy.isolation import across_tenants
from core.tenancy.models import Tenant

CASE_LIMIT = 200  # over all municipalities, the newest first
CONTACT_LIMIT = 20  # per profile
ACCESS_LIMIT = 5  # per profile; the full log has its own page


@dataclass
class ProfileOverview:
    profile: Profile
    tenant: Tenant
    cases: list[Case]
    contact_moments: list[ContactMoment]
    consents: Consents
    access: list[AccessLogEntry]


def _newest(model: Any, pairs: list[tuple[int, int]], limit: int, *, per: tuple[Any, ...] = (),
            order: tuple[Any, ...] = ()) -> Select[Any]:
    """The newest ``limit`` rows of ``model`` per profile (and per ``per``), newest first."""
    newest_first = (*order, model.id.desc())
    rank = func.row_number().over(partition_by=(model.tenant_id, model.profile_id, *per),
                                  order_by=newest_first).label("rank")
    ranked = select(model, rank).where(tuple_(model.tenant_id, model.profile_id).in_(pairs)).subquery()
    row = aliased(model, ranked)
    return select(row).where(ranked.c.rank <= limit).order_by(ranked.c.id.desc())


def overview_for(db: Session, account_id: int) -> list[ProfileOverview]:
    """The account's profiles, each with its cases, contact moments, consents and newest access rows."""
    found = profiles_of_account(db, account_id)
    if not found:
        return []
    pairs = [(profile.tenant_id, profile.id) for profile, _tenant in found]
    with across_tenants(db, "a resident's own cases, contacts, consents and access log (/mijn)"):
        cases = list(db.scalars(
            select(Case).where(or_(tuple_(Case.tenant_id, Case.profile_id).in_(pairs),
                                   Case.reporter_account_id == account_id))
            .order_by(Case.created_at.desc(), Case.id.desc()).limit(CASE_LIMIT)))
        moments = list(db.scalars(_newest(ContactMoment, pairs, CONTACT_LIMIT,
                                          order=(ContactMoment.created_at.desc(),))))
        latest = list(db.scalars(_newest(ConsentRecord, pairs, 1, per=(ConsentRecord.purpose_code,))))
        access = list(db.scalars(_newest(AccessLogEntry, pairs, ACCESS_LIMIT)))
    overviews = []
    for profile, tenant in found:  # the catalogue comes from plugins: asked outside the cross-tenant block
        overviews.append(ProfileOverview(
            profile=profile, tenant=tenant,
            cases=[c for c in cases if c.tenant_id == tenant.id],
            contact_moments=[m for m in moments if m.profile_id == profile.id],
            consents=Consents(catalogue_for(tenant),
                              {r.purpose_code: r for r in latest if r.profile_id == profile.id}),
            access=[e for e in access if e.tenant_id == tenant.id and e.profile_id == profile.id],
        ))
    return overviews
