"""Letters for residents who want paper: an A4 PDF per outbox row (drawn by the worker only, so web
workers never load the PDF library).

The text is set in DejaVu Sans (Debian's ``fonts-dejavu-core``, a Unicode TrueType font), so
‘quotes’, … and é ë come out as written. Where that font is missing (``FYGITAAL_LETTER_FONT_DIR``
names the folder) the letter falls back to the PDF core font Helvetica, which only knows Latin-1:
typographic punctuation is then transliterated (‘ → ', … → ...) and other characters lose their
accents rather than making the letter fail.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fpdf import FPDF

log = logging.getLogger("fygitaal.outbox")

BRUSSELS = ZoneInfo("Europe/Brussels")
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"

# What Latin-1 lacks but Dutch and French text commonly holds.
_LATIN1_STAND_INS = str.maketrans({
    "‘": "'", "’": "'", "‚": ",", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"', "′": "'", "″": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "…": "...", "•": "-", "€": "EUR", "\u00a0": " ",
    "\u202f": " ", "\u2009": " ", "œ": "oe", "Œ": "OE", "ĳ": "ij", "Ĳ": "IJ",
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i",
})


def letter_key(tenant_slug: str, message_id: int) -> str:
    """Where a letter is stored: ``letters/<slug>/<id>.pdf``."""
    return f"letters/{tenant_slug}/{message_id}.pdf"


def to_latin1(text: str) -> str:
    """The fallback font's alphabet: stand-ins for punctuation, accents dropped where Latin-1 has none."""
    text = text.translate(_LATIN1_STAND_INS)
    out = []
    for char in text:
        if ord(char) < 256:
            out.append(char)
            continue
        plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        out.append(plain if plain and all(ord(c) < 256 for c in plain) else "?")
    return "".join(out)


@functools.cache
def unicode_font(font_dir: Path | None) -> bool:
    """Whether the Unicode font is there (checked, and a missing one reported, once per folder)."""
    found = bool(font_dir and (font_dir / REGULAR).is_file() and (font_dir / BOLD).is_file())
    if not found:
        log.warning("letter font %s not found in %s: letters use Helvetica with Latin-1 transliteration "
                    "(install fonts-dejavu-core or set FYGITAAL_LETTER_FONT_DIR)", REGULAR, font_dir)
    return found


class _Letter(FPDF):
    def __init__(self, font_dir: Path | None) -> None:
        super().__init__(format="A4", unit="mm")
        self.has_unicode_font = unicode_font(font_dir)
        if self.has_unicode_font:
            assert font_dir is not None
            self.add_font("Letter", "", str(font_dir / REGULAR))
            self.add_font("Letter", "B", str(font_dir / BOLD))
            self.letter_family = "Letter"
        else:
            self.letter_family = "Helvetica"
        self.set_margins(25, 20, 20)
        self.set_auto_page_break(auto=True, margin=20)

    def text_of(self, text: str) -> str:
        return text if self.has_unicode_font else to_latin1(text)

    def write_block(self, text: str, *, size: float = 11, bold: bool = False, align: str = "L",
                    x: float | None = None, width: float = 0) -> None:
        self.set_font(self.letter_family, "B" if bold else "", size)
        if x is not None:
            self.set_x(x)
        self.multi_cell(width, size * 0.5, self.text_of(text), align=align, new_x="LMARGIN", new_y="NEXT")


def render_letter(*, sender: str, recipient: str, subject: str, body: str, at: datetime, language: str,
                  font_dir: Path | None) -> bytes:
    """An A4 letter: the municipality as sender, the address block where a window envelope shows it,
    the place and date (Europe/Brussels, in the resident's language), the subject in bold, the body."""
    pdf = _Letter(font_dir)
    pdf.set_title(pdf.text_of(subject))
    pdf.set_author(pdf.text_of(sender))
    pdf.add_page()
    pdf.write_block(sender, size=13, bold=True)
    pdf.set_y(50)  # the right-hand window of a DL envelope
    pdf.write_block(recipient, x=110, width=75)
    local = at.astimezone(BRUSSELS).date()
    pdf.set_y(90)
    pdf.write_block(format_date(local, format="long", locale=language or "nl"), align="R")
    pdf.ln(8)
    pdf.write_block(subject, bold=True)
    pdf.ln(5)
    pdf.write_block(body, align="L")
    return bytes(pdf.output())

