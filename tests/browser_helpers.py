"""The people and records the browser check's pages need, made through the real services.

Kept apart from ``test_browser.py`` so the test file reads as the pages a person visits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Flask

from core.cases.intake import IntakeRequest, submit_case
from core.contact.service import open_profile, register_contact_moment
from core.db import utcnow
from core.identity.service import account_for
from core.identity.staff import grant_coordinator, staff_by_subject
from core.knowledge.demo_data import seed_demo_knowledge
from core.knowledge.service import ArticleContent, create_regional
from core.profiles.erasure import request_erasure
from core.profiles.export import build_waiting, request_export
from core.profiles.service import Actor, create_desk_profile, ensure_profile, record_consent, update_preferences
from core.profiles.share import ANYONE, ShareRequest, create_share, revoke_share
from core.tenancy.service import working_for

RESIDENT = "inwoner-an"  # logs in at /login
COORDINATOR = "veneco-coordinator"  # coordinates lochristi's region, logs in at /login
ONTHAAL = "lochristi-onthaal"
DESK_NATIONAL_NUMBER = "50030201229"  # valid check digits (born 1950-03-02)


@dataclass(frozen=True)
class World:
    """What the tests look up: who to log in as and which records exist."""

    resident_name: str
    resident_birth_date: str
    resident_profile_id: int
    desk_profile_id: int
    question_reference: str


def seed_world(app: Flask, issuer: str) -> World:
    """A resident with a full profile in Lochristi, a desk-made offline profile with an erasure request,
    knowledge articles (one regional article left to adopt) and a regional coordinator."""
    at = utcnow() - timedelta(days=2)
    seed_demo_knowledge(app, ["lochristi"])
    with app.test_request_context(), working_for("lochristi") as (db, tenant):  # the services translate
        onthaal = staff_by_subject(db, issuer, ONTHAAL)
        account = account_for(db, issuer, RESIDENT)
        account.name, account.email = "An Peeters", "an.peeters@example.be"
        profile = ensure_profile(db, account, at)
        update_preferences(db, profile, {
            "birth_date": "1980-05-17", "address": "Kerkstraat 1\n9080 Lochristi", "phone": "09 355 00 00",
            "preferred_channel": "e-mail", "assistance_needs": "Liefst korte zinnen.",
        }, actor=Actor.resident(), at=at)
        record_consent(db, tenant, profile, "contact_email", True, actor=Actor.resident(), language="nl", at=at)
        question = submit_case(db, tenant, IntakeRequest(
            type_code="vraag", description="Wanneer wordt het afval opgehaald in de Kerkstraat?",
            reporter_account_id=account.id), channel="web", actor="burger", at=at).case
        register_contact_moment(db, profile, channel="telefoon", topic="Vraag over de ophaling",
                                summary="Ophaalkalender uitgelegd.", case_reference=question.reference,
                                outcome="beantwoord", staff_id=onthaal.id, at=at + timedelta(hours=1))
        open_profile(db, tenant, profile, instance_secret=app.config["SECRET_KEY"],
                     staff_label="Omar Onthaal (onthaal)", reason="aan de telefoon",
                     shown=["name", "email", "toestemmingen", "meldingen", "contactmomenten"],
                     at=at + timedelta(hours=1))
        revoked, _token = create_share(db, profile, ShareRequest(
            fields=["name"], case_ids=[], recipient=ANYONE, purpose="Inschrijving sportkamp",
            window_minutes="15", max_views="1"), at=at)
        revoke_share(db, revoked, at + timedelta(minutes=1))  # so the page lists a past share too
        request_export(db, account.id, language="nl", at=at)

        desk = create_desk_profile(db, tenant, {
            "name": "Maria Claes", "birth_date": "1950-03-02", "address": "Molenstraat 3\n9080 Lochristi",
            "phone": "09 355 11 22", "preferred_channel": "brief", "no_digital_contact": True,
            "assistance_needs": "Slechthorend.",
        }, instance_secret=app.config["SECRET_KEY"], national_number_raw=DESK_NATIONAL_NUMBER,
            actor=Actor.staff(onthaal.id, "balie"), at=at)
        record_consent(db, tenant, desk, "ondersteuning", True, actor=Actor.staff(onthaal.id, "balie"),
                       language="nl", at=at)
        request_erasure(db, tenant, desk, ["ondersteuning"], at + timedelta(hours=2))

        create_regional(db, tenant.region_id, "afval-sorteren", ArticleContent(
            {"nl": "Hoe sorteer ik mijn afval?"},
            {"nl": "Restafval, PMD, papier en karton en gft gaan elk in hun eigen zak of container."},
            ("afval",)), at)
        grant_coordinator(db, tenant.region, issuer, COORDINATOR, name="Carla Coördinator")
        world = World("An Peeters", "1980-05-17", profile.id, desk.id, question.reference)
    build_waiting(app)  # the earlier export is ready, so /mijn/export lists a finished one
    return world
