"""What the desk is told: claims by two officers, example candidates, ratings, guide titles."""

from __future__ import annotations

from tests.flows.driver import Driver, texts, to_citizen, to_staff


async def test_a_second_officer_claiming_is_warned(bot: Driver) -> None:
    await bot.say("gặp cán bộ")
    await bot.staff(action="claim", staff="Chị Lan")
    records = await bot.staff(action="claim", staff="Anh Minh")
    assert "⚠️ Chị Lan đang xử lý" in texts(to_staff(records))
    assert "Anh Minh nhận thay" in texts(to_staff(records))


async def test_the_example_offered_is_the_question_the_bot_could_not_answer(bot: Driver) -> None:
    await bot.say("xin cấp phép nuôi ong mật trên sân thượng")
    await bot.say("gặp cán bộ")
    await bot.staff(text="Việc này anh liên hệ phòng kinh tế nhé")
    await bot.say("cần mang gì")
    await bot.say("cảm ơn chị nhiều ạ")
    records = await bot.staff(action="close")
    prompt = [r for r in to_staff(records) if "Câu hỏi cán bộ vừa trả lời" in r["text"]]
    assert prompt and "«xin cấp phép nuôi ong mật trên sân thượng»" in prompt[0]["text"]


async def test_a_question_asked_to_staff_after_the_handoff_is_offered(bot: Driver) -> None:
    await bot.say("gặp cán bộ")
    await bot.say("cảm ơn nhé")
    await bot.say("cho hỏi xin phép nuôi ong mật trên sân thượng được không")
    await bot.staff(text="Được anh nhé")
    records = await bot.staff(action="close")
    prompt = [r for r in to_staff(records) if "Câu hỏi cán bộ vừa trả lời" in r["text"]]
    assert prompt and "nuôi ong mật" in prompt[0]["text"]


async def test_thumbs_down_on_staff_help_is_not_about_a_guide(bot: Driver) -> None:
    await bot.say("gặp cán bộ")
    await bot.staff(text="Chào anh")
    await bot.staff(action="close")
    await bot.press("👎 Chưa hữu ích")
    records = await bot.say("chờ lâu quá mới được trả lời")
    assert "hướng dẫn này" not in texts(to_citizen(records))
    assert "Cảm ơn" in texts(to_citizen(records))
    assert "sự hỗ trợ của cán bộ" in texts(to_staff(records))


async def test_staff_notes_name_guides_by_title(bot: Driver) -> None:
    await bot.say("khai sinh")
    await bot.press("👎 Chưa hữu ích")
    records = await bot.say("không nói rõ phí quá hạn")
    note = texts(to_staff(records))
    assert "«Đăng ký khai sinh»" in note and "khai-sinh" not in note
