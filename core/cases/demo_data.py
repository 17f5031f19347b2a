"""Realistic demo cases: filed and handled through the real services, spread over six months.

:func:`seed_demo_cases` files meldingen and vragen for each demo municipality through
:func:`core.cases.intake.submit_case` (every channel, anonymous and named reporters, residents who
want letters, points inside the municipality's boundary) and then moves them through their
lifecycle with :mod:`core.cases.handling`, so every state and every resolution occurs. It replays
everything in time order, like a small simulation: the case filed first gets the first reference,
and every event happens after the ones before it. A municipality that already has cases is left
alone, so ``fygitaal demo`` can call it on every run.
"""

from __future__ import annotations

import math
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Flask
from shapely.geometry import Point, shape
from shapely.prepared import prep
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import following, geo
from core.cases.handling import (
    add_information,
    add_note,
    assign,
    change_state,
    give_satisfaction,
    merge,
    message_resident,
    request_reopen,
)
from core.cases.intake import IntakeRequest, nearby_open_cases, submit_case
from core.cases.models import Case
from core.cases.types import CaseType, case_types_for
from core.clock import now as clock_now
from core.identity.models import StaffMember, StaffRole
from core.tenancy.models import Tenant
from core.tenancy.service import working_for

HISTORY_DAYS = 182

