"""The Zalo webhook: check the signature, store the event, answer 200, then process it.

Zalo expects an answer within about 2 seconds and retries otherwise, so nothing slow happens
before the answer; the event is in the database before we answer, so a crash after the 200
loses nothing (unprocessed events are picked up at the next start). A retried delivery has the
same key and is stored, and so processed, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.channels.zalo.events import CHANNEL, event_key, to_inbound
from bot.channels.zalo.outbox import ZaloOutbox
from bot.channels.zalo.signature import Variant, verify
from bot.http import read_limited
from bot.storage.sqlite import SqliteStorage
from flows.engine import Engine
from flows.ports import Clock

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024  # Zalo events are small; anything bigger is not from Zalo


USER_FIELDS = ("sender", "follower", "user")
_ID = re.compile(r"[0-9A-Za-z_-]{1,40}")  # Zalo ids are digit strings; never objects or numbers


def malformed(event: dict[str, Any]) -> str | None:
    """Why a signed event cannot be stored and processed, or None. Lone surrogates cannot be
    stored as UTF-8; an id that is not a short string is not a Zalo user id."""
    try:
        json.dumps(event, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "text that is not valid Unicode"
    except RecursionError:
        return "nested too deeply"
    if not isinstance(event.get("event_name", ""), str):
        return "event_name is not a string"
    for field in USER_FIELDS:
        value = event.get(field)
        if value is None:
            continue
        if not isinstance(value, dict):
            return f"{field} is not an object"
        user_id = value.get("id")
        if user_id is not None and not (isinstance(user_id, str) and _ID.fullmatch(user_id)):
            return f"{field}.id is not an id string"
    message = event.get("message")
    if message is not None and not isinstance(message, dict):
        return "message is not an object"
    return None


class ZaloReceiver:
    def __init__(
        self,
        storage: SqliteStorage,
        outbox: ZaloOutbox,
        clock: Clock,
        oa_secret_key: str,
        app_secret: str,
        variants: Sequence[Variant],
        max_skew: dt.timedelta,
    ) -> None:
        self._storage = storage
        self._outbox = outbox
        self._clock = clock
        self._oa_secret = oa_secret_key
        self._app_secret = app_secret
        self._variants = tuple(variants)
        self._max_skew = max_skew
        self._engine: Engine | None = None
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self.matched: dict[str, int] = {}

    def bind(self, engine: Engine) -> None:
        self._engine = engine

    # --- HTTP ----------------------------------------------------------------------------------

    def route(self) -> Route:
        return Route("/zalo/webhook", self.webhook, methods=["POST"])

    async def webhook(self, request: Request) -> Response:
        body = await read_limited(request, MAX_BODY)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        header = request.headers.get("x-zevent-signature")
        if not header:
            log.warning("Zalo webhook without a signature from %s", request.client)
            return PlainTextResponse("missing signature", status_code=401)
        try:
            event = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            return PlainTextResponse("bad json", status_code=400)
        if not isinstance(event, dict):
            return PlainTextResponse("bad event", status_code=400)
        variant = verify(body, event, header, self._oa_secret, self._app_secret, self._variants)
        if variant is None:
            log.warning("Zalo webhook with a wrong signature (event %s)", event.get("event_name"))
            return PlainTextResponse("bad signature", status_code=401)
        if variant not in self.matched:
            log.info("Zalo webhook signature variant that matched: %s", variant)
        self.matched[variant] = self.matched.get(variant, 0) + 1
        problem = malformed(event)
        if problem is not None:
            log.warning("Zalo webhook event refused: %s", problem)
            return PlainTextResponse("bad event", status_code=400)
        if not self._fresh(event):
            log.warning(
                "Zalo webhook with a timestamp too far from now: %s", event.get("timestamp")
            )
            return PlainTextResponse("stale", status_code=401)
        await self._store(event)
        self._wake.set()
        return JSONResponse({"ok": True})

    def _fresh(self, event: dict[str, Any]) -> bool:
        stamp = str(event.get("timestamp", ""))
        if not stamp.isdigit():
            return False
        sent = dt.datetime.fromtimestamp(int(stamp) / 1000, dt.UTC)
        return abs(self._clock.now() - sent) <= self._max_skew

    async def _store(self, event: dict[str, Any]) -> None:
        await self._storage.execute(
            "INSERT OR IGNORE INTO inbound_events (channel, event_key, payload, received_at)"
            " VALUES (?, ?, ?, ?)",
            (
                CHANNEL,
                event_key(event),
                json.dumps(event, ensure_ascii=False),
                self._clock.now().isoformat(),
            ),
        )

    # --- processing ------------------------------------------------------------------------------

    async def process_pending(self) -> int:
        """Handle stored events not processed yet, oldest first; returns how many."""
        if self._engine is None:
            raise RuntimeError("ZaloReceiver.bind(engine) was not called")
        rows = await self._storage.query(
            "SELECT id, payload FROM inbound_events WHERE channel = ? AND processed_at IS NULL"
            " ORDER BY id LIMIT 100",
            (CHANNEL,),
        )
        for row_id, payload in rows:
            try:
                await self._handle(json.loads(payload))
            except Exception:
                log.exception("Zalo event %s failed; marked processed to avoid a loop", row_id)
            await self._storage.execute(
                "UPDATE inbound_events SET processed_at = ? WHERE id = ?",
                (self._clock.now().isoformat(), row_id),
            )
        return len(rows)

    async def _handle(self, event: dict[str, Any]) -> None:
        assert self._engine is not None
        inbound = to_inbound(event)
        if inbound is None:
            log.info("Zalo event %r ignored", event.get("event_name"))
            return
        if not inbound.display_name:
            known = await self._storage.find_by_key(inbound.key)
            if known is None or not known.display_name:
                name = await self._outbox.client.display_name(inbound.key.user_id)
                if name:
                    inbound = inbound.model_copy(update={"display_name": name})
        for reply in await self._engine.handle(inbound):
            if not await self._outbox.send(inbound.key, reply, answering=True):
                break

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                while await self.process_pending():
                    pass
            except Exception:
                log.exception("processing Zalo events failed; will retry on the next event")

    def health(self) -> str | None:
        if self._worker is None or self._worker.done():
            return "zalo: event processing is not running"
        return None

    def start(self) -> None:
        """Begin processing (including events left over from before a restart)."""
        if self._worker is None:
            self._worker = asyncio.create_task(self._run())
            self._wake.set()

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
