"""Run the real Telegram channel (real python-telegram-bot) against the fake Bot API."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.channels.routing import RoutingOutbox
from bot.channels.telegram.channel import TelegramChannel
from bot.config import Settings
from bot.delivery import OutboxSender
from bot.editor import editor_commands
from bot.storage import SqliteStorage
from flows.engine import Engine
from flows.ports import VN_TZ, ManualClock
from knowledge.holder import LibraryHolder
from knowledge.loader import DEFAULT_DIR
from tests.telegram.fakeapi import FakeBotApi

TOKEN = "123456:TESTtokenTESTtokenTESTtoken0"
STAFF_CHAT = -1001234567890
STAFF_USER = 7001
EDITOR = 5001
CITIZEN = 42
OPEN_TIME = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)


@dataclass
class TelegramRig:
    api: FakeBotApi
    channel: TelegramChannel
    engine: Engine
    storage: SqliteStorage
    clock: ManualClock
    sender: OutboxSender

    async def settle(self) -> None:
        """Process the inbox and deliver the outbox until both are empty."""
        for _ in range(3):
            await self.channel.drain()
            await self.sender.drain()

    async def citizen_texts(self, chat_id: int = CITIZEN, count: int = 1) -> list[str]:
        calls = await self.api.wait_for(
            "sendMessage",
            count=count,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == chat_id,
        )
        return [str(c.params["text"]) for c in calls]

    def staff_calls(self, method: str = "sendMessage") -> list:
        return [
            c for c in self.api.calls_to(method) if c.ok and int(c.params["chat_id"]) == STAFF_CHAT
        ]


def settings(**extra: object) -> Settings:
    values: dict[str, object] = {
        "telegram_bot_token": TOKEN,
        "telegram_staff_chat_id": STAFF_CHAT,
        "telegram_editor_ids": [EDITOR],
        "telegram_staff_names": {STAFF_USER: "Chị Lan"},
        "telegram_poll_timeout": 1,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[TelegramRig]:
    async with FakeBotApi(token=TOKEN) as api:
        api.staff_members[STAFF_CHAT] = {STAFF_USER}
        config = settings(telegram_base_url=api.base_url)
        storage = SqliteStorage(tmp_path / "bot.sqlite3")
        await storage.open()
        clock = ManualClock(OPEN_TIME)
        holder = LibraryHolder(DEFAULT_DIR, lambda: clock.now().date())
        channel = TelegramChannel(
            config,
            storage,
            storage.desk_links,
            clock,
            backoff=(0.01, 0.02, 0.05),
            poll_seconds=0.05,
        )
        sender = OutboxSender(
            storage,
            {"desk": channel.desk, "telegram": channel.outbox},
            clock,
            backoff=(0.0,),
            poll_seconds=0.05,
        )
        engine = Engine(
            holder.current,
            storage,
            channel.desk,
            RoutingOutbox({"telegram": channel.outbox}),
            clock,
            delivery=sender,
        )
        channel.bind(engine, editor_commands(holder, storage, clock))
        await channel.start()
        await sender.start()
        try:
            yield TelegramRig(api, channel, engine, storage, clock, sender)
        finally:
            await sender.stop()
            await channel.stop()
            await storage.close()
