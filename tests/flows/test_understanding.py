"""Follow-ups keep their procedure; new aspects; the simulate guide/aspect contract.

The first three tests replay the failures listed in issue 9 through the simulation channel.
"""

import pytest

from tests.flows.driver import about, to_citizen


async def test_death_registration_documents_stay_on_death_registration(bot):
    out = to_citizen(await bot.say("đăng ký khai tử"))
    assert about(out) == ("khai-tu", None)
    out = to_citizen(await bot.say("cần mang giấy tờ gì"))
    assert about(out) == ("khai-tu", "docs")
    assert "«Đăng ký khai tử»" in out[0]["text"]
    out = to_citizen(await bot.say("mất bao lâu"))  # "mất" is also "died": still the same guide
    assert about(out) == ("khai-tu", "time")


async def test_allowance_amount_is_never_answered_with_a_fee(bot):
    await bot.say("trợ cấp cho bà 78 tuổi")
    out = to_citizen(await bot.say("được bao nhiêu tiền 1 tháng"))
    assert about(out) == ("tro-cap-nguoi-cao-tuoi", "benefit")
    assert "lệ phí" not in out[0]["text"].lower()  # an amount received, not a processing fee
    assert "«Trợ cấp hằng tháng cho người cao tuổi" in out[0]["text"]
    assert "540.000 đồng/tháng" in out[0]["text"]
    out = to_citizen(await bot.say("cần mang gì"))
    assert about(out) == ("tro-cap-nguoi-cao-tuoi", "docs")


async def test_id_card_processing_time_stays_on_the_id_card(bot):
    await bot.say("làm căn cước cho con 14 tuổi")
    out = to_citizen(await bot.say("bao lâu thì có"))
    assert about(out) == ("can-cuoc", "time")


async def test_the_con_thi_sao_switches_to_the_new_guides_card(bot):
    await bot.say("đăng ký kết hôn")
    await bot.say("mất bao lâu")
    out = to_citizen(await bot.say("thế còn khai sinh thì sao"))
    # The card of the new procedure: it answers "how long" too, and papers, fee and place.
    assert about(out) == ("khai-sinh", None)
    text = "\n".join(reply["text"] for reply in out)
    assert "Thời gian: Giải quyết ngay trong ngày" in text and "Cần mang:" in text


async def test_strong_evidence_for_another_guide_switches(bot):
    await bot.say("đăng ký tạm trú")
    out = to_citizen(await bot.say("còn sổ đỏ thì làm ở đâu"))
    assert out[0]["guide"] == "cap-so-do"


async def test_who_may_file_and_late_filing(bot):
    await bot.say("khai sinh cho con")
    out = to_citizen(await bot.say("nhờ người khác đi làm được không"))
    assert about(out) == ("khai-sinh", "who")
    assert out[0]["text"].startswith("«Đăng ký khai sinh»")
    out = to_citizen(await bot.say("quá hạn thì có bị phạt không"))
    assert about(out) == ("khai-sinh", "late")
    assert "60 ngày" in out[0]["text"]


async def test_contact_questions_answer_the_line_asked(bot):
    await bot.say("địa chỉ ủy ban ở đâu")
    out = to_citizen(await bot.say("thứ 7 có làm không"))
    assert out[0]["text"].startswith("Giờ làm việc:") and "Thứ Bảy" in out[0]["text"]
    assert "Điện thoại" not in out[0]["text"]
    out = to_citizen(await bot.say("số điện thoại"))
    assert out[0]["text"].startswith("Điện thoại:")


async def test_number_outside_the_buttons_asks_for_a_valid_one(bot):
    out = to_citizen(await bot.say("khai sinh"))
    count = len(out[-1]["buttons"])
    out = to_citizen(await bot.say(str(count + 5)))
    assert out[0]["text"] == f"Vui lòng chọn số từ 1 đến {count}."
    assert "guide" not in out[0]


async def test_handoff_and_cancel_work_inside_forms(bot):
    await bot.say("chứng thực bản sao")
    await bot.press("Lệ phí")
    await bot.press("Tính lệ phí")
    out = to_citizen(await bot.say("hủy"))
    assert "hủy" in out[0]["text"].lower() or "Đã" in out[0]["text"]
    await bot.press("Menu")
    await bot.press("Phản ánh, kiến nghị")
    await bot.say("cho tôi gặp cán bộ")
    conversation = await bot.storage.conversations.by_key(
        __import__("flows.models", fromlist=["ConversationKey"]).ConversationKey(
            channel="sim", user_id="u1"
        )
    )
    assert conversation is not None and conversation.state.mode != "bot"


async def test_two_procedures_in_one_message_are_both_offered(bot):
    out = to_citizen(await bot.say("khai tử và xin hỗ trợ mai táng"))
    assert {"Đăng ký khai tử", "Hỗ trợ chi phí mai táng"} <= set(out[0]["buttons"])


