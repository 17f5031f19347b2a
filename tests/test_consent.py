"""Consent, one test per rule of the issue: withdrawn means unused, required stays on, versions, receipts, plugins."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core.cases.intake import IntakeRequest, submit_case
from core.identity.models import Account
from core.outbox.models import OutboxMessage
from core.plugins.manifest import Manifest
from core.profiles.models import ConsentRecord, Profile
from core.profiles.purposes import catalogue_for, consents_for
from core.tenancy.isolation import set_tenant
from core.testing.fixtures import login_as
from core.toolkit import hookimpl

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def newsletter(version):
    texts = {"nl": "Nieuwsbrief van de gemeente"}
    return {"code": "nieuwsbrief", "version": version, "legal_basis": "toestemming", "title": texts,
            "explanation": {"nl": "Wij sturen u maandelijks nieuws."}, "retention": {"nl": "Tot u zich uitschrijft."},
            "refusal": {"nl": "Zonder toestemming krijgt u geen nieuwsbrief."}, "data_categories": ["contactgegevens"],
            "profile_fields": ["email"]}


def token(client, path):
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def decide(client, tenant, purpose, decision):
    path = f"/mijn/{tenant.slug}/toestemmingen"
    return client.post(path, data={"csrf_token": token(client, path), "doel": purpose, "beslissing": decision})


def profile_of(db_session, tenant, subject):
    account = db_session.scalar(select(Account).where(Account.subject == subject))
    set_tenant(db_session, tenant.id)
    db_session.expire_all()
    return db_session.scalar(select(Profile).where(Profile.account_id == account.id))


def records(db_session, tenant):
    set_tenant(db_session, tenant.id)
    return list(db_session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))


def mails_to(db_session, address):
    return db_session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.channel == "e-mail", OutboxMessage.recipient == address))


def test_a_field_under_a_withdrawn_consent_is_no_longer_shown_or_used(app, client, db_session, tenant, oidc_provider):
    login_as(client, oidc_provider, "toestemming-mail", claims={"name": "An", "email": "an@example.be"})
    assert decide(client, tenant, "contact_email", "geven").status_code == 303
    profile = profile_of(db_session, tenant, "toestemming-mail")
    assert profile.email == "an@example.be"

    def file_at_the_desk():
        with app.test_request_context():
            set_tenant(db_session, tenant.id)
            submit_case(db_session, tenant, IntakeRequest(type_code="vraag", description="Hoe vraag ik een premie?",
                                                          profile_id=profile.id), channel="balie",
                        actor="medewerker", at=AT)
            db_session.flush()

    file_at_the_desk()
    assert mails_to(db_session, "an@example.be") == 1, "while consent is given the profile's e-mail is used"

    assert decide(client, tenant, "contact_email", "intrekken").status_code == 303
    with app.test_request_context():
        consents = consents_for(db_session, tenant, profile_of(db_session, tenant, "toestemming-mail"))
        assert not consents.field_allowed("email") and not consents.allows("contact_email")
    file_at_the_desk()
    assert mails_to(db_session, "an@example.be") == 1, "no e-mail goes to the address after the withdrawal"
    assert "U gaf geen toestemming." in client.get(f"/mijn/{tenant.slug}/toestemmingen").text


@pytest.mark.parametrize(("purpose", "message"), [
    ("dossierbehandeling", "Verplicht, omdat"),
    ("bestaat_niet", "Dit doel bestaat niet bij gemeente"),
])
def test_a_required_or_unknown_purpose_cannot_be_switched(client, db_session, tenant, oidc_provider, purpose, message):
    login_as(client, oidc_provider, "toestemming-verplicht")
    page = client.get(f"/mijn/{tenant.slug}/toestemmingen").text
    assert "Verplicht, omdat de gemeente u zonder deze gegevens niet kan identificeren" in page
    assert 'name="doel" value="dossierbehandeling"' not in page, "a required purpose has no switch"

    response = decide(client, tenant, purpose, "intrekken")
    assert response.status_code == 400
    assert message in response.text and 'class="error-summary"' in response.text
    assert records(db_session, tenant) == []
    assert profile_of(db_session, tenant, "toestemming-verplicht") is None, "nothing stored, not even a profile"


def test_a_bad_decision_is_refused(client, db_session, tenant, oidc_provider):
    login_as(client, oidc_provider, "toestemming-vaag")
    response = decide(client, tenant, "contact_email", "misschien")
    assert response.status_code == 400 and "Kies of u toestemming geeft of intrekt." in response.text
    assert records(db_session, tenant) == []


def test_the_history_keeps_every_version(app, client, db_session, make_tenant, oidc_provider):
    town = make_tenant("gemeente-v", purposes=[newsletter(1)])
    login_as(client, oidc_provider, "toestemming-versie")
    assert decide(client, town, "nieuwsbrief", "geven").status_code == 303

    town.purposes = [newsletter(2)]
    town.config_version += 1
    db_session.commit()
    with app.test_request_context():
        assert catalogue_for(town)["nieuwsbrief"].version == 2
        assert not consents_for(db_session, town, profile_of(db_session, town, "toestemming-versie")).allows(
            "nieuwsbrief"), "consent for version 1 does not count for version 2"
    page = client.get(f"/mijn/{town.slug}/toestemmingen").text
    assert "De gemeente vraagt het opnieuw" in page

    assert decide(client, town, "nieuwsbrief", "geven").status_code == 303
    assert [(r.purpose_code, r.purpose_version, r.granted) for r in records(db_session, town)] == [
        ("nieuwsbrief", 1, True), ("nieuwsbrief", 2, True)]
    page = client.get(f"/mijn/{town.slug}/toestemmingen").text
    assert page.count("/toestemmingen/") >= 2 and "U gaf toestemming." in page


KANTARA_FIELDS = ("version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID", "language",
                  "piiPrincipalId", "piiControllers", "policyUrl", "services", "sensitive", "spiCat")
KANTARA_PURPOSE_FIELDS = ("purpose", "purposeCategory", "consentType", "piiCategory", "primaryPurpose", "termination",
                          "thirdPartyDisclosure")


def test_the_receipt_has_every_kantara_field(client, db_session, tenant, oidc_provider):
    login_as(client, oidc_provider, "toestemming-bon")
    decide(client, tenant, "ondersteuning", "geven")
    decide(client, tenant, "ondersteuning", "intrekken")
    given, withdrawn = records(db_session, tenant)
    receipts = []
    for record in (given, withdrawn):
        response = client.get(f"/mijn/{tenant.slug}/toestemmingen/{record.receipt_id}.json")
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="toestemming-{record.receipt_id}.json"')
        receipts.append(response.json)
    for receipt in receipts:
        assert all(field in receipt for field in KANTARA_FIELDS), set(KANTARA_FIELDS) - set(receipt)
        purpose = receipt["services"][0]["purposes"][0]
        assert all(field in purpose for field in KANTARA_PURPOSE_FIELDS), set(KANTARA_PURPOSE_FIELDS) - set(purpose)
    assert receipts[0]["consentReceiptID"] == given.receipt_id
    assert [r["services"][0]["purposes"][0]["consentType"] for r in receipts] == ["EXPLICIT", "WITHDRAWN"]
    assert receipts[0]["sensitive"] is True and receipts[0]["spiCat"] == ["gezondheid"]
    assert receipts[0]["policyUrl"].endswith(f"/mijn/{tenant.slug}/toestemmingen")


class PurposePlugin:
    """A plugin that declares one consent purpose of its own."""

    @hookimpl
    def fygitaal_plugin_manifest(self):
        return Manifest(name="testdoelen", version="1.0", owner="test", maturity="approved")

    @hookimpl
    def fygitaal_consent_purposes(self, tenant):
        return [{**newsletter(1), "code": "testdoelen_herinnering",
                 "title": {"nl": "Herinneringen voor uw afspraken"}}]


def test_a_plugin_purpose_appears_in_the_catalogue(app, client, db_session, make_tenant, register_plugin,
                                                    oidc_provider):
    register_plugin(PurposePlugin(), "testdoelen")
    town = make_tenant("gemeente-p", plugins={"testdoelen": {}})
    other = make_tenant("gemeente-q")
    with app.test_request_context():
        purpose = catalogue_for(town)["testdoelen_herinnering"]
        assert purpose.owner == "testdoelen" and purpose.is_choice
        assert "testdoelen_herinnering" not in catalogue_for(other), "only where the plugin is enabled"
    login_as(client, oidc_provider, "toestemming-plugin")
    assert "Herinneringen voor uw afspraken" in client.get(f"/mijn/{town.slug}/toestemmingen").text
    assert decide(client, town, "testdoelen_herinnering", "geven").status_code == 303
