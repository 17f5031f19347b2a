"""Demo residents for the front office: with and without an account, offline residents with a postal
address, consents given at the desk, and contact moments on every channel.

Everything goes through the real services (profiles, consent, intake, contact moments), so the 360°
view, the print queue and /mijn show it as they would show real work. A municipality that already has
desk-made profiles is left alone, so ``fygitaal demo`` can call this on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.demo_data import POSTCODES
from core.cases.intake import IntakeRequest, submit_case
from core.cases.types import case_types_for
from core.clock import now as clock_now
from core.contact.service import register_contact_moment
from core.identity.models import Account
from core.profiles.models import Profile
from core.profiles.service import Actor, create_desk_profile, ensure_profile, record_consent
from core.tenancy.models import Tenant
from core.tenancy.service import working_for

DESK = Actor("medewerker", "balie")
PHONE = Actor("medewerker", "telefoon")


@dataclass(frozen=True)
class DemoResident:
    name: str
    birth_date: str
    street: str
    email: str = ""
    phone: str = ""
    offline: bool = False
    preferred: str | None = None
    needs: str = ""
    consents: tuple[str, ...] = ()
    question: str = ""  # a question filed on their behalf, answered by letter when offline
    contacts: tuple[tuple[str, str, str, str], ...] = ()  # channel, topic, summary, outcome


DESK_RESIDENTS = (
    DemoResident("Maria Van den Bossche", "1938-04-12", "Kerkstraat 4", phone="09 355 12 34", offline=True,
                 preferred="brief", needs="Slechthorend: spreek traag en kijk haar aan.", consents=("ondersteuning",),
                 question="Wanneer wordt het grofvuil opgehaald in mijn straat? Ik heb geen internet.",
                 contacts=(("balie", "Vraag over grofvuil", "Kwam met haar buurvrouw langs; vraag geregistreerd.",
                            "melding_aangemaakt"),
                           ("telefoon", "Belde terug over de brief", "Heeft de brief goed ontvangen.", "beantwoord"))),
    DemoResident("Jozef De Smet", "1946-11-02", "Molenstraat 17", phone="+32 9 355 98 76", offline=True,
                 preferred="telefoon", consents=("contact_telefoon",),
                 contacts=(("huisbezoek", "Hulp bij aanvraag parkeerkaart", "Formulier samen ingevuld bij hem thuis.",
                            "afspraak"),)),
    DemoResident("Fatima Benali", "1979-06-23", "Stationsstraat 8", email="fatima.benali@example.org",
                 phone="0470 12 34 56", preferred="e-mail", consents=("contact_email", "contact_telefoon"),
                 contacts=(("chat", "Openingsuren containerpark", "Uren doorgegeven.", "beantwoord"),
                           ("e-mail", "Vraag over identiteitskaart", "Doorverwezen naar burgerzaken voor een afspraak.",
                            "doorverwezen"))),
)
ACCOUNT_CONTACTS = (("telefoon", "Vraag over haar melding", "Stand van zaken uitgelegd.", "beantwoord"),)


def _address(street: str, tenant: Tenant) -> str:
    return f"{street}\n{POSTCODES.get(tenant.slug, '9000')} {tenant.name}"


def _contacts(db: Session, profile: Profile, contacts: tuple[tuple[str, str, str, str], ...], start: datetime,
              case_id: int | None = None) -> None:
    for index, (channel, topic, summary, outcome) in enumerate(contacts):
        register_contact_moment(db, profile, channel=channel, topic=topic, summary=summary, case_reference="",
                                outcome=outcome, staff_id=None, at=start + timedelta(days=2 * index, hours=1),
                                case_id=case_id if outcome == "melding_aangemaakt" else None)


def _desk_resident(db: Session, tenant: Tenant, resident: DemoResident, secret: str, at: datetime) -> None:
    actor = PHONE if resident.offline and resident.preferred == "telefoon" else DESK
    profile = create_desk_profile(db, tenant, {
        "name": resident.name, "birth_date": resident.birth_date, "address": _address(resident.street, tenant),
        "email": resident.email, "phone": resident.phone, "preferred_channel": resident.preferred,
        "no_digital_contact": resident.offline, "assistance_needs": resident.needs,
    }, instance_secret=secret, national_number_raw=None, actor=actor, at=at)
    for code in resident.consents:
        record_consent(db, tenant, profile, code, True, actor=actor, language="nl", at=at)
    case_id = None
    if resident.question and "vraag" in case_types_for(tenant):
        case_id = submit_case(db, tenant, IntakeRequest(
            type_code="vraag", description=resident.question, reporter_name=profile.name,
            reporter_address=profile.address, profile_id=profile.id, preferred_channel=resident.preferred),
            channel="balie", actor="staff:balie", at=at + timedelta(hours=1)).case.id
    _contacts(db, profile, resident.contacts, at, case_id)


def _account_resident(db: Session, tenant: Tenant, issuer: str, subject: str, name: str, at: datetime) -> None:
    """A resident who logs in: their profile here, as their first login would make it, with a contact moment."""
    account = db.scalar(select(Account).where(Account.issuer == issuer, Account.subject == subject))
    if account is None:
        account = Account(issuer=issuer, subject=subject, name=name, email=f"{subject}@demo.fygitaal.be")
        db.add(account)
        db.flush()
    if db.scalar(select(Profile.id).where(Profile.account_id == account.id)) is not None:
        return
    profile = ensure_profile(db, account, at)
    record_consent(db, tenant, profile, "contact_email", True, actor=Actor.resident(), language="nl", at=at)
    _contacts(db, profile, ACCOUNT_CONTACTS, at)


def seed_demo_contacts(app: Flask, tenants: list[str], residents: tuple[tuple[str, str], ...], issuer: str) -> int:
    """Desk-made and account residents in each municipality that has no desk-made profile yet;
    returns how many profiles were made. Runs in an app and request context (services translate)."""
    created = 0
    at = clock_now() - timedelta(days=40)
    for slug in tenants:
        with working_for(slug) as (db, tenant):
            if db.scalar(select(Profile.id).where(Profile.created_by == "medewerker").limit(1)) is not None:
                continue
            for resident in DESK_RESIDENTS:
                _desk_resident(db, tenant, resident, app.config["SECRET_KEY"], at)
            for subject, name in residents:
                _account_resident(db, tenant, issuer, subject, name, at)
            created += len(DESK_RESIDENTS) + len(residents)
            click.echo(f"  {tenant.name}: {len(DESK_RESIDENTS)} residents without an account (2 offline), "
                       f"{len(residents)} with one")
    return created
