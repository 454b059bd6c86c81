"""The web chat channel served for real: our ASGI app on loopback, the real engine, SQLite,
the durable inbox and outbox; desk notices are collected (a test reads them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.channels.routing import RoutingOutbox
from bot.channels.web.channel import WebChat, citizen_of
from bot.delivery import OutboxSender, Outcome
from bot.http import build_http_app
from bot.storage import SqliteStorage
from bot.storage.files import SqliteStaffFiles
from bot.storage.webchat import SqliteWebChatLog
from flows.engine import Engine
from flows.models import ConversationKey, StaffNotice
from flows.ports import VN_TZ, Clock, ManualClock, OutboxItem, StaffDesk
from knowledge.holder import LibraryHolder
from knowledge.loader import DEFAULT_DIR
from tests.loopback import LoopbackServer

OPEN_TIME = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)


@dataclass
class CollectingDesk(StaffDesk):
    notices: list[StaffNotice] = field(default_factory=list)

    async def post(self, notice: StaffNotice) -> None:
        self.notices.append(notice)

    async def attempt(self, item: OutboxItem) -> Outcome:
        assert item.outgoing.notice is not None
        await self.post(item.outgoing.notice)
        return Outcome("sent")


@dataclass
class WebRig:
    web: WebChat
    engine: Engine
    storage: SqliteStorage
    desk: CollectingDesk
    sender: OutboxSender
    url: str
    http: httpx.AsyncClient
    clock: Clock

    async def session(self) -> str:
        response = await self.http.post(f"{self.url}/chat/api/session", content="{}")
        assert response.status_code == 200
        return str(response.json()["session"])

    async def send(self, session: str, client_id: str, **fields: Any) -> httpx.Response:
        import json

        body = json.dumps({"session": session, "id": client_id, **fields})
        return await self.http.post(
            f"{self.url}/chat/api/send", content=body, headers={"Content-Type": "text/plain"}
        )

    async def lines(self, session: str, after: int = 0, wait: float = 0) -> dict[str, Any]:
        response = await self.http.get(
            f"{self.url}/chat/api/messages",
            params={"session": session, "after": after, "wait": wait},
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def settle(self) -> None:
        """Process stored messages and deliver what the turns queued."""
        for _ in range(3):
            await self.web.drain()
            await self.sender.drain()

    def key(self, session: str) -> ConversationKey:
        return ConversationKey(channel="web", user_id=citizen_of(session))


@asynccontextmanager
async def web_rig(
    tmp_path: Path, clock: Clock | None = None, *, background: bool = False, **options: Any
) -> AsyncIterator[WebRig]:
    """`background`: the inbox worker and the outbox sender run by themselves (browser tests);
    otherwise a test calls `settle()`."""
    clock = clock or ManualClock(OPEN_TIME)
    storage = SqliteStorage(tmp_path / "bot.sqlite3")
    await storage.open()
    holder = LibraryHolder(DEFAULT_DIR, lambda: clock.now().date())
    files = SqliteStaffFiles(storage)
    web = WebChat(
        storage, SqliteWebChatLog(storage), clock, poll_seconds=0.05, files=files, **options
    )
    desk = CollectingDesk()
    sender = OutboxSender(
        storage, {"desk": desk, "web": web.outbox}, clock, backoff=(0.0,), poll_seconds=0.05
    )
    engine = Engine(
        holder.current, storage, desk, RoutingOutbox({"web": web.outbox}), clock, delivery=sender
    )
    web.bind(engine)
    if background:
        web.start()
        await sender.start()
    app = build_http_app(web.routes(), [web.health])
    try:
        async with LoopbackServer(app) as server, httpx.AsyncClient(timeout=10) as http:
            yield WebRig(web, engine, storage, desk, sender, server.url, http, clock)
    finally:
        await sender.stop()
        await web.stop()
        await storage.close()
