"""The Belgian national register number (rijksregisternummer): checked, then only ever hashed.

Only about 10⁹ valid numbers exist, so an unkeyed hash is brute-forced in minutes; we keep an
HMAC whose key is derived from the instance secret and a scope (the platform, or one
municipality), so one municipality's hashes are useless for matching in another. The raw number
is never stored and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_NON_DIGITS = re.compile(r"[\s.\-]")


class InvalidNationalNumber(ValueError):
    """Not 11 digits, or the check digits do not match."""


def normalise(value: str) -> str:
    """Digits only (people write ``85.07.30-033.28``); raises when it cannot be a valid number."""
    digits = _NON_DIGITS.sub("", value or "")
    if not re.fullmatch(r"\d{11}", digits):
        raise InvalidNationalNumber("a national register number has 11 digits")
    base, check = int(digits[:9]), int(digits[9:])
    if 97 - (base % 97) != check and 97 - (int("2" + digits[:9]) % 97) != check:
        raise InvalidNationalNumber("the check digits of this national register number do not match")
    return digits


def is_valid(value: str) -> bool:
    try:
        normalise(value)
    except InvalidNationalNumber:
        return False
    return True


def scope_key(instance_secret: str, scope: str) -> bytes:
    """A key per scope (``platform`` or a tenant slug), derived from the instance secret."""
    label = f"rijksregisternummer:{scope}".encode()
    return hmac.new(instance_secret.encode(), label, hashlib.sha256).digest()


def keyed_hash(instance_secret: str, scope: str, value: str) -> str:
    """The only form in which a national register number is kept."""
    return hmac.new(scope_key(instance_secret, scope), normalise(value).encode(), hashlib.sha256).hexdigest()