STREETS = (
    "Kerkstraat", "Dorpsstraat", "Stationsstraat", "Molenstraat", "Schoolstraat", "Beekstraat",
    "Nieuwstraat", "Kapellestraat", "Veldstraat", "Heirweg", "Meersstraat", "Lindenlaan",
    "Bosstraat", "Kouter", "Hoogstraat", "Zandstraat", "Kasteelstraat", "Pastorijstraat",
    "Koning Albertlaan", "Bremstraat", "Eikenlaan", "Weststraat", "Oostakkerstraat", "Boerenstraat",
    "Spoorwegstraat", "Blauwe Hoek", "Smalle Heerweg", "Vaartstraat", "Hulstraat", "Groenstraat",
)
# Landmarks a resident names: "aan het speelplein van de Kerkstraat".
PLACES = (
    "het speelplein", "de bushalte", "de kerk", "de basisschool", "het voetbalveld", "de glasbakken",
    "het kruispunt", "de bakker", "het jeugdhuis", "de parking", "de begraafplaats", "het gemeentehuis",
)
POSTCODES = {"lochristi": "9080", "destelbergen": "9070", "wachtebeke": "9185", "moerbeke": "9180"}
FIRST_NAMES = (
    "An", "Marc", "Sofie", "Luc", "Els", "Pieter", "Katrien", "Jan", "Lotte", "Wim", "Fatima", "Karim",
    "Hilde", "Bart", "Nathalie", "Jozef", "Lieve", "Thomas", "Yasmine", "Dirk", "Griet", "Stijn",
    "Ann-Sophie", "Rudi", "Marleen", "Koen", "Ilse", "Mohamed", "Ingrid", "Tom",
)
LAST_NAMES = (
    "Peeters", "Janssens", "Maes", "De Smet", "Claes", "Goossens", "Wouters", "De Vos", "Hermans",
    "Van den Broeck", "Verhoeven", "De Clercq", "Van Damme", "Lambrecht", "Van de Velde", "Martens",
    "El Amrani", "De Backer", "Vermeulen", "Willems", "Dhondt", "Van Hecke", "Bogaert", "De Meyer",
)

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "zwerfvuil": (
        "Overvolle vuilnisbak aan {place} van de {street}; het afval waait de straat op.",
        "Langs de {street} liggen al dagen blikjes en plastic flessen in de berm.",
        "Na het weekend ligt er veel zwerfvuil rond {place} in de {street}.",
        "De vuilnisbak bij {place} ({street}) is kapot, de zakken liggen ernaast.",
        "Sigarettenpeuken en chipszakjes overal aan {place} van de {street}.",
        "In de gracht langs de {street} drijven flessen en verpakkingen.",
    ),
    "sluikstort": (
        "Iemand heeft vuilniszakken gedumpt naast de glasbakken in de {street}.",
        "Een oude zetel en een matras achtergelaten op de stoep in de {street}.",
        "Bouwafval (gipsplaten en tegels) gestort aan de rand van het veld langs de {street}.",
        "Sluikstort achter {place} in de {street}: zakken met huisvuil en een kapotte stoel.",
        "Autobanden gedumpt in de berm van de {street}, vlak bij {place}.",
    ),
    "wegdek": (
        "Diepe put in het wegdek van de {street}, ter hoogte van {place}. Fietsers moeten uitwijken.",
        "Losliggende tegels op het voetpad in de {street}; mijn moeder is er bijna gevallen.",
        "Verzakking in het fietspad langs de {street}, er staat altijd water in.",
        "De kasseien in de {street} liggen los na de werken aan de nutsleidingen.",
        "Boomwortels duwen het voetpad omhoog in de {street}, gevaarlijk met een rollator.",
        "Scheur over de hele breedte van de {street} aan {place}.",
    ),
    "straatverlichting": (
        "Straatlamp aan {place} in de {street} brandt al een week niet meer.",
        "Drie lantaarnpalen na elkaar zijn uit in de {street}; 's avonds is het daar pikdonker.",
        "De lamp in de {street} knippert de hele nacht aan en uit.",
        "Verlichtingspaal in de {street} is aangereden en staat scheef.",
        "Straatverlichting in de {street} blijft overdag branden.",
    ),
    "groen": (
        "De haag aan {place} in de {street} groeit over het voetpad; met de kinderwagen kan je er niet door.",
        "Grote tak afgebroken na de storm, hangt boven het fietspad in de {street}.",
        "Het gras aan {place} van de {street} is al weken niet gemaaid.",
        "Dode boom in de {street} ter hoogte van {place}, hij helt over naar de straat.",
        "Onkruid tussen de stoeptegels in de {street} staat kniehoog.",
    ),
    "riolering": (
        "Rioolrooster in de {street} is verstopt; bij elke regenbui staat het kruispunt blank.",
        "Het stinkt naar riool aan {place} in de {street}.",
        "Deksel van de rioolput in de {street} ligt los en klappert als er auto's over rijden.",
        "Na de regen loopt het water niet weg in de {street}, de kolken zitten vol bladeren.",
    ),
    "verkeerssignalisatie": (
        "Het stopbord aan het kruispunt van de {street} is omgereden.",
        "Verkeersbord 'zone 30' aan {place} in de {street} is niet meer leesbaar.",
        "Het zebrapad aan {place} in de {street} is bijna helemaal uitgesleten.",
        "Verkeerslicht aan de {street} springt niet meer op groen voor fietsers.",
        "Bord van de omleiding staat er nog, terwijl de werken in de {street} al lang gedaan zijn.",
    ),
    "vraag": (
        "Wanneer wordt het grofvuil opgehaald in de {street}?",
        "Ik wil een buurtfeest organiseren in de {street}. Welke toelating heb ik nodig?",
        "Mag ik een container voor verbouwingswerken op straat zetten in de {street}?",
        "Wat zijn de openingsuren van het recyclagepark tijdens de feestdagen?",
        "Hoe vraag ik een nieuwe identiteitskaart aan voor mijn moeder? Ze kan niet meer naar het gemeentehuis komen.",
        "Kan ik een premie krijgen voor de aanleg van een regenwaterput?",
        "Hoe vraag ik een bewonerskaart aan om te parkeren in de {street}?",
        "Wanneer worden de werken in de {street} afgerond? We kunnen onze oprit niet op.",
        "Waar kan ik een attest van gezinssamenstelling aanvragen?",
        "Komt er een snelheidsremmer in de {street}? Er wordt daar veel te snel gereden.",
    ),
}
EXTRA_FIELDS: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "sluikstort": lambda rng: {"volume": rng.choice(("klein", "middel", "middel", "groot"))},
    "wegdek": lambda rng: {"gevaarlijk": rng.random() < 0.4},
    "straatverlichting": lambda rng: {"paalnummer": f"L-{rng.randint(100, 2999):04d}" if rng.random() < 0.6 else ""},
}
TYPE_WEIGHTS = {"zwerfvuil": 18, "sluikstort": 12, "wegdek": 16, "straatverlichting": 14, "groen": 12,
                "riolering": 7, "verkeerssignalisatie": 8, "vraag": 13}
