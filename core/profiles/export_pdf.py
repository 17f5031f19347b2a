"""The export as a PDF for people: the same facts as the JSON document, in the resident's language.

Drawn by the worker only (this module loads fpdf2, which web workers must not import), on the
letters' page: DejaVu Sans, so é, ë, € and ’ come out as written (see :mod:`core.outbox.letters`).
Times are shown in Europe/Brussels. Call it inside ``force_locale(<the export's language>)``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from flask_babel import gettext as _

from core.i18n import current_language
from core.outbox.letters import BRUSSELS
from core.outbox.letters import _Letter as Page  # the letters' A4 page with the Unicode font


def _when(value: str | None) -> str:
    if not value:
        return "–"
    locale = current_language()
    return format_datetime(datetime.fromisoformat(value).astimezone(BRUSSELS), format="short", locale=locale)


def _text(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("ja") if value else _("nee")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, indent=1) if value else "–"
    return str(value)


class _Writer:
    """Headings, label–value lines and paragraphs on the letter page."""

    def __init__(self, font_dir: Path | None) -> None:
        self.pdf = Page(font_dir)

    def heading(self, text: str, size: float = 14) -> None:
        self.pdf.ln(3)
        self.pdf.write_block(text, size=size, bold=True)
        self.pdf.ln(1)

    def line(self, label: str, value: Any) -> None:
        self.pdf.write_block(f"{label}: {_text(value)}", size=10)

    def paragraph(self, text: str) -> None:
        self.pdf.write_block(text, size=10)

    def none(self) -> None:
        self.paragraph(_("Niets."))


def _profile(w: _Writer, p: dict[str, Any]) -> None:
    w.heading(_("Profiel"), 12)
    for label, key in ((_("Naam"), "naam"), (_("Geboortedatum"), "geboortedatum"), (_("Adres"), "adres"),
                       (_("E-mail"), "email"), (_("Telefoon"), "telefoon"), (_("Taal"), "taal"),
                       (_("Voorkeurkanaal"), "voorkeurkanaal"), (_("Geen digitaal contact"), "geenDigitaalContact"),
                       (_("Ondersteuningsnoden"), "ondersteuningsnoden"),
                       (_("Rijksregisternummer gekend (alleen als sleutel)"), "rijksregisternummerGekend"),
                       (_("Aangemaakt door"), "aangemaaktDoor")):
        w.line(label, p[key])
    w.line(_("Aangemaakt op"), _when(p["aangemaaktOp"]))
    w.line(_("Gewijzigd op"), _when(p["gewijzigdOp"]))


def _preferences(w: _Writer, changes: list[dict[str, Any]]) -> None:
    w.heading(_("Wijzigingen van uw voorkeuren"), 12)
    for c in changes:
        w.paragraph(_("%(when)s via %(channel)s door %(who)s: %(fields)s", when=_when(c["tijdstip"]),
                      channel=c["kanaal"], who=c["door"], fields=", ".join(c["velden"])))
    if not changes:
        w.none()


def _consents(w: _Writer, consents: list[dict[str, Any]]) -> None:
    w.heading(_("Toestemmingen"), 12)
    for c in consents:
        decision = _("gegeven") if c["toegestaan"] else _("ingetrokken")
        w.paragraph(_("%(when)s – %(title)s (versie %(version)s): %(decision)s via %(channel)s door %(who)s",
                      when=_when(c["tijdstip"]), title=c["doelTitel"], version=c["doelVersie"], decision=decision,
                      channel=c["kanaal"], who=c["door"]))
        if c["ontvangstbewijs"]:
            w.line(_("Ontvangstbewijs"), c["ontvangstbewijs"]["consentReceiptID"])
    if not consents:
        w.none()


def _cases(w: _Writer, cases: list[dict[str, Any]]) -> None:
    w.heading(_("Meldingen en vragen"), 12)
    for c in cases:
        w.pdf.write_block(f"{c['referentie']} – {c['typeLabel']}", size=11, bold=True)
        w.line(_("Status"), c["status"])
        w.line(_("Ingediend op"), _when(c["aangemaaktOp"]))
        w.line(_("Kanaal"), c["kanaal"])
        w.line(_("Beschrijving"), c["beschrijving"])
        w.line(_("Adres"), c["adres"])
        if c["gegevens"]:
            w.line(_("Extra gegevens"), c["gegevens"])
        w.line(_("Melder"), ", ".join(str(v) for v in c["melder"].values() if v) or None)
        for event in c["gebeurtenissen"]:
            status = f" → {event['naarStatus']}" if event["naarStatus"] else ""
            w.paragraph(f"  {_when(event['tijdstip'])} {event['soort']}{status}"
                        + (f": {event['tekst']}" if event["tekst"] else ""))
        w.pdf.ln(2)
    if not cases:
        w.none()


def _contact_moments(w: _Writer, moments: list[dict[str, Any]]) -> None:
    w.heading(_("Contactmomenten"), 12)
    for m in moments:
        w.paragraph(f"{_when(m['tijdstip'])} – {m['kanaal']} – {m['onderwerp']}"
                    + (f" ({m['dossier']})" if m["dossier"] else ""))
        w.line(_("Samenvatting"), m["samenvatting"])
        w.line(_("Uitkomst"), m["uitkomst"])
    if not moments:
        w.none()


def _access_log(w: _Writer, rows: list[dict[str, Any]]) -> None:
    w.heading(_("Wie uw gegevens inkeek"), 12)
    for r in rows:
        w.paragraph(_("%(when)s – %(who)s, reden: %(reason)s; getoond: %(shown)s", when=_when(r["tijdstip"]),
                      who=r["door"], reason=r["reden"], shown=", ".join(r["getoond"]) or "–"))
    if not rows:
        w.none()


def _shares(w: _Writer, shares: list[dict[str, Any]]) -> None:
    w.heading(_("Deellinks"), 12)
    for s in shares:
        w.paragraph(_("%(when)s voor %(recipient)s, doel: %(purpose)s; geldig tot %(until)s; %(views)s van "
                      "%(max)s keer bekeken", when=_when(s["aangemaaktOp"]),
                      recipient=s["ontvanger"] or _("wie u de code toont"), purpose=s["doel"],
                      until=_when(s["geldigTot"]), views=s["aantalKeerBekeken"], max=s["maximumAantalKeer"]))
        w.line(_("Gedeelde gegevens"), ", ".join(s["velden"] + s["dossiers"]))
    if not shares:
        w.none()


def _plugin_sections(w: _Writer, sections: list[dict[str, Any]], language: str) -> None:
    for s in sections:
        if s["mislukt"]:
            w.heading(s["plugin"], 12)
            w.paragraph(s["melding"])
            continue
        w.heading(s["titel"].get(language) or s["titel"]["nl"], 12)
        w.paragraph(_text(s["inhoud"]))


def render_export_pdf(document: dict[str, Any], *, font_dir: Path | None) -> bytes:
    """The whole export as an A4 PDF."""
    language = document["metadata"]["taal"]
    account = document["metadata"]["account"]
    w = _Writer(font_dir)
    title = _("Kopie van uw gegevens bij Fygitaal")
    w.pdf.set_title(w.pdf.text_of(title))
    w.pdf.add_page()
    w.pdf.write_block(title, size=16, bold=True)
    w.line(_("Gemaakt op"), _when(document["metadata"]["aangemaaktOp"]))
    w.line(_("Account"), f"{account['naam']} ({account['email']})" if account["email"] else account["naam"])
    w.paragraph(_("Dit document bevat dezelfde gegevens als het JSON-bestand dat u samen met dit document kon "
                  "downloaden (artikel 15 AVG)."))
    for entry in document["gemeenten"]:
        w.heading(_("Gemeente %(name)s", name=entry["gemeente"]["naam"]), 15)
        _profile(w, entry["profiel"])
        _preferences(w, entry["voorkeurwijzigingen"])
        _consents(w, entry["toestemmingen"])
        _cases(w, entry["dossiers"])
        _contact_moments(w, entry["contactmomenten"])
        _access_log(w, entry["toegangslog"])
        _shares(w, entry["deellinks"])
        _plugin_sections(w, entry["pluginsecties"], language)
    if not document["gemeenten"]:
        w.paragraph(_("U hebt nog bij geen enkele gemeente een profiel."))
    return bytes(w.pdf.output())
