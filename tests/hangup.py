"""A client that hangs up in the middle of its request body, spoken as raw ASGI."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp


async def post_and_hang_up(
    app: ASGIApp, path: str, headers: dict[str, str], first: bytes
) -> list[int]:
    """POST `first` as the start of a longer body, then disconnect; the statuses answered."""
    events = iter(
        [{"type": "http.request", "body": first, "more_body": True}, {"type": "http.disconnect"}]
    )
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(events, {"type": "http.disconnect"})

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }  # fmt: skip
    await app(scope, receive, send)
    return [m["status"] for m in sent if m["type"] == "http.response.start"]