CHANNEL_WEIGHTS = {"web": 35, "app": 20, "api": 8, "telefoon": 12, "balie": 10, "e-mail": 10, "brief": 5}
REFERRALS = {
    "straatverlichting": "Fluvius (beheer openbare verlichting)",
    "riolering": "Farys (rioolbeheerder)",
    "wegdek": "Agentschap Wegen en Verkeer (gewestweg)",
    "verkeerssignalisatie": "Agentschap Wegen en Verkeer (gewestweg)",
    "groen": "Agentschap Natuur en Bos",
    "zwerfvuil": "de afvalintercommunale",
    "sluikstort": "de lokale politie (vaststelling sluikstort)",
    "vraag": "het OCMW (sociale dienst)",
}
QUESTIONS_TO_RESIDENT = (
    "Kunt u ons zeggen ter hoogte van welk huisnummer het precies is?",
    "Hebt u misschien een foto? Dan kan de ploeg het sneller terugvinden.",
    "Gaat het om de kant van de even of de oneven huisnummers?",
    "Kunt u uw vraag wat verduidelijken? Gaat het om een tijdelijke of een vaste situatie?",
)
ANSWERS_FROM_RESIDENT = (
    "Het is ter hoogte van nummer {nr}, tegenover de bakker.",
    "Aan de kant van de oneven nummers, vlak na het kruispunt.",
    "Het gaat om een tijdelijke situatie, tot het einde van de maand.",
    "Ik heb het nog eens bekeken: het is aan de ingang van {place}.",
)
UPDATES_TO_RESIDENT = {
    "melding": (
        "De ploeg komt volgende week langs om het te herstellen.",
        "We hebben een herstelling ingepland; door het slechte weer kan het iets langer duren.",
        "Een collega is ter plaatse geweest en heeft de situatie bekeken. We houden u op de hoogte.",
        "Het materiaal is besteld; zodra het er is, voeren we de herstelling uit.",
    ),
    "vraag": (
        "We zoeken het uit bij de bevoegde dienst en antwoorden u binnen de week.",
        "Uw vraag ligt bij een collega van de dienst; u krijgt zo snel mogelijk een antwoord.",
    ),
}
NOTES = (
    "Ter plaatse gecontroleerd: melding klopt.",
    "Doorgegeven aan de ploeg van de technische dienst.",
    "Inplannen na de werken aan de nutsleidingen.",
    "Zelfde plek werd vorig jaar al eens gemeld.",
    "Prioriteit: dicht bij een school.",
)
CLOSED_REPLIES = {
    "melding": "De ploeg is langs geweest en heeft het probleem opgelost. Bedankt voor uw melding!",
    "vraag": "Bedankt voor uw vraag. U vindt het antwoord en het aanvraagformulier op onze website; "
             "u kunt ook langskomen aan het onthaal.",
}
NOT_SOLVED_REASONS = (
    "De herstelling vraagt een grotere ingreep; ze is opgenomen in het wegenplan van volgend jaar.",
    "De plek is privéterrein; we hebben de eigenaar aangeschreven.",
    "Ter plaatse vonden we het probleem niet terug.",
)
NOT_COMPETENT = (
    "Deze plek is geen openbaar domein van de gemeente; de eigenaar is verantwoordelijk.",
    "Hiervoor is de gemeente niet bevoegd: het gaat om een nutsleiding van een private maatschappij.",
)
CANCEL_REASONS = (
    "De indiener liet weten dat het intussen niet meer nodig is.",
    "Dubbel ingediend via telefoon en via de website; de indiener trok deze in.",
)
CANCEL_AT_DESK = "Per vergissing aangemaakt aan de balie."
REOPEN_REASONS = (
    "Het is nog altijd niet in orde: er ligt opnieuw van hetzelfde.",
    "De herstelling heeft maar een week gehouden, het probleem is terug.",
)
STAFF_REOPEN_NOTE = "Bij een controle bleek het probleem terug; opnieuw in de wachtrij van de dienst."

# What happens to a case after intake. Every scenario ends in another state (or resolution),
# so a handful of cases already shows every state; the rest is drawn with these weights.
SCENARIOS = ("nieuw", "in_behandeling", "wacht_op_burger", "heropend", "opgelost", "niet_opgelost",
             "niet_bevoegd", "doorverwezen", "geannuleerd", "opgelost_na_info")
SCENARIO_WEIGHTS = (12, 12, 5, 3, 30, 5, 4, 6, 4, 6)
# The more open a scenario ends, the younger the case it goes to (the oldest cases are closed).
OPENNESS = {"nieuw": 4.0, "in_behandeling": 3.0, "wacht_op_burger": 2.5, "heropend": 2.0}
DUPLICATE_EVERY = 25  # one near-duplicate (merged) per this many cases, at least one


