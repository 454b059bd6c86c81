"""What a citizen experiences when asking about procedures (through the simulation channel)."""

from tests.flows.driver import texts, to_citizen


async def test_start_shows_welcome_menu_with_person_button(bot):
    out = to_citizen(await bot.say("/start"))
    assert len(out) == 1
    assert "trợ lý tự động" in out[0]["text"]
    assert "Gặp cán bộ" in out[0]["buttons"]
    assert any("Hộ tịch" in b for b in out[0]["buttons"])


async def test_free_text_without_diacritics_gives_answer_card(bot):
    out = to_citizen(await bot.say("lam giay khai sinh cho con"))
    card = out[0]
    assert card["text"].startswith("Đăng ký khai sinh")
    for label in (
        "Các bước",
        "Giấy tờ cần mang",
        "Lệ phí",
        "Câu hỏi thường gặp",
        "Gặp cán bộ",
        "👍 Hữu ích",
    ):
        assert label in card["buttons"]
    assert len(card["buttons"]) <= 7
    assert "Lệ phí: Miễn phí" in card["text"]


async def test_menu_leads_to_field_then_guide(bot):
    await bot.say("/menu")
    out = to_citizen(await bot.press(1))  # first field: Hộ tịch
    assert "Hộ tịch" in out[0]["text"]
    assert "Đăng ký khai sinh" in out[0]["buttons"]
    out = to_citizen(await bot.press("Đăng ký khai sinh"))
    assert out[0]["text"].startswith("Đăng ký khai sinh")


async def test_walkthrough_one_step_per_message_with_next_back_done(bot):
    await bot.say("khai sinh")
    out = to_citizen(await bot.press("Các bước"))
    assert out[0]["buttons"][:2] == ["Nộp tại quầy", "Nộp trực tuyến"]
    out = to_citizen(await bot.press("Nộp tại quầy"))
    assert out[0]["text"].startswith("Bước 1/")
    assert "Tiếp" in out[0]["buttons"] and "Quay lại" not in out[0]["buttons"]
    out = to_citizen(await bot.press("Tiếp"))
    assert out[0]["text"].startswith("Bước 2/")
    out = to_citizen(await bot.press("Quay lại"))
    assert out[0]["text"].startswith("Bước 1/")
    out = to_citizen(await bot.press("Xong"))
    assert "hữu ích" in out[0]["text"]


async def test_numbers_typed_instead_of_buttons(bot):
    await bot.say("khai sinh")
    out = to_citizen(await bot.say("1"))  # "Các bước"
    assert out[0]["text"] == "Bạn muốn làm theo cách nào?"
    out = to_citizen(await bot.say("2"))  # "Nộp trực tuyến"
    assert out[0]["text"].startswith("Bước 1/") and "trực tuyến" in out[0]["text"]
    out = to_citizen(await bot.say("tiếp"))  # the label typed, without tapping
    assert out[0]["text"].startswith("Bước 2/")
    out = to_citizen(await bot.say("99"))  # no such button: treated as a question
    assert not out[0]["text"].startswith("Bước")


async def test_checklist_lists_what_is_still_missing(bot):
    await bot.say("khai sinh")
    await bot.press("Giấy tờ cần mang")
    out = to_citizen(await bot.press("Đánh dấu giấy tờ đã có"))
    assert out[0]["buttons"][0] == "☐ Tờ khai đăng ký khai sinh"
    out = to_citizen(await bot.say("1"))
    assert out[0]["buttons"][0] == "☑ Tờ khai đăng ký khai sinh"
    out = to_citizen(await bot.press("Xong"))
    text = out[0]["text"]
    assert "còn thiếu" in text
    assert "Tờ khai đăng ký khai sinh" not in text.split("Mang thêm")[0]
    assert "Giấy tờ tùy thân" in text


