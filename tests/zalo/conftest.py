"""The real Zalo channel: signed webhooks over real HTTP to our app on loopback, the real httpx
client talking to a fake Zalo API, and the Telegram staff desk on the fake Bot API."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.routing import RoutingOutbox
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.zalo.channel import ZaloChannel
from bot.config import Settings
from bot.delivery import OutboxSender
from bot.http import build_http_app
from bot.storage import SqliteStorage
from flows.engine import Engine
from flows.ports import VN_TZ, ManualClock
from knowledge.holder import LibraryHolder
from knowledge.loader import DEFAULT_DIR
from tests.loopback import LoopbackServer
from tests.telegram.conftest import STAFF_CHAT, STAFF_USER, TOKEN
from tests.telegram.fakeapi import FakeBotApi
from tests.zalo.fakezalo import FakeZalo, make_event, signed_request

OA_SECRET = "OAsecretKEY123"
APP_SECRET = "APPSECRET"
APP_ID = "1234567890123456789"
CITIZEN = "8463212345678901234"
OPEN_TIME = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)


@dataclass
class ZaloRig:
    zalo: FakeZalo
    telegram_api: FakeBotApi
    channel: ZaloChannel
    engine: Engine
    storage: SqliteStorage
    clock: ManualClock
    url: str
    http: httpx.AsyncClient
    sender: OutboxSender
    telegram: TelegramChannel

    def stamp(self) -> str:
        return str(int(self.clock.now().timestamp() * 1000))

    def event(
        self, kind: str, user_id: str = CITIZEN, text: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        extra.setdefault("timestamp", self.stamp())
        return make_event(kind, user_id, text=text, app_id=APP_ID, **extra)

    async def post(self, event: dict[str, Any], secret: str = OA_SECRET) -> httpx.Response:
        body, headers = signed_request(event, secret)
        return await self.http.post(self.url, content=body, headers=headers)

    async def say(self, text: str, user_id: str = CITIZEN) -> httpx.Response:
        response = await self.post(self.event("user_send_text", user_id, text))
        assert response.status_code == 200, response.text
        return response

    async def stored_events(self) -> int:
        rows = await self.storage.database.read("SELECT count(*) FROM inbound_events")
        return int(rows[0][0])


def zalo_settings(zalo: FakeZalo, telegram_base: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        telegram_staff_chat_id=STAFF_CHAT,
        telegram_staff_names={STAFF_USER: "Chị Lan"},
        telegram_base_url=telegram_base,
        telegram_poll_timeout=1,
        zalo_app_id=APP_ID,
        zalo_app_secret=APP_SECRET,
        zalo_oa_secret_key=OA_SECRET,
        zalo_access_token="AT-1",
        zalo_refresh_token="RT-1",
        zalo_api_base_url=zalo.api_base_url,
        zalo_oauth_base_url=zalo.oauth_base_url,
    )


@pytest.fixture
async def zrig(tmp_path: Path) -> AsyncIterator[ZaloRig]:
    async with (
        FakeZalo(app_id=APP_ID, app_secret=APP_SECRET) as zalo,
        FakeBotApi(token=TOKEN) as tg,
    ):
        tg.staff_members[STAFF_CHAT] = {STAFF_USER}
        settings = zalo_settings(zalo, tg.base_url)
        storage = SqliteStorage(tmp_path / "bot.sqlite3")
        await storage.open()
        clock = ManualClock(OPEN_TIME)
        holder = LibraryHolder(DEFAULT_DIR, lambda: clock.now().date())
        telegram = TelegramChannel(
            settings, storage, storage.desk_links, clock, backoff=(0.01,), poll_seconds=0.05
        )
        channel = ZaloChannel(settings, storage, clock, backoff=(0.01, 0.02))
        sender = OutboxSender(
            storage,
            {"desk": telegram.desk, "telegram": telegram.outbox, "zalo": channel.outbox},
            clock,
            backoff=(0.0,),
            poll_seconds=0.05,
        )
        engine = Engine(
            holder.current,
            storage,
            telegram.desk,
            RoutingOutbox({"telegram": telegram.outbox, "zalo": channel.outbox}),
            clock,
            delivery=sender,
        )
        telegram.bind(engine)
        channel.bind(engine)
        await telegram.start()
        await channel.start()
        await sender.start()
        app = build_http_app([channel.receiver.route()])
        try:
            async with LoopbackServer(app) as server, httpx.AsyncClient(timeout=5) as http:
                url = f"{server.url}/zalo/webhook"
                yield ZaloRig(
                    zalo, tg, channel, engine, storage, clock, url, http, sender, telegram
                )
        finally:
            await sender.stop()
            await channel.stop()
            await telegram.stop()
            await storage.close()
