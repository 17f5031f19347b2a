"""Finding a person at the front office: by name and birth date, address, e-mail, phone, case reference
or national register number.

A search returns only what is needed to pick the right person (name, birth year, the municipality's
own id); everything else waits until the profile is opened with a reason. A national register number
is checked, turned into this municipality's keyed hash and forgotten: it is never stored or logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.cases.models import Case
from core.identity import national_number
from core.profiles.models import Profile
from core.profiles.service import name_key, phone_digits
from core.tenancy.models import Tenant

MAX_QUERY = 200
MIN_ADDRESS = 3
MAX_RESULTS = 50
CRITERIA = ("naam", "geboortedatum", "adres", "email", "telefoon", "referentie")


class SearchError(ValueError):
    """A search that cannot run; the message says what to fix."""


@dataclass(frozen=True)
class Found:
    """One result: just enough to choose the right person."""

    id: int
    name: str
    birth_year: int | None


def _conditions(criteria: dict[str, str]) -> list[ColumnElement[bool]]:
    """Each filled-in criterion narrows the search; raises :class:`SearchError` for bad input."""
    if not any(criteria.values()):
        raise SearchError(_("Vul minstens één zoekveld in."))
    if any(len(value) > MAX_QUERY for value in criteria.values()):
        raise SearchError(_("Een zoekterm mag hoogstens %(n)s tekens lang zijn.", n=MAX_QUERY))
    conditions: list[ColumnElement[bool]] = []
    name, born = criteria.get("naam", ""), criteria.get("geboortedatum", "")
    if name or born:
        if not (name and born):
            raise SearchError(_("Zoek op naam altijd samen met de geboortedatum."))
        try:
            birth_date = date.fromisoformat(born)
        except ValueError:
            raise SearchError(_("Geef de geboortedatum als jjjj-mm-dd, bijvoorbeeld 1985-07-30.")) from None
        conditions += [Profile.name_key == name_key(name), Profile.birth_date == birth_date]
    if address := criteria.get("adres", ""):
        if len(address) < MIN_ADDRESS:
            raise SearchError(_("Geef minstens %(n)s tekens van het adres.", n=MIN_ADDRESS))
        conditions.append(func.lower(Profile.address).contains(address.lower(), autoescape=True))
    if email := criteria.get("email", ""):
        conditions.append(Profile.email == email.lower())  # stored lower-case
    if phone := criteria.get("telefoon", ""):
        digits = phone_digits(phone)
        if len(digits) < 6:
            raise SearchError(_("Geef een volledig telefoonnummer."))
        conditions.append(Profile.phone_key == digits)
    if reference := criteria.get("referentie", ""):
        conditions.append(Profile.id == select(Case.profile_id).where(Case.reference == reference.upper())
                          .scalar_subquery())
    return conditions


def _results(db: Session, conditions: list[ColumnElement[bool]]) -> list[Found]:
    rows = db.execute(select(Profile.id, Profile.name, Profile.birth_date).where(*conditions)
                      .order_by(Profile.name_key, Profile.id).limit(MAX_RESULTS + 1))
    return [Found(row.id, row.name, row.birth_date.year if row.birth_date else None) for row in rows]


def search(db: Session, criteria: dict[str, str]) -> list[Found]:
    """Profiles of the session's municipality matching every filled-in criterion (at most 51:
    one more than shown, so the page can say there are more)."""
    clean = {key: (criteria.get(key) or "").strip() for key in CRITERIA}
    return _results(db, _conditions(clean))


def search_national_number(db: Session, tenant: Tenant, instance_secret: str, raw: str) -> list[Found]:
    """Match this municipality's keyed hash of the number; the number itself is dropped here."""
    if not (raw or "").strip():
        raise SearchError(_("Geef een rijksregisternummer."))
    if len(raw) > MAX_QUERY:
        raise SearchError(_("Een zoekterm mag hoogstens %(n)s tekens lang zijn.", n=MAX_QUERY))
    try:
        number_hash = national_number.keyed_hash(instance_secret, tenant.slug, raw)
    except national_number.InvalidNationalNumber:
        raise SearchError(_("Dit rijksregisternummer is niet geldig: controleer de 11 cijfers.")) from None
    return _results(db, [Profile.national_number_hash == number_hash])