async def test_well_known_procedures_of_other_agencies_get_a_pointer(bot):
    out = to_citizen(await bot.say("thủ tục ly hôn"))
    assert "Tòa án" in out[0]["text"]
    out = to_citizen(await bot.say("làm hộ chiếu ở đâu"))
    assert "xuất nhập cảnh" in out[0]["text"]


async def test_a_pointer_is_not_dropped_for_a_guide_its_other_words_name(bot):
    # Without "ở đâu" the words name the newborn's joint procedure (its card for the child);
    # the whole message is about another agency's card for an adult: the pointer answers.
    out = to_citizen(await bot.say("lam the bao hiem y te cho me em o dau"))
    assert "guide" not in out[-1]
    assert "Bảo hiểm xã hội" in out[-1]["text"]


async def test_greetings_and_closings_in_their_usual_forms(bot):
    out = to_citizen(await bot.say("dạ em cảm ơn ad ạ"))
    assert "Dạ, không có gì" in out[0]["text"]  # after the one-line intro of a first message
    out = to_citizen(await bot.say("cảm ơn cán bộ"))
    assert out[0]["text"].startswith("Dạ, không có gì")


async def test_teencode_follow_ups_stay_on_the_guide(bot):
    await bot.say("làm sổ đỏ lần đầu")
    out = to_citizen(await bot.say("hết bn tiền"))
    assert about(out) == ("cap-so-do", "fee")
    out = to_citizen(await bot.say("bn lâu"))
    assert about(out) == ("cap-so-do", "time")
    out = to_citizen(await bot.say("cần j"))
    assert about(out) == ("cap-so-do", "docs")
    out = to_citizen(await bot.say("lm online đc ko"))
    assert about(out) == ("cap-so-do", "online")


async def test_generic_filing_words_do_not_switch_guide(bot):
    await bot.say("trợ cấp cho người khuyết tật nặng")
    out = to_citizen(await bot.say("nộp hồ sơ ở đâu"))  # not the online-filing guide
    assert about(out) == ("tro-cap-nguoi-khuyet-tat", "where")


async def test_follow_up_that_sounds_like_staff_answers_the_aspect(bot):
    await bot.say("tôi muốn gửi phản ánh về thủ tục hành chính")
    out = to_citizen(await bot.say("bao lâu thì được trả lời"))
    assert about(out) == ("phan-anh-kien-nghi", "time")
    out = to_citizen(await bot.say("cho em gặp cán bộ"))  # an explicit wish still hands over
    assert "guide" not in out[0]
    assert "cán bộ" in out[0]["text"]


@pytest.mark.parametrize(
    ("text", "wish"),
    [
        ("file ảnh cứ báo lỗi, cho mình gặp người hỗ trợ với", True),
        ("tôi muốn gặp trực tiếp phó chủ tịch xã để nói chuyện", True),
        ("nhờ ad kết nối giúp em với cán bộ tư pháp", True),
        ("cho e gap cb", True),  # typed short
        ("giúp em kết nối với nhân viên", True),
        ("bây giờ kết nối nhân viên tư vấn giúp em", True),
        ("ad ơi em gặp trực tiếp chủ tịch xã được không", True),
        # a past visit, "gấp" (urgent, folded like "gặp"), a meeting planned: no wish
        ("hôm qua em lên gặp chị cán bộ tư pháp, chị bảo thiếu giấy, giờ bổ sung gì", False),
        ("cần gấp lắm ạ, cán bộ làm nhanh giúp em", False),
        ("mai em gặp chủ tịch xã ký được không", False),
        ("hôm qua em lên gặp cán bộ tư pháp, cán bộ bảo thiếu giấy", False),
        ("hồ sơ đã được chuyển cho cán bộ chưa", False),
    ],
)
async def test_a_wish_for_a_person_worded_freely_hands_over_inside_a_guide(
    bot, text: str, wish: bool
):
    await bot.say("nộp hồ sơ trên dịch vụ công thế nào")
    out = to_citizen(await bot.say(text))
    handed = any("Đã chuyển cho cán bộ" in reply["text"] for reply in out)
    assert handed == wish
    if wish:
        assert all("guide" not in reply for reply in out)


async def test_follow_up_asking_a_faq_question_gets_its_answer(bot):
    await bot.say("đăng ký nhận cha con")
    out = to_citizen(await bot.say("có cần xét nghiệm ADN không"))
    assert about(out) == ("nhan-cha-me-con", "faq")
    assert "ADN" in out[0]["text"]


async def test_another_agencys_procedure_ends_the_context(bot):
    await bot.say("đăng ký khai sinh")
    out = to_citizen(await bot.say("làm hộ chiếu ở đâu"))
    assert "xuất nhập cảnh" in out[0]["text"] and "guide" not in out[0]
    out = to_citizen(await bot.say("cần giấy tờ gì"))  # not the birth registration's papers
    assert all(reply.get("guide") != "khai-sinh" for reply in out)


async def test_the_con_with_an_aspect_only_asks_the_current_guide(bot):
    await bot.say("đăng ký khai sinh")
    out = to_citizen(await bot.say("thế còn lệ phí thì sao"))  # not the fee-payment guide
    assert about(out) == ("khai-sinh", "fee")
    out = to_citizen(await bot.say("à mà cho hỏi thêm đăng ký kết hôn cần gì"))
    assert about(out) == ("ket-hon", "docs")


