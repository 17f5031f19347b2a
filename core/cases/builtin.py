"""The core's own contribution through the plugin contract: the generic question type."""

from __future__ import annotations

from core.cases.types import CaseType
from core.plugins import hookimpl
from core.plugins.manifest import Manifest
from core.tenancy.models import Tenant

CORE_PLUGIN = "core"

QUESTION = CaseType(
    code="vraag",
    kind="vraag",
    prefix="VR",
    labels={"nl": "Algemene vraag", "fr": "Question générale", "en": "General question"},
    description={"nl": "Een vraag aan de gemeente, over om het even wat.",
                 "fr": "Une question à la commune, sur n'importe quel sujet.",
                 "en": "A question to the municipality, about anything."},
    group="Vragen",
    department="burgerzaken",
    anonymous_allowed=False,
    target_days=14,
    standard_replies={
        "wacht_op_burger": {"nl": "Om uw vraag te beantwoorden hebben we nog wat informatie nodig: …",
                            "fr": "Pour répondre à votre question, il nous faut encore quelques informations : …",
                            "en": "To answer your question we need a little more information: …"},
        "afgehandeld": {"nl": "Hier is het antwoord op uw vraag: …",
                        "fr": "Voici la réponse à votre question : …",
                        "en": "Here is the answer to your question: …"},
    },
)


@hookimpl
def fygitaal_plugin_manifest() -> Manifest:
    return Manifest(name=CORE_PLUGIN, version="1", owner="platform", maturity="approved",
                    description="The core's own case types.")


@hookimpl
def fygitaal_case_types(tenant: Tenant) -> list[CaseType]:
    return [QUESTION]
