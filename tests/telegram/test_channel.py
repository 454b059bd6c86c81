"""End to end: real python-telegram-bot, fake Bot API on loopback, real core and SQLite."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from bot.http import build_http_app, telegram_route
from flows.models import Reply, StaffNotice
from flows.ports import OutboxItem, Outgoing
from tests.telegram.conftest import CITIZEN, EDITOR, STAFF_CHAT, STAFF_USER, TelegramRig


def buttons(call) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [
        (b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row
    ]


def citizen_messages(rig: TelegramRig, chat_id: int = CITIZEN) -> list:
    return [
        c for c in rig.api.calls_to("sendMessage") if c.ok and int(c.params["chat_id"]) == chat_id
    ]


async def wait_citizen(rig: TelegramRig, count: int, chat_id: int = CITIZEN) -> list:
    return await rig.api.wait_for(
        "sendMessage", count=count, predicate=lambda c: c.ok and int(c.params["chat_id"]) == chat_id
    )


async def handoff(rig: TelegramRig) -> int:
    """Citizen asks about marriage, then for a person; returns the staff topic's thread id."""
    rig.api.push_private_text(CITIZEN, "đăng ký kết hôn", first_name="Bình", last_name="Trần")
    await wait_citizen(rig, 1)
    rig.api.push_private_text(CITIZEN, "cho tôi gặp cán bộ", first_name="Bình", last_name="Trần")
    topics = await rig.api.wait_for("createForumTopic")
    assert "Trần" in topics[0].params["name"] or "Bình" in topics[0].params["name"]
    header = await rig.api.wait_for(
        "sendMessage", predicate=lambda c: c.ok and int(c.params["chat_id"]) == STAFF_CHAT
    )
    return int(header[0].params["message_thread_id"])


async def test_question_gets_answer_card_with_buttons(rig: TelegramRig) -> None:
    rig.api.push_private_text(CITIZEN, "lam giay khai sinh cho con")
    [call] = await wait_citizen(rig, 1)
    assert call.params["parse_mode"] == "HTML"
    assert call.params["text"].startswith("<b>Đăng ký khai sinh</b>")
    data = dict(buttons(call))
    assert data["Các bước"] == "st:khai-sinh"
    assert data["Gặp cán bộ"] == "h"
    assert all(len(d.encode()) <= 64 for d in data.values())


async def test_button_press_is_answered_and_continues_the_flow(rig: TelegramRig) -> None:
    rig.api.push_private_text(CITIZEN, "khai sinh")
    [card] = await wait_citizen(rig, 1)
    message_id = card.result["message_id"]
    rig.api.push_callback(CITIZEN, "st:khai-sinh", message_id)
    calls = await wait_citizen(rig, 2)
    assert calls[1].params["text"] == "Bạn muốn làm theo cách nào?"
    await rig.api.wait_for("answerCallbackQuery")


async def test_checklist_tick_edits_the_message_in_place(rig: TelegramRig) -> None:
    rig.api.push_private_text(CITIZEN, "khai sinh")
    [card] = await wait_citizen(rig, 1)
    rig.api.push_callback(CITIZEN, "ck:khai-sinh", card.result["message_id"])
    calls = await wait_citizen(rig, 2)
    checklist_id = calls[1].result["message_id"]
    rig.api.push_callback(CITIZEN, "ct:khai-sinh:0", checklist_id)
    edits = await rig.api.wait_for("editMessageText", predicate=lambda c: c.ok)
    assert int(edits[0].params["message_id"]) == checklist_id
    assert buttons(edits[0])[0][0].startswith("☑ Tờ khai")


async def test_deep_link_start_opens_the_guide(rig: TelegramRig) -> None:
    rig.api.push_private_text(CITIZEN, "/start ket-hon")
    [call] = await wait_citizen(rig, 1)
    assert call.params["text"].startswith("<b>Đăng ký kết hôn</b>")


async def test_sticker_gets_a_polite_answer(rig: TelegramRig) -> None:
    rig.api.push_private_sticker(CITIZEN)
    [call] = await wait_citizen(rig, 1)
    assert "chưa đọc được" in call.params["text"]
    assert ("Gặp cán bộ", "h") in buttons(call)


