"""One ASGI app for every inbound HTTP need: health check and platform webhooks.

Webhook handlers check the platform's secret before reading anything else and answer quickly;
the work happens after the answer (updates are queued, not processed inline).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.crashpoints import crash_point

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000  # bytes; Telegram updates are a few KiB
Feed = Callable[[dict[str, Any]], Awaitable[None]]


async def read_limited(request: Request, limit: int = MAX_BODY) -> bytes | None:
    """The body, or None when it is larger than `limit` (read no further than that)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return body


async def _after_answer() -> None:
    crash_point("telegram-webhook-after-200")


def telegram_route(feed: Feed, secret: str | None, path: str = "/telegram/webhook") -> Route:
    async def webhook(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if secret is not None and not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("Telegram webhook with a wrong secret token from %s", request.client)
            return PlainTextResponse("forbidden", status_code=403)
        try:
            body = await read_limited(request)
        except ClientDisconnect:  # nothing stored and no one to answer: Telegram sends it again
            log.info("Telegram webhook: the sender hung up before the whole update arrived")
            return PlainTextResponse("incomplete", status_code=400)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return PlainTextResponse("bad json", status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return PlainTextResponse("not an update", status_code=400)
        try:
            await feed(data)
        except ValueError:
            log.warning("Telegram webhook update %s cannot be read; refused", data["update_id"])
            return PlainTextResponse("not an update", status_code=400)
        # runs once the 200 is on the wire: a crash test's "killed after answering Telegram"
        return PlainTextResponse("ok", background=BackgroundTask(_after_answer))

    return Route(path, webhook, methods=["POST"])


Health = Callable[[], str | None]


def build_http_app(
    routes: Sequence[BaseRoute],
    checks: list[Health] | None = None,
    middleware: Sequence[Middleware] = (),
) -> Starlette:
    """`checks` each return None when fine, or why a channel is not working (then 503).
    `middleware` wraps every route (the web console's session and CSRF middleware)."""

    async def healthz(request: Request) -> Response:
        problems = [p for p in (check() for check in checks or []) if p]
        if problems:
            return JSONResponse({"ok": False, "problems": problems}, status_code=503)
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), *routes], middleware=list(middleware)
    )
