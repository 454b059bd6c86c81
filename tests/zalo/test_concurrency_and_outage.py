"""Zalo under load and outages: one citizen's slow operation does not hold up the others, each
citizen's messages are answered in order, and a real Zalo API outage loses nothing."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.delivery import OutboxSender
from tests.zalo.conftest import CITIZEN, ZaloRig
from tests.zalo.fakezalo import V3_SEND

OTHER = "8463212345678909999"


async def test_a_slow_citizen_does_not_hold_up_another_and_each_is_answered_in_order(
    zrig: ZaloRig,
) -> None:
    lookup = zrig.zalo.profile_gate[CITIZEN] = asyncio.Event()  # answered when we say so
    await zrig.say("khai sinh", CITIZEN)  # its turn waits for the lookup
    await zrig.post(zrig.event("user_send_text", CITIZEN, "kết hôn", msg_id="m-2"))
    await zrig.say("kết hôn", OTHER)
    [other] = await zrig.zalo.wait_sent(1, OTHER, timeout=30)
    assert other["text"].startswith("Đăng ký kết hôn")
    assert zrig.zalo.sent(CITIZEN) == []  # still being looked up, and its second message waits
    lookup.set()
    first, second = await zrig.zalo.wait_sent(2, CITIZEN, timeout=30)
    assert first["text"].startswith("Đăng ký khai sinh")  # in the order they were written
    assert second["text"].startswith("Đăng ký kết hôn")


async def test_a_zalo_outage_mid_reply_loses_nothing_and_the_sender_backs_off(
    zrig: ZaloRig,
) -> None:
    await zrig.sender.stop()  # one that backs off in the rig's manual clock instead
    sender = OutboxSender(
        zrig.storage,
        {"desk": zrig.telegram.desk, "zalo": zrig.channel.outbox},
        zrig.clock,
        backoff=(30.0, 60.0),
        poll_seconds=0.02,
    )
    await sender.start()
    try:
        zrig.zalo.profiles[CITIZEN] = "Bình"
        zrig.zalo.cut_on.add(V3_SEND)  # the reply's request starts the outage, unanswered
        await zrig.say("khai sinh")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while await attempts(zrig) != [1]:
            assert loop.time() < deadline, await attempts(zrig)
            await asyncio.sleep(0.02)
        await zrig.say("kết hôn")  # webhooks still arrive and are stored during the outage
        await asyncio.sleep(0.5)
        assert await attempts(zrig) == [1, 0]  # backed off; the next reply waits behind it
        await zrig.zalo.resume()
        zrig.clock.advance(dt.timedelta(seconds=30))
        sender.wake()
        first, second = await zrig.zalo.wait_sent(2, CITIZEN, timeout=60)
        await sender.drain()
    finally:
        await sender.stop()
    assert first["text"].startswith("Đăng ký khai sinh")
    assert second["text"].startswith("Đăng ký kết hôn")
    assert len(zrig.zalo.sent(CITIZEN)) == 2
    assert await attempts(zrig) == []


async def attempts(zrig: ZaloRig) -> list[int]:
    rows = await zrig.storage.database.read(
        "SELECT attempts FROM outbox WHERE target = 'zalo' ORDER BY id"
    )
    return [int(row[0]) for row in rows]
