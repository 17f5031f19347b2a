"""Photos: checked by their content (not their name), size-limited, re-encoded without metadata.

Re-encoding drops everything but the pixels, so a phone's GPS position in the EXIF data never
reaches the case, the staff or another resident.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "HEIF", "MPO"})
MAX_PIXELS = 40_000_000
LONGEST_SIDE = 2048


class PhotoRejected(ValueError):
    """Not an image, or too large; the message says which."""


@dataclass(frozen=True)
class Photo:
    """A clean JPEG, ready to store."""

    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


def clean_photo(raw: bytes, max_bytes: int) -> Photo:
    """Open by content, refuse what is not a photo, strip metadata by re-encoding as JPEG."""
    if len(raw) > max_bytes:
        raise PhotoRejected(_("Een foto mag hoogstens %(mb)s MB zijn.", mb=max_bytes // (1024 * 1024)))
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise PhotoRejected(_("Dit bestand is geen foto (JPEG, PNG of WebP)."))
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoRejected(_("Deze foto heeft te veel beeldpunten."))
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
            rgba = image.convert("RGBA")
            clean = Image.new("RGB", image.size, "white")  # a new image: no EXIF, no profile, no text
            clean.paste(rgba, mask=rgba.getchannel("A"))
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PhotoRejected(_("Dit bestand is geen foto (JPEG, PNG of WebP).")) from exc
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85, optimize=True)
    return Photo(out.getvalue(), clean.width, clean.height)


def new_key(tenant_slug: str) -> str:
    return f"{tenant_slug}/{secrets.token_hex(16)}.jpg"
