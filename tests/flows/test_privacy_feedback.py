"""Feedback with consent, data deletion, masking of personal numbers."""

import sqlite3

from flows.models import ConversationKey
from tests.flows.driver import texts, to_citizen, to_staff


def rows(db, sql, *args):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


async def test_feedback_with_consent_gives_reference_and_notifies_staff(bot):
    await bot.say("/menu")
    await bot.press("☎️ Liên hệ & phản ánh")  # the one way in: its field, then its guide
    await bot.press("Phản ánh, kiến nghị về thủ tục hành chính")
    out = to_citizen(await bot.press("Phản ánh, kiến nghị"))
    assert "phản ánh" in out[0]["text"].lower()
    out = to_citizen(await bot.say("Hồ sơ khai sinh của con tôi nộp 10 ngày chưa có kết quả"))
    assert "chỉ dùng để trả lời" in out[0]["text"]  # says why before asking
    await bot.press("Đồng ý")
    await bot.say("Nguyễn Văn An")
    out = to_citizen(await bot.say("sdt 0912 345 678"))
    records_text = out[0]["text"]
    assert "Mã phản ánh: PA-2026-" in records_text
    items = await bot.storage.feedback.items()
    assert len(items) == 1
    assert items[0].name == "Nguyễn Văn An" and items[0].phone == "0912345678"
    assert items[0].ref in records_text


async def test_feedback_without_consent_stores_no_contact(bot):
    await bot.say("/menu")
    await bot.press("☎️ Liên hệ & phản ánh")
    await bot.press("Phản ánh, kiến nghị về thủ tục hành chính")
    await bot.press("Phản ánh, kiến nghị")
    records = await bot.say("Thủ tục chứng thực nên làm cả thứ Bảy cả ngày")
    assert to_staff(records) == []
    records = await bot.press("Không")
    assert "PA-2026-" in texts(to_citizen(records))
    staff = to_staff(records)
    assert "không để lại" in staff[0]["text"]
    items = await bot.storage.feedback.items()
    assert items[0].name is None and items[0].phone is None


async def test_phone_and_id_numbers_are_masked_in_the_transcript(bot):
    await bot.say("số cccd của tôi là 001203004567, điện thoại 0912345678, làm lại căn cước")
    stored = rows(bot.db, "SELECT text FROM transcript WHERE direction = 'in'")
    joined = " ".join(r[0] for r in stored)
    assert "001203004567" not in joined and "0912345678" not in joined
    assert "*********567" in joined and "*******678" in joined
    events = await bot.storage.events.between()
    assert all("001203004567" not in str(e.data) for _, e in events)


async def test_delete_my_data_removes_the_citizens_rows(bot):
    await bot.say("khai sinh")
    await bot.say("gặp cán bộ")
    conversation = await bot.storage.conversations.by_key(
        ConversationKey(channel="sim", user_id="u1")
    )
    assert conversation is not None
    out = to_citizen(await bot.say("/xoadulieu"))
    assert out[0]["buttons"] == ["Có, xóa dữ liệu", "Không xóa"]
    records = await bot.press("Có, xóa dữ liệu")
    assert "Đã xóa dữ liệu" in texts(to_citizen(records))
    assert "xóa dữ liệu" in texts(to_staff(records))
    assert rows(
        bot.db, "SELECT count(*) FROM transcript WHERE conversation_id = ?", conversation.id
    ) == [(0,)]
    assert rows(
        bot.db, "SELECT count(*) FROM handoffs WHERE conversation_id = ?", conversation.id
    ) == [(0,)]
    assert rows(bot.db, "SELECT count(*) FROM conversations WHERE id = ?", conversation.id) == [
        (0,)
    ]
    # and the citizen can start over
    out = to_citizen(await bot.say("khai sinh"))
    assert out[0]["text"].startswith("Đăng ký khai sinh")


async def test_delete_can_be_declined(bot):
    await bot.say("khai sinh")
    await bot.say("/xoadulieu")
    out = to_citizen(await bot.press("Không xóa"))
    assert "giữ nguyên" in out[0]["text"]
    assert rows(bot.db, "SELECT count(*) FROM transcript")[0][0] > 0


async def test_privacy_notice_from_menu(bot):
    await bot.say("/menu")
    out = to_citizen(await bot.press("Quyền riêng tư"))
    assert "/xoadulieu" in out[0]["text"]


async def test_saying_i_want_to_give_feedback_starts_the_intake(bot):
    out = to_citizen(await bot.say("tôi muốn phản ánh"))
    assert "Hãy gõ nội dung" in out[0]["text"]
    # the next message is the complaint itself, not a new question
    out = to_citizen(await bot.say("Hồ sơ khai sinh nộp 10 ngày chưa có kết quả"))
    assert "chỉ dùng để trả lời" in out[0]["text"]
    records = await bot.press("Không")
    assert "PA-2026-" in texts(to_citizen(records))
    [item] = await bot.storage.feedback.items()
    assert item.content == "Hồ sơ khai sinh nộp 10 ngày chưa có kết quả"


async def test_a_wish_with_the_complaint_goes_straight_to_consent(bot):
    out = to_citizen(await bot.say("Em muốn góp ý: nên mở cửa một cửa cả sáng thứ Bảy"))
    assert "chỉ dùng để trả lời" in out[0]["text"]
    await bot.press("Không")
    [item] = await bot.storage.feedback.items()
    assert "sáng thứ Bảy" in item.content


async def test_asking_how_to_give_feedback_is_still_a_question(bot):
    out = to_citizen(await bot.say("phản ánh ở đâu?"))
    assert "Hãy gõ nội dung" not in out[0]["text"]
