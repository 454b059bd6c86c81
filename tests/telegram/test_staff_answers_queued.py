"""What the desk sends outside conversation turns (answers to /hangcho and /baocao, a staff
member's file for the citizen) goes through the durable outbox: answered where it was asked,
and a transient failure delays it instead of losing it."""

from __future__ import annotations

from tests.telegram.conftest import CITIZEN, STAFF_CHAT, STAFF_USER, TelegramRig
from tests.telegram.test_channel import handoff as open_handoff
from tests.telegram.test_channel import wait_citizen

WARM = 777  # another citizen, whose first question loads the guides (slow on a busy machine)


async def handoff(rig: TelegramRig) -> int:
    rig.api.push_private_text(WARM, "khai sinh")
    await rig.api.wait_for(
        "sendMessage", timeout=60, predicate=lambda c: c.ok and int(c.params["chat_id"]) == WARM
    )
    return await open_handoff(rig)


async def test_queue_answer_goes_to_the_topic_it_was_asked_in_despite_a_failure(
    rig: TelegramRig,
) -> None:
    thread = await handoff(rig)
    rig.api.fail_next("sendMessage", status=502, times=4)  # one whole round of tries fails
    rig.api.push_group_command(STAFF_CHAT, STAFF_USER, "/hangcho", thread_id=thread)
    [listing] = await rig.api.wait_for(
        "sendMessage", timeout=20, predicate=lambda c: c.ok and "Hàng chờ" in c.params["text"]
    )
    await rig.settle()
    assert int(listing.params["message_thread_id"]) == thread
    assert len([t for t in rig.api.sent_texts(chat_id=STAFF_CHAT) if "Hàng chờ" in t]) == 1


async def test_a_staff_file_reaches_the_citizen_once_after_a_transient_failure(
    rig: TelegramRig,
) -> None:
    thread = await handoff(rig)
    before = len(rig.api.sent_texts(chat_id=CITIZEN))
    rig.api.fail_next("copyMessage", status=502, times=4)
    rig.api.push_group_photo(STAFF_CHAT, thread, STAFF_USER, caption="Mẫu tờ khai đây ạ")
    await rig.api.wait_for(
        "copyMessage",
        timeout=20,
        predicate=lambda c: c.ok and int(c.params["chat_id"]) == CITIZEN,
    )
    await rig.settle()
    copies = [
        c for c in rig.api.calls_to("copyMessage") if c.ok and int(c.params["chat_id"]) == CITIZEN
    ]
    assert len(copies) == 1
    assert int(copies[0].params["from_chat_id"]) == STAFF_CHAT
    # the caption is not sent a second time as text (the copy carries it)
    assert len(rig.api.sent_texts(chat_id=CITIZEN)) == before


async def test_the_report_chart_is_retried_not_dropped(rig: TelegramRig) -> None:
    async def report() -> tuple[str, bytes | None]:
        return "Báo cáo 30 ngày", b"\x89PNG\r\n\x1a\n fake chart"

    rig.channel.bind(rig.engine, report=report)
    rig.api.fail_next("sendPhoto", status=502, times=4)
    rig.api.push_group_command(STAFF_CHAT, STAFF_USER, "/baocao")
    await rig.api.wait_for("sendPhoto", timeout=20, predicate=lambda c: c.ok)
    await rig.settle()
    assert len([c for c in rig.api.calls_to("sendPhoto") if c.ok]) == 1
    assert len([t for t in rig.api.sent_texts(chat_id=STAFF_CHAT) if "Báo cáo" in t]) == 1
    await wait_citizen(rig, 0)
