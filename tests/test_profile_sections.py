"""Plugin sections of a profile: the core applies consent (hidden with the reason, fail closed) and a
failing plugin is skipped, named in the log, while the others still show."""

import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from core.cases.intake import IntakeRequest, submit_case
from core.profiles.models import Profile
from core.profiles.purposes import consents_for
from core.profiles.sections import sections_for
from core.profiles.service import Actor, record_consent
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department
from core.toolkit import Manifest, hookimpl
from plugins.grofvuil.models import Reservation
from plugins.grofvuil.service import plan_round

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Garage:
    """A test plugin with one section per purpose: e-mail contact (consent) and an unknown purpose."""

    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="garage", version="0.1.0", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_profile_sections(self, session, tenant, profile, viewer):
        return [{"key": "garage.nieuwsbrief", "title": {"nl": "Nieuwsbrief"}, "purpose": "contact_email",
                 "rows": [["E-mail", profile.email]]},
                {"key": "garage.raadsel", "title": {"nl": "Raadsel"}, "purpose": "bestaat_niet",
                 "rows": [["Geheim", "42"]]}]


class Broken:
    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="stuk", version="0.1.0", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_profile_sections(self, session, tenant, profile, viewer):
        raise RuntimeError("kapot")


class WrongShape:
    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="scheef", version="0.1.0", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_profile_sections(self, session, tenant, profile, viewer):
        return [{"key": "scheef.x", "purpose": "dossierbehandeling", "rows": []}]  # no title


@pytest.fixture
def town(app, db_session, make_tenant, register_plugin):
    for plugin, name in ((Garage(), "garage"), (Broken(), "stuk"), (WrongShape(), "scheef")):
        register_plugin(plugin, name)
    tenant = make_tenant("gemeente-s", plugins={"garage": {}, "stuk": {}, "scheef": {}})
    set_tenant(db_session, tenant.id)
    return tenant


@pytest.fixture
def profile(db_session, town):
    person = Profile(name="Sara", email="sara@example.be", created_by="inwoner", created_at=AT, updated_at=AT)
    db_session.add(person)
    db_session.flush()
    return person


def sections(app, db_session, tenant, person):
    with app.test_request_context():
        found = sections_for(db_session, tenant, person, "inwoner", consents_for(db_session, tenant, person))
    return {section.key: section for section in found}


def test_without_consent_the_section_is_hidden_with_the_reason(app, db_session, town, profile):
    newsletter = sections(app, db_session, town, profile)["garage.nieuwsbrief"]
    assert newsletter.rows == ()
    assert newsletter.hidden_reason == "Verborgen: geen toestemming voor U contacteren per e-mail"
    assert newsletter.title_in("fr") == "Nieuwsbrief"


def test_with_consent_the_section_shows_its_rows(app, db_session, town, profile):
    with app.test_request_context():
        record_consent(db_session, town, profile, "contact_email", True, actor=Actor.resident(), language="nl", at=AT)
    newsletter = sections(app, db_session, town, profile)["garage.nieuwsbrief"]
    assert newsletter.rows == (("E-mail", "sara@example.be"),) and newsletter.hidden_reason == ""


def test_a_section_for_an_unknown_purpose_is_hidden(app, db_session, town, profile):
    riddle = sections(app, db_session, town, profile)["garage.raadsel"]
    assert riddle.rows == () and riddle.hidden_reason == "Verborgen: onbekend doel (bestaat_niet)"


def test_a_failing_or_malformed_plugin_is_skipped_and_named_in_the_log(app, db_session, town, profile, caplog):
    with caplog.at_level(logging.ERROR):
        found = sections(app, db_session, town, profile)
    assert set(found) == {"garage.nieuwsbrief", "garage.raadsel"}
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "plugin stuk failed in fygitaal_profile_sections" in logged
    assert "plugin scheef failed in fygitaal_profile_sections" in logged
    assert "sara@example.be" not in caplog.text


def test_grofvuil_shows_planned_pickups_and_hides_the_history_without_consent(app, db_session, make_tenant):
    tenant = make_tenant("gemeente-g", plugins={"grofvuil": {}})
    set_tenant(db_session, tenant.id)
    db_session.add(Department(code="milieu", name="Milieu"))
    person = Profile(name="Gert", created_by="inwoner", created_at=AT, updated_at=AT)
    db_session.add(person)
    db_session.flush()
    for days in (-7, 7):
        collection_round = plan_round(db_session, "Zaffelare", date.today() + timedelta(days=days), 5)
        with app.test_request_context():
            case = submit_case(db_session, tenant, IntakeRequest(
                type_code="grofvuil", description="Een kast", data={"zone": "Zaffelare", "stuks": 1},
                profile_id=person.id), channel="balie", actor="medewerker", at=AT).case
        db_session.add(Reservation(round_id=collection_round.id, case_id=case.id, created_at=AT))
    db_session.flush()
    found = sections(app, db_session, tenant, person)
    planned, history = found["grofvuil.gepland"], found["grofvuil.historiek"]
    assert planned.hidden_reason == "" and len(planned.rows) == 1
    assert (date.today() + timedelta(days=7)).strftime("%d/%m/%Y") == planned.rows[0][0]
    assert history.rows == ()
    assert history.hidden_reason == "Verborgen: geen toestemming voor Uw vorige grofvuilophalingen bijhouden"
