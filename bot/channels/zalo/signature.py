"""Zalo webhook signatures: `X-ZEvent-Signature: mac=<hex>`.

hex = SHA-256 (a plain digest, not HMAC) of app id + raw body + timestamp + secret. Public
sources disagree on which id and which secret, so the formulas to accept are configurable and
the one that matched is reported (log it and check against the real OA).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any, Literal

Variant = Literal["app_id", "oa_id", "app_secret"]


def mac(app_or_oa_id: str, body: bytes, timestamp: str, secret: str) -> str:
    digest = hashlib.sha256()
    digest.update(app_or_oa_id.encode())
    digest.update(body)
    digest.update(timestamp.encode())
    digest.update(secret.encode())
    return digest.hexdigest()


def verify(
    body: bytes,
    event: dict[str, Any],
    header: str,
    oa_secret_key: str,
    app_secret: str,
    variants: Sequence[Variant],
) -> Variant | None:
    """The variant whose signature matches `header`, compared in constant time; else None."""
    given = header.strip()
    if given.lower().startswith("mac="):
        given = given[4:]
    given = given.strip().lower()
    timestamp = str(event.get("timestamp", ""))
    for variant in variants:
        ident = str(event.get("oa_id" if variant == "oa_id" else "app_id", ""))
        secret = app_secret if variant == "app_secret" else oa_secret_key
        if not ident:
            continue
        if hmac.compare_digest(given.encode(), mac(ident, body, timestamp, secret).encode()):
            return variant
    return None