async def test_full_handoff_round_trip_through_a_topic(rig: TelegramRig) -> None:
    thread = await handoff(rig)
    header = rig.staff_calls()[0]
    assert "Trần" in header.params["text"] or "Bình" in header.params["text"]
    assert "Đăng ký kết hôn" in header.params["text"]
    assert [label for label, _ in buttons(header)] == ["Nhận xử lý", "Trả về bot", "Đóng"]
    waiting = await wait_citizen(rig, 2)
    assert "vị trí số 1" in waiting[1].params["text"]

    # The citizen's next message goes to the topic, the bot does not answer it.
    rig.api.push_private_text(CITIZEN, "chồng tôi là người nước ngoài", first_name="Bình")
    await rig.api.wait_for(
        "sendMessage",
        predicate=lambda c: (
            c.ok
            and c.params.get("message_thread_id") == thread
            and "nước ngoài" in c.params["text"]
        ),
    )
    assert len(citizen_messages(rig)) == 2

    claim = next(data for label, data in buttons(header) if label == "Nhận xử lý")
    rig.api.push_group_callback(STAFF_CHAT, thread, STAFF_USER, claim, header.result["message_id"])
    claimed = await wait_citizen(rig, 3)
    assert "Chị Lan đã nhận hỗ trợ bạn" in claimed[2].params["text"]

    rig.api.push_group_text(STAFF_CHAT, thread, STAFF_USER, "Anh chị mang hộ chiếu của chồng nhé.")
    answered = await wait_citizen(rig, 4)
    assert answered[3].params["text"].startswith("Anh chị mang hộ chiếu của chồng nhé.")
    assert "Chị Lan" in answered[3].params["text"]

    rig.api.push_group_callback(
        STAFF_CHAT,
        thread,
        STAFF_USER,
        claim.replace("claim", "return"),
        header.result["message_id"],
    )
    returned = await wait_citizen(rig, 5)
    assert "trợ lý tự động" in returned[4].params["text"]
    rig.api.push_private_text(CITIZEN, "khai sinh")
    again = await wait_citizen(rig, 6)
    assert again[5].params["text"].startswith("<b>Đăng ký khai sinh</b>")


async def test_citizen_photo_during_handoff_is_copied_to_the_topic(rig: TelegramRig) -> None:
    thread = await handoff(rig)
    rig.api.push_private_photo(CITIZEN, caption="giấy tờ của tôi")
    copies = await rig.api.wait_for("copyMessage", predicate=lambda c: c.ok)
    assert int(copies[0].params["chat_id"]) == STAFF_CHAT
    assert copies[0].params["message_thread_id"] == thread
    assert int(copies[0].params["from_chat_id"]) == CITIZEN


async def test_deleted_topic_is_recreated(rig: TelegramRig) -> None:
    thread = await handoff(rig)
    rig.api.deleted_threads.add((STAFF_CHAT, thread))
    rig.api.push_private_text(CITIZEN, "alo có ai không")
    topics = await rig.api.wait_for("createForumTopic", count=2)
    new_thread = topics[1].result["message_thread_id"]
    assert new_thread != thread
    posted = await rig.api.wait_for(
        "sendMessage", predicate=lambda c: c.ok and c.params.get("message_thread_id") == new_thread
    )
    assert "alo có ai không" in posted[0].params["text"]


async def test_blocked_citizen_is_reported_to_staff(rig: TelegramRig) -> None:
    thread = await handoff(rig)
    rig.api.blocked_users.add(CITIZEN)
    rig.api.push_group_text(STAFF_CHAT, thread, STAFF_USER, "Chào anh")
    notes = await rig.api.wait_for(
        "sendMessage",
        predicate=lambda c: (
            c.ok
            and c.params.get("message_thread_id") == thread
            and "Không gửi được" in c.params["text"]
        ),
    )
    assert notes


async def test_429_and_500_are_retried_and_the_reply_arrives_once(rig: TelegramRig) -> None:
    rig.api.fail_next("sendMessage", status=429, retry_after=1)
    rig.api.fail_next("sendMessage", status=500)
    rig.api.push_private_text(CITIZEN, "khai sinh")
    await wait_citizen(rig, 1)
    await asyncio.sleep(0.3)
    delivered = citizen_messages(rig)
    assert len(delivered) == 1
    failed = [c for c in rig.api.calls_to("sendMessage") if not c.ok]
    assert sorted(c.status for c in failed) == [429, 500]


