"""Handing a conversation to desk staff and back (channel-neutral part)."""

import datetime as dt

from flows.models import ConversationKey
from flows.ports import VN_TZ
from tests.flows.driver import about, texts, to_citizen, to_staff


async def test_full_handoff_round_trip(bot):
    await bot.say("đăng ký kết hôn", name="Trần Thị B")
    records = await bot.say("cho tôi gặp cán bộ")
    staff = to_staff(records)
    assert len(staff) == 1
    header = staff[0]
    assert header["user"] == "u1"
    assert "Trần Thị B" in header["text"]
    assert "Đăng ký kết hôn" in header["text"]
    assert "đăng ký kết hôn" in header["text"]  # the last messages are attached
    assert header["buttons"] == ["Nhận xử lý", "Trả về bot", "Đóng"]
    citizen = to_citizen(records)
    assert "vị trí số 1" in citizen[0]["text"]

    # While waiting, what is not a routine question goes to the desk only.
    records = await bot.say("đợi lâu quá, có ai trực không")
    assert to_citizen(records) == []
    assert "có ai trực không" in texts(to_staff(records))

    records = await bot.staff(action="claim")
    assert "Chị Lan đã nhận hỗ trợ bạn" in texts(to_citizen(records))

    records = await bot.staff(text="Anh chị mang hộ chiếu của chồng đến nhé.")
    reply = to_citizen(records)
    assert reply[0]["text"].startswith("Anh chị mang hộ chiếu của chồng đến nhé.")
    assert "Chị Lan" in reply[0]["text"]

    records = await bot.staff(action="return")
    assert "trợ lý tự động" in texts(to_citizen(records))
    out = to_citizen(await bot.say("khai sinh"))
    assert out[0]["text"].startswith("Đăng ký khai sinh")  # the bot answers again

    handoffs = [
        e
        for _, e in await bot.storage.events.between()
        if e.kind.startswith(("handoff", "staff_first"))
    ]
    kinds = [e.kind for e in handoffs]
    assert kinds == ["handoff", "handoff_claimed", "staff_first_response", "handoff_returned"]


async def test_close_asks_for_rating(bot):
    await bot.say("gặp cán bộ")
    await bot.staff(text="Chào anh, anh cần hỏi gì ạ?")
    records = await bot.staff(action="close")
    out = to_citizen(records)
    assert "kết thúc hỗ trợ" in out[0]["text"]
    assert "👍 Hữu ích" in out[0]["buttons"]
    await bot.press("👍 Hữu ích")
    ratings = await bot.storage.ratings.all()
    assert [(r.guide_id, r.helpful) for r in ratings] == [(None, True)]


async def test_handoff_outside_working_hours_says_when_and_reminds_at_opening(bot):
    saturday_night = dt.datetime(2026, 12, 5, 21, 0, tzinfo=VN_TZ)
    await bot.clock_to(saturday_night)
    records = await bot.say("toi muon noi chuyen voi nguoi that")
    text = texts(to_citizen(records))
    assert "ngoài giờ làm việc" in text
    assert "7:30 sáng Thứ Hai, 07/12" in text

    sunday = await bot.clock_to(dt.datetime(2026, 12, 6, 10, 0, tzinfo=VN_TZ))
    assert to_staff(sunday) == []  # no one is at the desk on Sunday
    monday = await bot.clock_to(dt.datetime(2026, 12, 7, 7, 31, tzinfo=VN_TZ))
    reminders = to_staff(monday)
    assert len(reminders) == 1 and "Đầu giờ làm việc" in reminders[0]["text"]
    again = await bot.clock_to(dt.datetime(2026, 12, 7, 9, 0, tzinfo=VN_TZ))
    assert to_staff(again) == []  # reminded once


async def test_unclaimed_handoff_in_working_hours_is_reminded_once(bot):
    await bot.say("/canbo")
    assert to_staff(await bot.clock_to(bot.clock.now() + dt.timedelta(minutes=10))) == []
    later = to_staff(await bot.clock_to(bot.clock.now() + dt.timedelta(minutes=6)))
    assert len(later) == 1 and "16 phút" in later[0]["text"]
    assert to_staff(await bot.clock_to(bot.clock.now() + dt.timedelta(minutes=30))) == []


async def test_queue_position_counts_waiting_citizens(bot):
    await bot.say("gặp cán bộ", user="u1")
    out = to_citizen(await bot.say("gặp cán bộ", user="u2"), user="u2")
    assert "vị trí số 2" in out[0]["text"]


async def test_citizen_can_cancel_waiting(bot):
    await bot.say("gặp cán bộ")
    records = await bot.say("/huy")
    assert "Đã hủy yêu cầu gặp cán bộ" in texts(to_citizen(records))
    assert "đã hủy" in texts(to_staff(records))
    out = to_citizen(await bot.say("khai sinh"))
    assert out[0]["text"].startswith("Đăng ký khai sinh")


async def test_media_is_passed_to_staff_during_handoff_and_answered_politely_otherwise(bot):
    out = to_citizen(await bot.send(user="u1", media="photo"))
    assert "chưa đọc được ảnh" in out[0]["text"]
    assert "Gặp cán bộ" in out[0]["buttons"]
    await bot.say("gặp cán bộ")
    records = await bot.send(user="u1", media="photo")
    assert to_citizen(records) == []
    assert "gửi ảnh" in texts(to_staff(records))


async def test_staff_action_without_open_handoff_is_refused(bot):
    await bot.say("khai sinh")
    records = await bot.staff(action="claim")
    assert to_citizen(records) == []
    assert "không còn chờ cán bộ" in texts(to_staff(records))