async def test_a_follow_up_typed_after_which_of_these_settles_the_choice(bot):
    out = to_citizen(await bot.say("trợ cấp"))
    assert "guide" not in out[-1] and len(out[-1]["buttons"]) >= 3  # which of these?
    out = to_citizen(await bot.say("cho người già"))  # typed; alone it is not understood
    assert about(out)[0] == "tro-cap-nguoi-cao-tuoi"


async def test_the_procedure_named_again_shows_its_card_not_a_faq_answer(bot):
    await bot.say("khai sinh")
    out = to_citizen(await bot.say("khai sinh"))  # its FAQ has "Đăng ký khai sinh quá hạn..."
    assert about(out) == ("khai-sinh", None)
    assert out[0]["text"].startswith("Đăng ký khai sinh\n")


async def test_praise_is_thanked_and_a_complaint_is_the_communes_own(bot):
    out = to_citizen(await bot.say("giỏi ghê ta"))
    assert "cảm ơn bạn" in out[-1]["text"] and "không có gì" not in out[-1]["text"]
    out = to_citizen(await bot.say("khiếu nại quyết định thu hồi đất thì làm thế nào"))
    text = out[0]["text"]
    assert "Khiếu nại" in text and "không do Ủy ban xã" not in text and "guide" not in out[0]
    out = to_citizen(await bot.say("sổ đỏ nhà em bị mất rồi làm lại sao"))
    assert "Văn phòng đăng ký đất đai" in out[0]["text"]
    out = to_citizen(await bot.say("Sổ đỏ nhà bác bị mất, xin cấp lại thế nào"))
    assert "Văn phòng đăng ký đất đai" in out[0]["text"]  # not the first certificate's guide


async def test_a_follow_up_clearly_about_something_else_leaves_the_guide(bot):
    """A visa after a foreign marriage is the embassy's: the marriage guide's 'where' would send
    the citizen to the wrong desk. Aspect words alone still stay on the guide (the birth of the
    Korean husband's child is the foreign-element one)."""
    await bot.say("kết hôn với người Hàn Quốc")
    out = to_citizen(await bot.say("sau đó em làm visa sang Hàn thì xin ở đâu"))
    assert "guide" not in out[0] and "không thuộc các thủ tục" in out[0]["text"]
    await bot.say("đăng ký khai sinh")
    out = to_citizen(await bot.say("mất mấy ngày"))
    assert about(out) == ("khai-sinh-yeu-to-nuoc-ngoai", "time")


async def test_a_procedure_whose_name_is_aspect_words_is_answered_not_asked_about(bot):
    # "trực tuyến", "lệ phí" are aspect cues, and here also the whole name of the procedure
    out = to_citizen(await bot.say("nộp hồ sơ trực tuyến thế nào"))
    assert about(out)[0] == "nop-ho-so-truc-tuyen"
    out = to_citizen(await bot.say("cần giấy gì"))
    assert about(out) == ("nop-ho-so-truc-tuyen", "docs")


async def test_where_to_obtain_a_copy_of_a_paper_is_the_procedure_issuing_it(bot):
    await bot.say("Đăng ký khai tử cho mẹ tôi mất ở bệnh viện thì cần giấy gì?")
    out = to_citizen(await bot.say("sau này cần thêm bản sao giấy chứng tử thì xin ở đâu"))
    assert about(out) == ("trich-luc-ho-tich", "where")
    out = to_citizen(await bot.say("có cần mang giấy chứng tử của bệnh viện không"))
    assert about(out)[0] == "trich-luc-ho-tich"  # a paper to bring for the open one: stays


async def test_asking_to_be_called_in_a_conversation_hands_over(bot):
    await bot.say("đăng ký hộ nghèo")
    out = await bot.say("Tôi không biết chữ mấy, có ai ở xã gọi điện cho tôi được không?")
    assert any(r["to"] == "staff" for r in out)
    assert "guide" not in to_citizen(out)[-1]


@pytest.mark.parametrize(
    "text",
    ["Em gái tôi bị bại não từ nhỏ, không biết có được nhà nước hỗ trợ gì không", "bố tôi bị mù"],
)
async def test_a_condition_named_instead_of_disability_reaches_the_disability_guides(bot, text):
    out = to_citizen(await bot.say(text))
    guide = about(out)[0]
    if guide is None:  # the certificate or the allowance: both are right, asked between
        choices = [
            b for b in out[-1]["buttons"] if b not in ("Không phải các mục này", "Gặp cán bộ")
        ]
        assert sorted(choices) == [
            "Trợ cấp xã hội hằng tháng, hỗ trợ kinh phí chăm sóc cho người k…",
            "Xác định, xác định lại mức độ khuyết tật, cấp Giấy xác nhận khu…",
        ]
    else:
        assert guide in ("xac-dinh-muc-do-khuyet-tat", "tro-cap-nguoi-khuyet-tat")
