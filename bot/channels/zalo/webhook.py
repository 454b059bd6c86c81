"""The Zalo webhook: check the signature, store the event, answer 200, then process it.

Zalo expects an answer within about 2 seconds and retries otherwise, so nothing slow happens
before the answer; the event is in the database before we answer, so a crash after the 200
loses nothing (unprocessed events are picked up at the next start). A retried delivery has the
same key and is stored, and so processed, once.

Events are processed from the inbox in order per citizen and concurrently across citizens (a
slow profile lookup delays only its own citizen); the turn marks its event done in its commit,
and a re-processed event (a crash before that commit) is answered, not taken for a duplicate.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.channels.zalo.events import CHANNEL, citizen_id, event_key, to_inbound
from bot.channels.zalo.outbox import ZaloOutbox
from bot.channels.zalo.signature import Variant, verify
from bot.crashpoints import crash_point
from bot.http import read_limited
from bot.inbox_worker import InboxWorker
from flows.engine import Engine
from flows.models import DEFAULT_COMMUNE
from flows.ports import Clock, InboxItem, Storage

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


def _citizen_of(event: Any) -> str:
    """Events of one citizen are processed one at a time, in order."""
    return (citizen_id(event) if isinstance(event, dict) else None) or ""


class ZaloReceiver:
    def __init__(
        self,
        storage: Storage,
        outbox: ZaloOutbox,
        clock: Clock,
        oa_secret_key: str,
        app_secret: str,
        variants: Sequence[Variant],
        max_skew: dt.timedelta,
        concurrency: int = 32,
        poll_seconds: float = 1.0,
        commune: str = DEFAULT_COMMUNE,
    ) -> None:
        self._commune = commune  # stamped on every conversation key this receiver makes
        self._storage = storage
        self._outbox = outbox
        self._clock = clock
        self._oa_secret = oa_secret_key
        self._app_secret = app_secret
        self._variants = tuple(variants)
        self._max_skew = max_skew
        self._engine: Engine | None = None
        self._inbox = InboxWorker(
            storage,
            clock,
            CHANNEL,
            self._handle,
            _citizen_of,
            "Zalo event",
            concurrency=concurrency,
            poll_seconds=poll_seconds,
            give_up=self._give_up,
        )
        self.matched: dict[str, int] = {}

    def bind(self, engine: Engine) -> None:
        self._engine = engine

    # --- HTTP ----------------------------------------------------------------------------------

    def route(self, path: str = "/zalo/webhook") -> Route:
        return Route(path, self.webhook, methods=["POST"])

    async def webhook(self, request: Request) -> Response:
        try:
            body = await read_limited(request, MAX_BODY)
        except ClientDisconnect:  # nothing stored, nothing answered: Zalo sends the event again
            log.info("Zalo webhook: the sender hung up before the whole event arrived")
            return PlainTextResponse("incomplete", status_code=400)
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
        # Stored before the 200: if this raises (disk full), Zalo gets a 500 and retries.
        await self._storage.inbox.receive(
            CHANNEL, event_key(event), json.dumps(event, ensure_ascii=False), self._clock.now()
        )
        self._inbox.wake()
        crash_point("zalo-after-store")
        return JSONResponse({"ok": True})

    def _fresh(self, event: dict[str, Any]) -> bool:
        stamp = str(event.get("timestamp", ""))
        if not stamp.isdigit():
            return False
        sent = dt.datetime.fromtimestamp(int(stamp) / 1000, dt.UTC)
        return abs(self._clock.now() - sent) <= self._max_skew

    # --- processing ------------------------------------------------------------------------------

    async def process_pending(self) -> int:
        """Start handling stored events not processed yet; returns how many were started."""
        if self._engine is None:
            raise RuntimeError("ZaloReceiver.bind(engine) was not called")
        return await self._inbox.process_pending()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every stored event is processed (tests)."""
        await self._inbox.drain(timeout)

    async def _handle(self, event: dict[str, Any], item: InboxItem) -> None:
        assert self._engine is not None
        inbound = to_inbound(event, self._commune)
        if inbound is None:
            log.info("Zalo event %r ignored", event.get("event_name"))
            await self._storage.inbox.done(item.id, self._clock.now())
            return
        inbound = inbound.model_copy(update={"receipt": item.id})
        if not inbound.display_name:
            known = await self._storage.conversations.by_key(inbound.key)
            if known is None or not known.display_name:
                name = await self._outbox.client.display_name(inbound.key.user_id)
                if name:
                    inbound = inbound.model_copy(update={"display_name": name})
        replies = await self._engine.handle(inbound)
        if not self._engine.durable:
            for reply in replies:
                if not await self._outbox.send(inbound.key, reply, answering=True):
                    break

    async def _give_up(self, event: Any, item: InboxItem) -> None:
        """An event the inbox skipped: a citizen who wrote or pressed something is told it was
        not handled (events that need no answer are just marked done)."""
        inbound = to_inbound(event, self._commune) if isinstance(event, dict) else None
        if self._engine is None or inbound is None or inbound.kind in ("follow", "unfollow"):
            await self._storage.inbox.done(item.id, self._clock.now())
            return
        await self._engine.unprocessed(inbound.key, item.id)

    def health(self) -> str | None:
        if not self._inbox.running:
            return "zalo: event processing is not running"
        return None

    def start(self) -> None:
        """Begin processing (including events left over from before a restart)."""
        self._inbox.start()

    async def stop(self) -> None:
        await self._inbox.stop()