async def test_reply_that_keeps_failing_is_queued_and_delivered_later(rig: TelegramRig) -> None:
    rig.api.fail_next("sendMessage", status=500, times=6)  # more than the immediate retries
    rig.api.push_private_text(CITIZEN, "khai sinh")
    [call] = await wait_citizen(rig, 1)
    assert call.params["text"].startswith("<b>Đăng ký khai sinh</b>")
    await rig.settle()
    assert len(citizen_messages(rig)) == 1
    assert len([c for c in rig.api.calls_to("sendMessage") if not c.ok]) == 6
    assert await rig.storage.outbox.pending() == 0


async def test_duplicate_update_is_processed_once(rig: TelegramRig) -> None:
    update = rig.api.make_private_text(CITIZEN, "khai sinh")
    rig.api.push_update(update)
    rig.api.push_update(dict(update))
    await wait_citizen(rig, 1)
    await rig.api.wait_updates_consumed()
    await asyncio.sleep(0.3)
    assert len(citizen_messages(rig)) == 1


async def test_staff_button_from_a_non_member_is_refused(rig: TelegramRig) -> None:
    thread = await handoff(rig)
    header = rig.staff_calls()[0]
    claim = buttons(header)[0][1]
    rig.api.push_group_callback(STAFF_CHAT, thread, 9999, claim, header.result["message_id"])
    answers = await rig.api.wait_for(
        "answerCallbackQuery", predicate=lambda c: "Chỉ cán bộ" in str(c.params.get("text", ""))
    )
    assert answers
    # and a citizen forging the same data in a private chat gets nothing done either
    rig.api.push_callback(CITIZEN, claim, 1)
    await rig.api.wait_for(
        "answerCallbackQuery",
        count=2,
        predicate=lambda c: "Chỉ cán bộ" in str(c.params.get("text", "")),
    )
    handoff_row = await rig.storage.handoffs.current(1)
    assert handoff_row is not None and handoff_row.status == "waiting"


async def test_other_groups_are_ignored(rig: TelegramRig) -> None:
    other = -1009999999999
    rig.api.push_group_text(other, None, 123, "khai sinh")
    await rig.api.wait_updates_consumed()
    await asyncio.sleep(0.3)
    assert [c for c in rig.api.calls_to("sendMessage") if int(c.params["chat_id"]) == other] == []


async def test_queue_command_in_staff_group(rig: TelegramRig) -> None:
    await handoff(rig)
    rig.api.push_group_command(STAFF_CHAT, STAFF_USER, "/hangcho")
    listing = await rig.api.wait_for(
        "sendMessage", predicate=lambda c: c.ok and "Hàng chờ" in c.params["text"]
    )
    assert "đang chờ" in listing[0].params["text"]