async def test_unreachable_citizen_is_reported_to_staff(bot):
    await bot.say("gặp cán bộ")
    bot.outbox.unreachable.add(ConversationKey(channel="sim", user_id="u1"))
    records = await bot.staff(text="Chào anh")
    assert "Không gửi được" in texts(to_staff(records))


async def test_two_citizens_interleaved_keep_their_own_context(bot):
    await bot.say("khai sinh", user="u1")
    await bot.say("kết hôn", user="u2")
    out1 = to_citizen(await bot.say("1", user="u1"), user="u1")
    out2 = to_citizen(await bot.say("mất bao lâu", user="u2"), user="u2")
    assert out1[0]["text"] == "Bạn muốn làm theo cách nào?"
    assert "«Đăng ký kết hôn»" in out2[0]["text"]


async def test_question_answered_by_staff_is_offered_as_an_example(bot):
    await bot.say("giấy lọt lòng cho bé")
    await bot.say("gặp cán bộ")
    await bot.staff(text="Đó là đăng ký khai sinh, anh mang giấy chứng sinh nhé.")
    records = await bot.staff(action="close")
    offer = [r for r in to_staff(records) if "Câu hỏi cán bộ vừa trả lời" in r["text"]]
    assert len(offer) == 1
    assert "«giấy lọt lòng cho bé»" in offer[0]["text"]
    assert offer[0]["buttons"][-1] == "Không thêm"
    assert len(offer[0]["buttons"]) >= 2


async def test_no_example_is_offered_when_staff_never_answered(bot):
    await bot.say("giấy lọt lòng cho bé")
    await bot.say("gặp cán bộ")
    records = await bot.staff(action="close")
    assert not [r for r in to_staff(records) if "Câu hỏi cán bộ vừa trả lời" in r["text"]]


async def test_numbers_typed_while_with_staff_go_to_staff_not_to_buttons(bot):
    await bot.say("gặp cán bộ")  # the waiting message has one button: "Hủy gặp cán bộ"
    await bot.staff(text="Anh cần mấy bản sao ạ?")
    records = await bot.say("1")
    assert to_citizen(records) == []
    assert "Người dân" in texts(to_staff(records)) and ": 1" in texts(to_staff(records))
    assert (await bot.storage.handoffs.current(1)) is not None


async def test_handoff_on_a_public_holiday_points_to_the_next_open_day(bot):
    await bot.clock_to(dt.datetime(2027, 1, 1, 9, 0, tzinfo=VN_TZ))  # Tết Dương lịch, a Friday
    text = texts(to_citizen(await bot.say("gặp cán bộ")))
    assert "Hôm nay là ngày nghỉ (Tết Dương lịch)." in text
    assert "ngoài giờ làm việc" in text
    assert "7:30 sáng ngày mai (Thứ Bảy, 02/01)" in text


async def test_routine_question_while_waiting_is_answered_and_still_goes_to_the_desk(bot):
    await bot.say("đăng ký khai tử")
    await bot.say("cho tôi nói chuyện với cán bộ xã")
    records = await bot.say("thôi được, vậy nộp ở đâu")
    out = to_citizen(records)
    assert about(out) == ("khai-tu", "where")
    assert "«Đăng ký khai tử»" in out[0]["text"]
    assert "vẫn đang chờ cán bộ" in out[-1]["text"]
    assert out[-1]["buttons"] == ["Hủy gặp cán bộ"]  # still in the queue, one tap to leave it
    desk = texts(to_staff(records))
    assert "vậy nộp ở đâu" in desk and "«Đăng ký khai tử»" in desk  # staff see what was said

    # the answer did not take the citizen out of the queue: the officer still gets them
    records = await bot.staff(action="claim")
    assert "Chị Lan đã nhận hỗ trợ bạn" in texts(to_citizen(records))
    # with an officer, the bot stays out of it
    records = await bot.say("lệ phí bao nhiêu")
    assert to_citizen(records) == []
    assert "lệ phí bao nhiêu" in texts(to_staff(records))


async def test_while_waiting_only_a_clear_answer_is_given(bot):
    await bot.say("gặp cán bộ")
    for text in ("sao lâu vậy", "giấy tờ", "2", "tôi muốn hỏi cái này", "vợ tôi là người Hàn"):
        records = await bot.say(text)
        assert to_citizen(records) == [], text  # no guess, no menu, no second queue message
        assert text in texts(to_staff(records))
    out = to_citizen(await bot.say("làm giấy khai sinh cho con cần gì"))
    assert about(out) == ("khai-sinh", "docs")


async def test_long_answer_while_waiting_pages_and_keeps_the_queue(bot):
    await bot.say("gặp cán bộ")
    out = to_citizen(await bot.say("xin cấp sổ đỏ lần đầu cần giấy tờ gì"))
    assert about(out)[0] == "cap-so-do"
    assert out[-1]["buttons"] == ["Xem tiếp", "Hủy gặp cán bộ"]
    buttons = out[-1]["buttons"]
    for _ in range(5):
        rest = await bot.press("Xem tiếp")
        assert to_staff(rest) == []  # reading on is no message for the desk
        buttons = to_citizen(rest)[-1]["buttons"]
        if "Xem tiếp" not in buttons:
            break
    assert buttons == ["Hủy gặp cán bộ"]
    out = to_citizen(await bot.press("Hủy gặp cán bộ"))
    assert "Đã hủy yêu cầu gặp cán bộ" in out[0]["text"]
