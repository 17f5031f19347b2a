"""The Dutch labels (translated at render time) for the codes profiles, contacts and shares store.

One place, so the resident's pages, the front office and the share pages name things alike.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FIELD_LABELS = {
    "name": _l("Naam"), "birth_date": _l("Geboortedatum"), "address": _l("Adres"), "email": _l("E-mailadres"),
    "phone": _l("Telefoonnummer"), "language": _l("Taal"), "preferred_channel": _l("Voorkeurskanaal"),
    "no_digital_contact": _l("Geen digitaal contact"), "assistance_needs": _l("Ondersteuningsnoden"),
}
# What an access-log row says was shown: profile fields and the sections of the 360° view and share pages.
SECTION_LABELS = {
    **FIELD_LABELS, "profiel": _l("Profielgegevens"), "toestemmingen": _l("Toestemmingen"),
    "meldingen": _l("Meldingen en vragen"), "zaken": _l("Gekozen meldingen en vragen"),
    "contactmomenten": _l("Contactmomenten"),
}
CHANNEL_LABELS = {
    "e-mail": _l("E-mail"), "sms": _l("Sms"), "brief": _l("Brief"), "telefoon": _l("Telefoon"),
    "balie": _l("Aan de balie"), "app": _l("App"), "huisbezoek": _l("Huisbezoek"), "chat": _l("Chat"),
    "web": _l("Website"),
}
OUTCOME_LABELS = {
    "beantwoord": _l("Beantwoord"), "melding_aangemaakt": _l("Melding aangemaakt"),
    "doorverwezen": _l("Doorverwezen"), "terugbellen": _l("Wordt teruggebeld"), "afspraak": _l("Afspraak gemaakt"),
    "geen_antwoord": _l("Geen antwoord"),
}
LEGAL_BASIS_LABELS = {
    "toestemming": _l("Toestemming"), "algemeen_belang": _l("Taak van algemeen belang"),
    "wettelijke_verplichting": _l("Wettelijke verplichting"), "overeenkomst": _l("Overeenkomst"),
    "vitaal_belang": _l("Vitaal belang"),
}
