"""getUpdates that survives an update python-telegram-bot cannot parse.

PTB parses a whole getUpdates batch at once: one update it cannot read makes the call fail, the
offset never moves past it, and every later update waits behind it forever (while logging the
raw batch, citizens' messages included, at CRITICAL). Here each update of the answer is checked
on its own; one that does not parse is replaced by its bare `update_id`, so the offset moves on
and no handler sees it. The update id alone is logged. Each successful poll is recorded, which
is how /healthz notices a stalled channel.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.request import HTTPXRequest, RequestData
from telegram.request._baserequest import BaseRequest

log = logging.getLogger(__name__)


def sanitise_updates(payload: bytes) -> bytes:
    """The getUpdates answer with every unparseable update reduced to its id."""
    try:
        answer = json.loads(payload)
    except (ValueError, RecursionError):
        return payload
    result = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(result, list):
        return payload
    changed = False
    for index, raw in enumerate(result):
        if readable(raw):
            continue
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not isinstance(update_id, int):
            continue  # without an id there is nothing to skip to; PTB will report it
        log.error("skipped Telegram update %s: it cannot be parsed", update_id)
        result[index] = {"update_id": update_id}
        changed = True
    return json.dumps(answer).encode() if changed else payload


def readable(raw: Any) -> bool:
    try:
        Update.de_json(raw, None)
    except Exception:
        return False
    return True


class UpdatesRequest(HTTPXRequest):
    def __init__(self, on_poll: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_poll = on_poll

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, payload = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if not url.endswith("/getUpdates") or status != 200:
            return status, payload
        if self._on_poll is not None:
            self._on_poll()
        return status, sanitise_updates(payload)