@dataclass
class _Spec:
    """One case to file: when, what, by whom, and how its story goes."""

    at: datetime
    case_type: CaseType
    channel: str
    scenario: str
    request: IntakeRequest
    street: str
    duplicate_of: _Spec | None = None
    case: Case | None = None
    has_duplicate: bool = False
    # Filled while the story is written: what happens when, in order.
    steps: list[Callable[[datetime], None]] = field(default_factory=list)


class _Seeder:
    """Files and handles the demo cases of one municipality."""

    def __init__(self, db: Session, tenant: Tenant, rng: random.Random, now: datetime) -> None:
        self.db, self.tenant, self.rng, self.now = db, tenant, rng, now
        self.types = {code: t for code, t in case_types_for(tenant).items() if code in DESCRIPTIONS}
        self.area = shape(tenant.boundary)
        self.prepared = prep(self.area)
        self.handlers: dict[int, int] = {}  # department id → an active case handler's staff id
        self.front_office: int | None = None
        self.any_staff: int | None = None
        self._find_staff()

    def _find_staff(self) -> None:
        """Who acts in the story: the municipality's own staff when the demo has granted roles."""
        rows = self.db.execute(
            select(StaffMember.id, StaffRole.role, StaffRole.department_id)
            .join(StaffRole, (StaffMember.id == StaffRole.staff_id) & (StaffMember.tenant_id == StaffRole.tenant_id))
            .where(StaffMember.active.is_(True)).order_by(StaffMember.id, StaffRole.id)
        )
        for staff_id, role, department_id in rows:
            self.any_staff = self.any_staff or staff_id
            if role == "behandelaar" and department_id is not None:
                self.handlers.setdefault(department_id, staff_id)
            elif role == "onthaal" and self.front_office is None:
                self.front_office = staff_id

    def staff_actor(self, department_id: int | None) -> str:
        """``staff:<id>`` as the back office records it; ``staff:0`` (shown as "a staff member")
        when the municipality has no staff yet."""
        return f"staff:{self.handlers.get(department_id or 0, self.any_staff) or 0}"

    # --- what to file -------------------------------------------------------------------------

    def point(self) -> tuple[float, float]:
        """A random (lat, lon) inside the municipality (rejection sampling in its bounding box)."""
        min_lon, min_lat, max_lon, max_lat = self.area.bounds
        for _attempt in range(10_000):
            lon, lat = self.rng.uniform(min_lon, max_lon), self.rng.uniform(min_lat, max_lat)
            if self.prepared.contains(Point(lon, lat)):
                return round(lat, 6), round(lon, 6)
        point = self.area.representative_point()
        return round(point.y, 6), round(point.x, 6)

    def near(self, lat: float, lon: float) -> tuple[float, float]:
        """A point a few metres away (a neighbour reporting the same thing), still inside."""
        for _attempt in range(50):
            metres, bearing = self.rng.uniform(3, 20), math.radians(self.rng.uniform(0, 360))
            _min_lat, max_lat, _min_lon, max_lon = geo.bounding_box(lat, lon, metres)
            candidate = (round(lat + (max_lat - lat) * math.cos(bearing), 6),
                         round(lon + (max_lon - lon) * math.sin(bearing), 6))
            if self.prepared.contains(Point(candidate[1], candidate[0])):
                return candidate
        return lat, lon

    def address(self, street: str) -> str:
        postcode = POSTCODES.get(self.tenant.slug)
        town = f"{postcode} {self.tenant.name}" if postcode else self.tenant.name
        return f"{street} {self.rng.randint(1, 180)}, {town}"

    def describe(self, code: str, street: str) -> str:
        template = self.rng.choice(DESCRIPTIONS[code])
        return template.format(street=street, place=self.rng.choice(PLACES))

    def reporter(self, case_type: CaseType, channel: str, street: str) -> dict[str, Any]:
        """Who reports: anonymous for some meldingen, a letter writer for some, else e-mail or phone."""
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}"
        email = _ascii(f"{first}.{last}".lower().replace(" ", "").replace("-", "")) + "@example.org"
        phone = rng.choice(("09", "0475", "0486", "0497")) + f" {rng.randint(100, 999)} {rng.randint(10, 99)} " \
            f"{rng.randint(10, 99)}"
        wants_letter = channel == "brief" or (channel in ("balie", "telefoon") and rng.random() < 0.35) \
            or rng.random() < 0.04
        if wants_letter:
            return {"reporter_name": name, "reporter_address": self.address(street), "preferred_channel": "brief"}
        anonymous = case_type.anonymous_allowed and channel in ("web", "app", "api") and rng.random() < 0.3
        if anonymous:
            return {}
        if channel == "telefoon" and rng.random() < 0.6:
            return {"reporter_name": name, "reporter_phone": phone, "preferred_channel": "telefoon"}
        details: dict[str, Any] = {"reporter_name": name, "reporter_email": email, "preferred_channel": "e-mail"}
        if rng.random() < 0.3:
            details["reporter_phone"] = phone
        return details

    def spec(self, at: datetime, scenario: str, code: str | None = None) -> _Spec:
        rng = self.rng
        melding_codes = [c for c in self.types if self.types[c].kind == "melding"]
        if code is None:
            codes = list(self.types)
            code = rng.choices(codes, weights=[TYPE_WEIGHTS.get(c, 5) for c in codes])[0]
        elif code == "melding":
            code = rng.choice(melding_codes)
        case_type = self.types[code]
        channels = list(CHANNEL_WEIGHTS)
        channel = rng.choices(channels, weights=list(CHANNEL_WEIGHTS.values()))[0]
        street = rng.choice(STREETS)
        location: dict[str, Any] = {}
        if case_type.kind == "melding":
            lat, lon = self.point()
            location = {"lat": lat, "lon": lon, "address": self.address(street)}
        extra = EXTRA_FIELDS.get(code, lambda _rng: {})(rng) if case_type.schema is not None else {}
        request = IntakeRequest(type_code=code, description=self.describe(code, street), data=extra,
                                **location, **self.reporter(case_type, channel, street))
        return _Spec(at=at, case_type=case_type, channel=channel, scenario=scenario, request=request, street=street)

    def plan(self, count: int) -> list[_Spec]:
        """``count`` cases over the last six months; the oldest are mostly closed, the newest new."""
        rng = self.rng
        duplicates = max(1, count // DUPLICATE_EVERY) if count >= len(SCENARIOS) + 2 else 0
        originals = count - duplicates
        scenarios = list(SCENARIOS[:originals])
        scenarios += rng.choices(SCENARIOS, weights=SCENARIO_WEIGHTS, k=max(0, originals - len(scenarios)))
        scenarios.sort(key=lambda s: OPENNESS.get(s, 0.0) + rng.uniform(0, 2.5))
        start = self.now - timedelta(days=HISTORY_DAYS)
        times = sorted(self._moment(start) for _ in range(originals))
        specs: list[_Spec] = []
        for at, scenario in zip(times, scenarios, strict=True):
            specs.append(self.spec(at, scenario))
        parents = self._parents(specs) if duplicates else []
        for parent in rng.sample(parents, min(duplicates, len(parents))):
            specs.append(self.duplicate(parent))
        return specs

    def _parents(self, specs: list[_Spec]) -> list[_Spec]:
        """Meldingen (with a location) old enough to have been reported twice; the oldest case
        becomes one when the draw gave none."""
        def eligible() -> list[_Spec]:
            return [s for s in specs if s.case_type.kind == "melding" and s.at < self.now - timedelta(days=2)]

        if not eligible() and specs and any(t.kind == "melding" for t in self.types.values()):
            specs[0] = self.spec(specs[0].at, specs[0].scenario, code="melding")
        return eligible()

    def _moment(self, start: datetime) -> datetime:
        """A moment in the period, during the day (residents report between 7 and 22 h)."""
        day = start + timedelta(days=self.rng.uniform(0, HISTORY_DAYS - 1))
        at = day.replace(hour=self.rng.randint(6, 20), minute=self.rng.randint(0, 59),
                         second=self.rng.randint(0, 59), microsecond=0)
        return min(at, self.now - timedelta(minutes=30))

    def duplicate(self, parent: _Spec) -> _Spec:
        """A neighbour reports the same thing a few hours later, a few metres away."""
        at = parent.at + timedelta(hours=self.rng.uniform(1, 20))
        spec = self.spec(min(at, self.now - timedelta(minutes=20)), "samengevoegd", code=parent.case_type.code)
        assert parent.request.lat is not None and parent.request.lon is not None
        spec.request.lat, spec.request.lon = self.near(parent.request.lat, parent.request.lon)
        spec.request.address = parent.request.address
        spec.request.description = self.describe(parent.case_type.code, parent.street)
        spec.duplicate_of = parent
        parent.has_duplicate = True
        return spec

    # --- what happens -------------------------------------------------------------------------

    def actions(self, spec: _Spec) -> list[tuple[datetime, Callable[[datetime], None]]]:
        """The case's story as timed actions: filing first, then each step of its scenario."""
        steps = self.story(spec)
        if spec.duplicate_of is not None:  # staff spot the duplicate within hours and merge it
            times = [spec.at + timedelta(hours=self.rng.uniform(0.5, 3))]
        else:
            # A case with a merged duplicate is handled only after that merge (a day later at most).
            start = spec.at + timedelta(days=1, hours=2) if spec.has_duplicate else spec.at
            times = self._timeline(start, len(steps))
        return [(spec.at, lambda at: self.file(spec, at)), *zip(times, steps, strict=True)]

    def _timeline(self, start: datetime, count: int) -> list[datetime]:
        """``count`` moments after ``start``, a day or two apart, squeezed to end before now."""
        delays = [self.rng.expovariate(1 / 36) + 0.5 for _ in range(count)]  # hours
        room = max((self.now - timedelta(minutes=5) - start).total_seconds() / 3600, 0.01)
        scale = min(1.0, room / sum(delays)) if delays else 1.0
        times, hours = [], 0.0
        for delay in delays:
            hours += delay * scale
            times.append(start + timedelta(hours=hours))
        return times

    def file(self, spec: _Spec, at: datetime) -> None:
        """Residents file on the web and in the app, integrators by API, the front office the rest."""
        if spec.channel in ("web", "app"):
            actor = "burger"
        elif spec.channel == "api":
            actor = f"api:demo-{self.tenant.slug}"
        else:
            actor = f"staff:{self.front_office or self.any_staff or 0}"
        spec.case = submit_case(self.db, self.tenant, spec.request, channel=spec.channel, actor=actor, at=at).case

    def story(self, spec: _Spec) -> list[Callable[[datetime], None]]:
        rng, kind = self.rng, spec.case_type.kind
        has_contact = bool(spec.request.reporter_email or spec.request.reporter_address or spec.request.reporter_phone)

        def case() -> Case:
            assert spec.case is not None
            return spec.case

        def staff() -> str:
            return self.staff_actor(case().department_id)

        def start(at: datetime) -> None:
            handler = self.handlers.get(case().department_id or 0)
            if handler is not None:
                assign(self.db, case(), handler, actor=f"staff:{handler}", at=at)
            reply = spec.case_type.replies_for("in_behandeling", "nl")
            change_state(self.db, self.tenant, case(), "in_behandeling", actor=staff(), at=at,
                         note=reply[0] if reply and rng.random() < 0.6 else None)

        def note(at: datetime) -> None:
            add_note(self.db, case(), rng.choice(NOTES), actor=staff(), at=at)

        def update(at: datetime) -> None:
            message_resident(self.db, self.tenant, case(), rng.choice(UPDATES_TO_RESIDENT[kind]),
                             actor=staff(), at=at)

        def ask(at: datetime) -> None:
            message_resident(self.db, self.tenant, case(), rng.choice(QUESTIONS_TO_RESIDENT), actor=staff(),
                             at=at)
            change_state(self.db, self.tenant, case(), "wacht_op_burger", actor=staff(), at=at)

        def answer(at: datetime) -> None:
            text = rng.choice(ANSWERS_FROM_RESIDENT).format(nr=rng.randint(1, 180), place=rng.choice(PLACES))
            add_information(self.db, case(), text, at=at)

        def close(resolution: str, text: str) -> Callable[[datetime], None]:
            def _close(at: datetime) -> None:
                change_state(self.db, self.tenant, case(), "afgehandeld", actor=staff(), at=at,
                             resolution=resolution, note=text)
            return _close

        def satisfied(value: bool) -> Callable[[datetime], None]:
            return lambda at: give_satisfaction(self.db, case(), value, at=at)

        def reopen(at: datetime) -> None:
            if has_contact:
                request_reopen(self.db, case(), rng.choice(REOPEN_REASONS), at=at)
            else:
                change_state(self.db, self.tenant, case(), "heropend", actor=staff(), at=at,
                             note=STAFF_REOPEN_NOTE)
            assign(self.db, case(), None, actor=staff(), at=at)  # back to the department's queue

        def state(new: str, **details: str) -> Callable[[datetime], None]:
            return lambda at: change_state(self.db, self.tenant, case(), new, actor=staff(), at=at, **details)

        def merge_into_parent(at: datetime) -> None:
            parent = spec.duplicate_of
            assert parent is not None and parent.case is not None
            duplicate = case()
            assert duplicate.lat is not None and duplicate.lon is not None
            nearby = nearby_open_cases(self.db, duplicate.type_code, duplicate.lat, duplicate.lon,
                                       spec.case_type.duplicate_radius_m, exclude_id=duplicate.id)
            target = next((c for c, _distance in nearby if c.id == parent.case.id), parent.case)
            merge(self.db, self.tenant, duplicate, target, actor=staff(), at=at)

        def follow(at: datetime) -> None:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = _ascii(f"{first}.{last}".lower().replace(" ", "")) + "@example.net"
            following.confirm(following.follow_case(self.db, self.tenant, case(), email, at).follower, at)

        solved = close("opgelost", CLOSED_REPLIES[kind])
        extras: list[Callable[[datetime], None]] = [note] if rng.random() < 0.35 else []
        if kind == "melding" and rng.random() < 0.15:
            extras.append(follow)
        stories: dict[str, list[Callable[[datetime], None]]] = {
            "nieuw": extras[:1],
            "in_behandeling": [start, *extras, *([update] if rng.random() < 0.5 else [])],
            "wacht_op_burger": [start, ask],
            "heropend": [start, solved, *([satisfied(False)] if has_contact else []), reopen],
            "opgelost": [start, *extras, *([update] if rng.random() < 0.3 else []), solved,
                         *([satisfied(rng.random() < 0.85)] if has_contact and rng.random() < 0.4 else [])],
            "niet_opgelost": [start, *extras, close("niet_opgelost", rng.choice(NOT_SOLVED_REASONS))],
            "niet_bevoegd": [close("niet_bevoegd", rng.choice(NOT_COMPETENT))],
            "doorverwezen": [state("doorverwezen", referred_to=REFERRALS.get(spec.case_type.code, "de provincie"),
                                   note=f"We hebben uw {kind} doorgegeven aan wie hiervoor bevoegd is.")],
            "geannuleerd": [state("geannuleerd", note=CANCEL_AT_DESK if spec.channel == "balie" and rng.random() < 0.5
                                  else rng.choice(CANCEL_REASONS))],
            "opgelost_na_info": [start, ask, answer, solved],
            "samengevoegd": [merge_into_parent],
        }
        return stories[spec.scenario]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _seed_one(db: Session, tenant: Tenant, per_tenant: int, rng: random.Random) -> int:
    seeder = _Seeder(db, tenant, rng, clock_now())
    if not seeder.types:
        return 0
    specs = seeder.plan(per_tenant)
    timed: list[tuple[datetime, int, Callable[[datetime], None]]] = []
    for spec in specs:
        for at, action in seeder.actions(spec):
            timed.append((at, len(timed), action))
    timed.sort(key=lambda item: (item[0], item[1]))
    for at, _order, action in timed:
        action(at)
    db.flush()
    return len(specs)


def seed_demo_cases(app: Flask, tenants: list[str], per_tenant: int = 80, seed: int = 7) -> int:
    """File and handle ``per_tenant`` demo cases in each municipality that has none yet.

    Deterministic for a given ``seed`` (each municipality draws from its own generator, so adding
    one does not change the others). Returns how many cases were created. Runs in the app context;
    each municipality is one committed unit of work.
    """
    created = 0
    with app.app_context():
        for slug in tenants:
            with working_for(slug) as (db, tenant):
                if db.scalar(select(Case.id).limit(1)) is not None:
                    click.echo(f"  {tenant.name}: has cases already, left as it is")
                    continue
                count = _seed_one(db, tenant, per_tenant, random.Random(f"{seed}:{slug}"))  # noqa: S311 - demo data
                name = tenant.name
            created += count
            click.echo(f"  {name}: {count} meldingen en vragen")
    return created
