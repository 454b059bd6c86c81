"""A real Bot API outage (the server stops accepting and resets open connections, a long poll
and a reply in flight included): nothing is lost, the sender backs off instead of hammering a
dead server, and everything resumes once the server is back."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

from bot.delivery import OutboxSender
from bot.storage import SqliteStorage
from tests.telegram.conftest import CITIZEN, TelegramRig

OTHER = CITIZEN + 1
BACKOFF = 30.0  # seconds of the (manual) clock before a failed entry is due again


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def attempts(storage: SqliteStorage) -> list[int]:
    rows = await storage.database.read("SELECT attempts FROM outbox ORDER BY id")
    return [int(row[0]) for row in rows]


async def test_an_outage_mid_reply_loses_nothing_and_the_sender_backs_off(
    rig: TelegramRig,
) -> None:
    await rig.sender.stop()
    sender = OutboxSender(
        rig.storage,
        {"desk": rig.channel.desk, "telegram": rig.channel.outbox},
        rig.clock,
        backoff=(BACKOFF, 2 * BACKOFF),
        poll_seconds=0.02,
    )
    await sender.start()
    try:
        rig.api.cut_on.add("sendmessage")  # the reply's request starts the outage, unanswered
        rig.api.push_private_text(CITIZEN, "khai sinh")
        await until(lambda: rig.api.down)
        rig.api.push_private_text(OTHER, "kết hôn")  # Telegram keeps it: not confirmed yet
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while await attempts(rig.storage) != [1]:
            assert loop.time() < deadline, await attempts(rig.storage)
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)  # half a second of outage: still one failed round, no more
        assert await attempts(rig.storage) == [1]
        assert rig.api.sent_texts(chat_id=CITIZEN) == []

        await rig.api.resume()
        # polling resumes by itself; the other citizen's answer is not held up by the first
        await rig.api.wait_for(
            "sendMessage",
            timeout=30,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == OTHER,
        )
        assert rig.api.sent_texts(chat_id=CITIZEN) == []  # still waiting for its due time
        rig.clock.advance(dt.timedelta(seconds=BACKOFF))
        sender.wake()
        await rig.api.wait_for(
            "sendMessage",
            timeout=10,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == CITIZEN,
        )
        await sender.drain()
        await rig.api.wait_updates_consumed(timeout=10, confirmed=True)
    finally:
        await sender.stop()
    assert len(rig.api.sent_texts(chat_id=CITIZEN)) == 1
    assert len(rig.api.sent_texts(chat_id=OTHER)) == 1
    assert await attempts(rig.storage) == []


async def test_an_outage_during_the_long_poll_confirms_nothing_it_did_not_store(
    rig: TelegramRig,
) -> None:
    await rig.settle()
    await rig.api.cut()  # the open getUpdates is reset mid-wait
    rig.api.push_private_text(CITIZEN, "khai sinh")
    await asyncio.sleep(1.0)  # the poller keeps trying (with backoff) against a refused port
    await rig.api.resume()
    await rig.api.wait_updates_consumed(timeout=15, confirmed=True)
    await rig.settle()
    assert len(rig.api.sent_texts(chat_id=CITIZEN)) == 1
