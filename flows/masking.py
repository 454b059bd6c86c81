"""Mask personal numbers and addresses before text is written to the transcript, events or logs.

Citizens paste their ID number, phone, bank account or e-mail into chats; the transcript is read
by staff and kept for reports, so we store only enough to recognise the value: the last three
digits of a number, the first letter and the domain of an e-mail.

Any run of 8 or more digits is personal whatever its grouping (`001 203 004 567`,
`(024) 3825-1234`, `0912.345.678`, a 14-digit account): IDs have 9 or 12 digits, phones 10-11,
landlines 10-11 with the area code, bank accounts 8-19. Amounts written the Vietnamese way
(`15.000.000`) are not masked: groups of three after a dot, and no leading zero (an ID or phone
number starts with 0); nor are dates (`01.02.2026`, `2026-12-01`) and our own reference codes
(`PA-2026-000042`).
"""

from __future__ import annotations

import re

# Vietnamese mobile/landline numbers: 0xxxxxxxxx, +84 / 84 prefix, with optional separators.
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
# A run of digits with separators a person would type between groups.
_DIGITS = re.compile(r"(?<!\d)(?<![A-Za-z]-)\+?\(?\d(?:(?:[ .\-]|\)\s?|\s?\(|\s-\s)?\d){7,}(?!\d)")
_AMOUNT = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+")
_DATE = re.compile(r"\d{1,2}([.\-])\d{1,2}\1\d{4}|\d{4}-\d{2}-\d{2}")
# Passport numbers: one or two letters and 7-8 digits (C1234567, N1234567, AB1234567).
_PASSPORT = re.compile(r"\b[A-Za-z]{1,2}\d{7,8}\b")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
MIN_DIGITS = 8
_ANY_DIGIT = re.compile(r"\d")


def _keep_last_three(digits: str) -> str:
    return "*" * (len(digits) - 3) + digits[-3:]


def _number(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) < MIN_DIGITS or _AMOUNT.fullmatch(text) or _DATE.fullmatch(text):
        return text
    return _keep_last_three(digits)


def _passport(match: re.Match[str]) -> str:
    digits = "".join(c for c in match.group(0) if c.isdigit())
    return "*" + _keep_last_three(digits)


def mask_personal(text: str) -> str:
    if "@" not in text and _ANY_DIGIT.search(text) is None:
        return text  # every pattern needs a digit or an "@": most questions have neither
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _PASSPORT.sub(_passport, text)
    return _DIGITS.sub(_number, text)


def find_phone(text: str) -> str | None:
    """A phone number the citizen typed, normalised to digits (0xxxxxxxxx), or None."""
    match = _PHONE.search(text)
    if not match:
        return None
    digits = "".join(c for c in match.group(0) if c.isdigit())
    if digits.startswith("84"):
        digits = "0" + digits[2:]
    return digits if 10 <= len(digits) <= 11 else None
