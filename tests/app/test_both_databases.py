"""The whole process (`run_bot`, the production wiring) on SQLite and on PostgreSQL: a handoff
whose state survives a restart, a staff reply and "Đóng" reach the citizen once."""

from __future__ import annotations

import asyncio

from bot.app import run_bot
from flows.ports import ManualClock
from tests.app.test_run import SUNDAY
from tests.telegram.conftest import STAFF_CHAT, STAFF_USER, TOKEN
from tests.telegram.conftest import settings as tg_settings
from tests.telegram.fakeapi import Call, FakeBotApi

CITIZEN = 42


def to_citizen(call: Call) -> bool:
    return call.ok and int(call.params["chat_id"]) == CITIZEN


async def test_a_handoff_survives_a_restart_and_the_staff_reply_and_close_arrive_once(
    bot_db: str,
) -> None:
    async with FakeBotApi(token=TOKEN) as tg:
        tg.staff_members[STAFF_CHAT] = {STAFF_USER}
        settings = tg_settings(telegram_base_url=tg.base_url, bot_db=bot_db)
        clock = ManualClock(SUNDAY)  # no weekly list: the staff group holds only the handoff

        async def run(until: asyncio.Event) -> asyncio.Task[None]:
            return asyncio.create_task(
                run_bot(settings, stop=until, tick_seconds=0.05, clock=clock)
            )

        first = asyncio.Event()
        running = await run(first)
        tg.push_private_text(CITIZEN, "cho tôi gặp cán bộ", first_name="Bình")
        [header] = await tg.wait_for(
            "sendMessage",
            predicate=lambda c: (
                c.ok and int(c.params["chat_id"]) == STAFF_CHAT and "message_thread_id" in c.params
            ),
        )
        await tg.wait_for("sendMessage", predicate=to_citizen)  # "you are number 1..."
        await tg.wait_updates_consumed(confirmed=True)
        first.set()
        await asyncio.wait_for(running, timeout=20)

        # a new process on the same database: the topic still leads to the citizen
        second = asyncio.Event()
        running = await run(second)
        thread = int(header.params["message_thread_id"])
        tg.push_group_text(STAFF_CHAT, thread, STAFF_USER, "Anh mang CCCD nhé.")
        tg.push_group_callback(
            STAFF_CHAT, thread, STAFF_USER, "close:1", header.result["message_id"]
        )
        await tg.wait_for("sendMessage", predicate=to_citizen, count=3)
        await tg.wait_updates_consumed(confirmed=True)
        second.set()
        await asyncio.wait_for(running, timeout=20)

    texts = tg.sent_texts(chat_id=CITIZEN)
    assert len(texts) == 3, texts  # queued notice, the staff answer, the closing message
    assert texts[1].startswith("Anh mang CCCD nhé.")
    assert len(tg.calls_to("createForumTopic")) == 1
    assert not tg.server_errors
