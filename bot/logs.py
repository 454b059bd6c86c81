"""Logging set-up: nothing secret reaches the log.

httpx logs every request URL at INFO, and Bot API URLs carry the token (`…/bot<TOKEN>/getUpdates`):
those loggers are kept at WARNING. Whatever still slips through (a traceback quoting a URL, a
library's debug line) is redacted by the formatter, which knows the configured secrets and the
shape of a bot token, so the redaction covers the message, its arguments and the traceback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import IO

from pydantic import SecretStr

from bot.config import Settings

# Bot tokens (digits:35 letters), also inside URLs such as /bot123:abc/getUpdates
_BOT_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
# access_token=..., refresh_token=..., secret_key=... in query strings, forms, JSON
_QUERY_SECRET = re.compile(r"(?i)\b(\w*(?:token|secret)\w*)(=|[\"']?\s*:\s*[\"'])[^\s&\"',}]+")
REDACTED = "[đã ẩn]"
QUIET_LOGGERS = ("httpx", "httpcore", "telegram.ext.Updater", "hpack", "uvicorn.access")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _BOT_TOKEN.sub(REDACTED, text)
    return _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes secrets from the whole line (traceback included)."""

    def __init__(self, secrets: Iterable[str] = (), fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        # longest first, so a secret containing another is replaced whole
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


def settings_secrets(settings: Settings) -> list[str]:
    values = [getattr(settings, name) for name in type(settings).model_fields]
    return [v.get_secret_value() for v in values if isinstance(v, SecretStr)]


def configure_logging(settings: Settings, stream: IO[str]) -> logging.Handler:
    """Root handler on `stream` with redaction; chatty HTTP loggers raised to WARNING."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(settings_secrets(settings)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