async def test_editor_reload_command(rig: TelegramRig) -> None:
    rig.api.push_private_text(EDITOR, "/reload")
    [call] = await wait_citizen(rig, 1, chat_id=EDITOR)
    assert re.match(
        r"Đã nạp lại \d+ thủ tục", call.params["text"]
    )  # the count grows with the catalogue
    rig.api.push_private_text(CITIZEN, "/reload")  # not an editor: treated as an unknown command
    [other] = await wait_citizen(rig, 1)
    assert "không có lệnh này" in other.params["text"]


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, b'{"update_id": 1}', 403),
        ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, b'{"update_id": 1}', 403),
        ({"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}, b"{not json", 400),
        ({"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}, b'{"no_update_id": 1}', 400),
        (
            {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"},
            b'{"update_id": 1, "x": "' + b"a" * 1_100_000 + b'"}',
            413,
        ),
        ({"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}, b'{"update_id": 7}', 200),
    ],
)
async def test_webhook_checks_secret_and_body(
    headers: dict[str, str], body: bytes, status: int
) -> None:
    fed: list[dict] = []

    async def feed(data: dict) -> None:
        fed.append(data)

    app = build_http_app([telegram_route(feed, "s3cret-token")])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bot"
    ) as client:
        response = await client.post("/telegram/webhook", content=body, headers=headers)
        assert (await client.get("/healthz")).json() == {"ok": True}
    assert response.status_code == status
    assert fed == ([{"update_id": 7}] if status == 200 else [])


async def test_editor_adds_a_staff_answered_question_as_an_example(
    rig: TelegramRig, tmp_path
) -> None:
    import shutil

    from bot.editor import editor_commands
    from knowledge.holder import LibraryHolder
    from knowledge.loader import DEFAULT_DIR

    # Editor commands work on a copy of the guides, so the bundled files stay untouched.
    kdir = tmp_path / "knowledge"
    shutil.copytree(
        DEFAULT_DIR, kdir, ignore=shutil.ignore_patterns("*.py", "__pycache__", "edit-log.jsonl")
    )
    copy = LibraryHolder(kdir, lambda: rig.clock.now().date())
    rig.channel.bind(rig.engine, editor_commands(copy, rig.storage, rig.clock))

    rig.api.push_private_text(CITIZEN, "giấy lọt lòng cho bé")
    await wait_citizen(rig, 1)
    rig.api.push_private_text(CITIZEN, "gặp cán bộ")
    header = await rig.api.wait_for(
        "sendMessage", predicate=lambda c: c.ok and int(c.params["chat_id"]) == STAFF_CHAT
    )
    thread = header[0].params["message_thread_id"]
    rig.api.push_group_text(STAFF_CHAT, thread, STAFF_USER, "Đó là đăng ký khai sinh ạ.")
    await wait_citizen(rig, 3)
    rig.api.push_group_callback(
        STAFF_CHAT, thread, STAFF_USER, "close:1", header[0].result["message_id"]
    )
    offer = await rig.api.wait_for(
        "sendMessage", predicate=lambda c: c.ok and "Câu hỏi cán bộ vừa trả lời" in c.params["text"]
    )
    choices = dict(buttons(offer[0]))
    assert "Không thêm" in choices
    pick = next(data for label, data in choices.items() if data == "ex:khai-sinh")
    rig.api.push_group_callback(STAFF_CHAT, thread, STAFF_USER, pick, offer[0].result["message_id"])
    refused = await rig.api.wait_for(
        "answerCallbackQuery", predicate=lambda c: "Chỉ biên tập viên" in str(c.params.get("text"))
    )
    assert refused
    rig.api.staff_members[STAFF_CHAT].add(EDITOR)
    rig.api.push_group_callback(STAFF_CHAT, thread, EDITOR, pick, offer[0].result["message_id"])
    await rig.api.wait_for(
        "answerCallbackQuery", predicate=lambda c: "Đã thêm câu" in str(c.params.get("text"))
    )
    # the offer itself now says what was done: edited in place (through the outbox), once
    [edited] = await rig.api.wait_for("editMessageText", predicate=lambda c: c.ok)
    assert int(edited.params["message_id"]) == offer[0].result["message_id"]
    assert "→ Đã thêm câu" in str(edited.params["text"])
    await rig.settle()
    assert len(rig.api.calls_to("editMessageText")) == 1
    assert await rig.storage.outbox.pending() == 0
    assert copy.current().match("giấy lọt lòng cho bé").matches[0].id == "khai-sinh"


async def test_report_command_sends_summary_and_chart(rig: TelegramRig) -> None:
    from bot.app import report_maker
    from knowledge.holder import LibraryHolder
    from knowledge.loader import DEFAULT_DIR

    holder = LibraryHolder(DEFAULT_DIR, lambda: rig.clock.now().date())
    rig.channel.bind(rig.engine, report=report_maker(holder, rig.storage, rig.clock))
    rig.api.push_private_text(CITIZEN, "khai sinh")
    rig.api.push_private_text(CITIZEN, "kết hôn")
    await wait_citizen(rig, 2)
    rig.api.push_group_command(STAFF_CHAT, STAFF_USER, "/baocao")
    summary = await rig.api.wait_for(
        "sendMessage", predicate=lambda c: c.ok and "Báo cáo" in c.params["text"]
    )
    text = summary[0].params["text"]
    assert "Lượt trao đổi: 1; câu hỏi: 2" in text
    assert "Trợ lý tự giải quyết: 100,0%" in text
    photos = await rig.api.wait_for("sendPhoto", predicate=lambda c: c.ok)
    assert int(photos[0].params["chat_id"]) == STAFF_CHAT


async def test_citizen_messages_reach_the_topic_once_each_in_order(rig: TelegramRig) -> None:
    thread = await handoff(rig)
    said = ("cho hỏi", "giấy tờ của chồng tôi", "cần dịch công chứng không")
    for text in said:
        rig.api.push_private_text(CITIZEN, text, first_name="Bình")
    await rig.api.wait_for(
        "sendMessage",
        predicate=lambda c: (
            c.ok and c.params.get("message_thread_id") == thread and "cần dịch" in c.params["text"]
        ),
    )
    await rig.settle()
    in_topic = [c.params["text"] for c in rig.staff_calls()]
    posts = "\n".join(in_topic[1:])
    assert [posts.count(text) for text in said] == [1, 1, 1]
    assert posts.index(said[0]) < posts.index(said[1]) < posts.index(said[2])


async def test_staff_mark_feedback_answered(rig: TelegramRig) -> None:
    from bot.editor import staff_commands

    rig.channel.bind(rig.engine, staff_commands=staff_commands(rig.storage))
    item = await rig.storage.feedback.add(
        None, "Hồ sơ nộp 10 ngày chưa có kết quả", rig.clock.now()
    )
    rig.api.push_group_command(STAFF_CHAT, STAFF_USER, "/phananh")
    listing = await rig.api.wait_for(
        "sendMessage", predicate=lambda c: c.ok and "Phản ánh chưa trả lời" in c.params["text"]
    )
    assert item.ref in listing[0].params["text"]
    rig.api.push_group_command(STAFF_CHAT, STAFF_USER, f"/phananh {item.ref} đã trả lời")
    await rig.api.wait_for(
        "sendMessage", predicate=lambda c: c.ok and f"{item.ref}: đã trả lời" in c.params["text"]
    )
    assert [f.status for f in await rig.storage.feedback.items()] == ["answered"]


async def test_edited_message_is_not_answered_again(rig: TelegramRig) -> None:
    update = rig.api.make_private_text(CITIZEN, "khai sinh")
    rig.api.push_update(update)
    await wait_citizen(rig, 1)
    edited = dict(update)
    message = dict(edited.pop("message"))
    message["edit_date"] = message["date"] + 5
    message["text"] = "kết hôn"
    edited["edited_message"] = message
    edited["update_id"] = update["update_id"] + 1000
    rig.api.push_update(edited)
    await rig.api.wait_updates_consumed()
    await asyncio.sleep(0.3)
    assert len(citizen_messages(rig)) == 1


async def test_internal_note_and_transfer_from_the_topic(rig: TelegramRig) -> None:
    thread = await handoff(rig)
    await wait_citizen(rig, 2)
    rig.api.push_group_command(
        STAFF_CHAT, STAFF_USER, "/ghichu hồ sơ cần hỏi thêm tư pháp", thread_id=thread
    )
    note = await rig.api.wait_for(
        "sendMessage",
        predicate=lambda c: c.ok and "Ghi chú nội bộ" in c.params["text"],
    )
    assert note[0].params.get("message_thread_id") == thread
    assert "hỏi thêm tư pháp" in note[0].params["text"]
    rig.api.push_group_command(STAFF_CHAT, STAFF_USER, "/chuyen Anh Minh", thread_id=thread)
    told = await wait_citizen(rig, 3)
    assert "Anh Minh sẽ tiếp tục hỗ trợ bạn" in told[2].params["text"]
    assert not any("tư pháp" in c.params["text"] for c in citizen_messages(rig))
    handoff_row = await rig.storage.handoffs.current(1)
    assert handoff_row is not None and handoff_row.claimed_by == "Anh Minh"


async def test_a_desk_edit_repeated_after_a_crash_is_not_posted_again(rig: TelegramRig) -> None:
    """Delivered before a crash, attempted again after it: Telegram answers "message is not
    modified", which means done (not a reason to post the text as a new message)."""
    posted = await rig.channel.app.bot.send_message(STAFF_CHAT, "Câu hỏi cán bộ vừa trả lời")
    edit = Outgoing(
        notice=StaffNotice(
            key=None, reply=Reply(text="Câu hỏi cán bộ vừa trả lời\n\n→ Đã bỏ qua.")
        ),
        thread="",
        edit=str(posted.message_id),
    )
    item = OutboxItem(id=1, outgoing=edit, attempts=0, progress=0, created_at=rig.clock.now())
    assert (await rig.channel.desk.attempt(item)).status == "sent"
    assert (await rig.channel.desk.attempt(item)).status == "sent"  # the retry after a crash
    assert len([c for c in rig.api.calls_to("sendMessage") if c.ok]) == 1  # only our own post
    assert [c.ok for c in rig.api.calls_to("editMessageText")] == [True, False]
