"""A console world for tests: the real engine, SQLite storage, accounts and the web app.

The engine has a durable outbox (a delivery whose sender is the test), so a reply from the inbox
lands in the same outbox a Telegram staff reply would use. Argon2 runs with small costs here so
tests stay fast; production uses the library's defaults.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from starlette.applications import Starlette

from bot.channels.local import LocalDesk, LocalOutbox
from bot.http import build_http_app
from bot.storage import SqliteStorage
from bot.storage.accounts import SqliteAccountStore
from bot.storage.files import SqliteStaffFiles
from bot.web.app import WebConsole, console_routes
from bot.web.auth import AuthService, LoginLimiter
from bot.web.inbox_backend import FlowsInbox
from flows.engine import Engine, EngineConfig
from flows.models import ConversationKey, Inbound
from flows.ports import VN_TZ, Delivery, ManualClock, Outgoing
from knowledge.holder import LibraryHolder
from knowledge.loader import DEFAULT_DIR

OPEN_TIME = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)  # a Tuesday, office open
PASSWORD = "mật-khẩu-đủ-dài-2026"
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Wake(Delivery):
    def __init__(self) -> None:
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1


class World:
    def __init__(self, db: Path) -> None:
        self.clock = ManualClock(OPEN_TIME)
        self.storage = SqliteStorage(db)
        self.holder = LibraryHolder(DEFAULT_DIR, lambda: self.clock.now().date())
        self.notices: list[Any] = []
        sink = lambda *item: self.notices.append(item)  # noqa: E731
        self.engine = Engine(
            self.holder.current,
            self.storage,
            LocalDesk(sink),
            LocalOutbox(sink),
            self.clock,
            EngineConfig(reminder_minutes=15),
            delivery=Wake(),
        )
        self.accounts = SqliteAccountStore(self.storage)
        self.auth = AuthService(self.accounts, self.clock, LoginLimiter(self.clock), hasher=FAST)
        self.inbox = FlowsInbox(
            self.engine,
            self.storage,
            self.accounts,
            self.holder.current,
            self.clock,
            SqliteStaffFiles(self.storage),
        )
        self.console = WebConsole(
            self.auth, self.inbox, secure_cookies=False, live_poll_seconds=0.05
        )
        self.app: Starlette = build_http_app(
            console_routes(self.console), middleware=[self.console.middleware()]
        )

    async def __aenter__(self) -> World:
        await self.storage.open()
        self.holder.load()
        await self.auth.create_account("lan", PASSWORD, "Chị Lan", roles={"default": {"staff"}})
        await self.auth.create_account("minh", PASSWORD, "Anh Minh", roles={"default": {"staff"}})
        await self.auth.create_account(
            "quantri", PASSWORD, "Quản trị xã", roles={"default": {"admin"}}
        )
        await self.auth.create_account(
            "bientap", PASSWORD, "Biên tập viên", roles={"default": {"editor"}}
        )
        await self.auth.create_account(
            "xakhac", PASSWORD, "Cán bộ xã khác", roles={"xa-khac": {"admin"}}
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.storage.close()

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://127.0.0.1"
        )

    async def citizen(self, text: str, user: str = "c1", name: str = "Nguyễn Văn An") -> int:
        key = ConversationKey(channel="telegram", user_id=user)
        await self.engine.handle(Inbound(key=key, text=text, display_name=name))
        conversation = await self.storage.conversations.by_key(key)
        assert conversation is not None
        return conversation.id

    async def to_citizen(self, user: str = "c1") -> list[str]:
        """What the outbox holds for the citizen (and marks it sent)."""
        texts = []
        for item in await self.storage.outbox.claim(self.clock.now(), dt.timedelta(minutes=1)):
            out: Outgoing = item.outgoing
            await self.storage.outbox.sent(item.id)
            if out.key is not None and out.key.user_id == user and out.reply is not None:
                texts.append(out.reply.text)
        return texts

    async def drain(self, user: str = "c1") -> list[str]:
        texts: list[str] = []
        while batch := await self.to_citizen(user):
            texts += batch
        return texts


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no csrf field in the page"
    return found.group(1)


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    page = await client.get("/admin/login")
    return await client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf": csrf_of(page.text)},
    )
