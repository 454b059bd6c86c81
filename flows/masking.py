"""Mask phone and identity numbers before text is written to the transcript or logs.

Citizens paste their ID number or phone into chats; the transcript is read by staff and kept for
reports, so we store only enough digits to recognise the number.
"""

from __future__ import annotations

import re

# Vietnamese mobile/landline numbers: 0xxxxxxxxx, +84 / 84 prefix, with optional separators.
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
# Citizen ID (12 digits) and old ID card (9 digits), possibly written in groups.
_ID = re.compile(r"(?<!\d)(?:\d[\s.\-]?){8}\d(?:(?:[\s.\-]?\d){3})?(?!\d)")


def _mask(match: re.Match[str]) -> str:
    digits = [c for c in match.group(0) if c.isdigit()]
    return "*" * (len(digits) - 3) + "".join(digits[-3:])


def mask_personal(text: str) -> str:
    return _ID.sub(_mask, _PHONE.sub(_mask, text))


def find_phone(text: str) -> str | None:
    """A phone number the citizen typed, normalised to digits (0xxxxxxxxx), or None."""
    match = _PHONE.search(text)
    if not match:
        return None
    digits = "".join(c for c in match.group(0) if c.isdigit())
    if digits.startswith("84"):
        digits = "0" + digits[2:]
    return digits if 10 <= len(digits) <= 11 else None