async def test_fee_calculator_uses_guide_tiers_and_cap(bot):
    await bot.say("chứng thực bản sao")
    await bot.press("Lệ phí")
    out = to_citizen(await bot.press("Tính lệ phí"))
    assert "bao nhiêu trang" in out[0]["text"]
    await bot.say("3")
    out = to_citizen(await bot.say("2"))
    # pages 1-2 at 2.000 đ, page 3 at 1.000 đ = 5.000 đ a copy; two copies
    assert "2 bản × 5.000 đồng (3 trang) = 10.000 đồng" in out[0]["text"]
    await bot.press("Tính lệ phí")
    await bot.say("500")
    out = to_citizen(await bot.say("1"))
    assert "= 200.000 đồng" in out[0]["text"]  # capped per copy
    assert "tối đa" in out[0]["text"]


async def test_fee_calculator_rejects_non_numbers_politely(bot):
    await bot.say("chứng thực bản sao")
    await bot.press("Lệ phí")
    await bot.press("Tính lệ phí")
    out = to_citizen(await bot.say("ba trang"))
    assert "một số từ 1 đến" in out[0]["text"]


async def test_follow_up_questions_use_the_guide_in_context(bot):
    await bot.say("đăng ký kết hôn")
    out = to_citizen(await bot.say("mất bao lâu"))
    assert "Thời gian giải quyết «Đăng ký kết hôn»" in out[0]["text"]
    out = to_citizen(await bot.say("phí bao nhiêu"))
    assert "Lệ phí «Đăng ký kết hôn»" in out[0]["text"]
    out = to_citizen(await bot.say("cần mang gì"))
    assert "Giấy tờ cần chuẩn bị cho «Đăng ký kết hôn»" in out[0]["text"]


async def test_question_with_aspect_answers_that_aspect(bot):
    out = to_citizen(await bot.say("khai sinh mất bao lâu"))
    assert "Thời gian giải quyết «Đăng ký khai sinh»" in out[0]["text"]


async def test_clarify_then_two_stage_fallback(bot):
    out = to_citizen(await bot.say("con chưa có tên bố, bố muốn nhận"))  # which of these?
    assert "chưa chắc" in out[0]["text"]
    assert "Không phải các mục này" in out[0]["buttons"]
    assert 2 <= len(out[0]["buttons"]) - 2 <= 4
    out = to_citizen(await bot.press("Không phải các mục này"))
    assert "chưa hiểu" in out[0]["text"]
    out = to_citizen(await bot.say("xyz qqq"))
    assert "Gặp cán bộ" in out[0]["buttons"]
    assert "chọn một lĩnh vực bên dưới" in out[0]["text"]


async def test_out_of_scope_is_not_answered_with_a_guide(bot):
    out = to_citizen(await bot.say("giá vàng hôm nay bao nhiêu"))
    # said plainly, not "I did not understand": it was understood, and it is not ours
    assert "không thuộc các thủ tục" in out[0]["text"] and "guide" not in out[0]
    assert "Gặp cán bộ" in out[0]["buttons"]


async def test_long_answer_is_split_with_more_button(bot):
    out = to_citizen(await bot.say("kết hôn"))
    out = to_citizen(await bot.press("Giấy tờ cần mang"))
    first = out[0]
    if "Xem tiếp" not in first["buttons"]:
        return  # short enough for one screen
    assert len(first["text"]) <= 900
    more = to_citizen(await bot.press("Xem tiếp"))
    assert more[0]["text"] and more[0]["text"] not in first["text"]


async def test_rating_thumbs_down_offers_a_person_and_keeps_reason(bot):
    await bot.say("khai sinh")
    out = to_citizen(await bot.press("👎 Chưa hữu ích"))
    assert "Gặp cán bộ" in out[0]["buttons"]
    records = await bot.say("không nói rõ phí quá hạn")
    assert "Cảm ơn" in texts(to_citizen(records))
    ratings = await bot.storage.ratings.all()
    assert [(r.guide_id, r.helpful, r.reason) for r in ratings] == [
        ("khai-sinh", False, "không nói rõ phí quá hạn")
    ]


async def test_deep_link_start_payload_opens_guide(bot):
    out = to_citizen(await bot.say("/start ket-hon"))
    assert out[0]["text"].startswith("Đăng ký kết hôn")
