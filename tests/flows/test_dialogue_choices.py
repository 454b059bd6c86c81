"""After "which of these?": what the citizen asked is kept until they choose, so the choice
answers the question (its time, its papers), not a card to read through again."""

from tests.flows.driver import about, to_citizen, to_staff


async def test_an_aspect_asked_before_choosing_is_answered_for_the_choice(bot):
    out = to_citizen(await bot.say("chứng thực di chúc, thừa kế"))
    assert "guide" not in out[-1]  # which of these? (sharing an estate, or a will)
    out = to_citizen(await bot.say("cần những ai có mặt"))
    assert all("guide" not in reply for reply in out)  # about which? asked again, same choices
    assert "Chứng thực di chúc" in out[-1]["buttons"]
    out = to_citizen(
        await bot.press("Chứng thực văn bản thỏa thuận phân chia di sản, khai nhận di sản")
    )
    assert about(out) == ("chung-thuc-phan-chia-di-san", "who")
    assert out[0]["text"].startswith("«Chứng thực văn bản thỏa thuận phân chia di sản")


async def test_the_first_questions_aspect_is_answered_for_the_choice(bot):
    out = to_citizen(await bot.say("con chưa có tên bố, bố muốn nhận, cần giấy tờ gì"))
    assert "guide" not in out[-1]  # at the birth registration, or later?
    out = to_citizen(await bot.press("Đăng ký nhận cha, mẹ, con"))
    assert about(out) == ("nhan-cha-me-con", "docs")
    assert out[0]["text"].startswith("Giấy tờ cần chuẩn bị cho «Đăng ký nhận cha, mẹ, con»")


async def test_how_long_a_paper_stays_valid_is_its_faq_not_the_processing_time(bot):
    await bot.say("xin giấy xác nhận độc thân")
    out = to_citizen(await bot.say("có giá trị bao lâu"))
    assert about(out) == ("xac-nhan-tinh-trang-hon-nhan", "faq")
    assert "Thời gian giải quyết" not in out[0]["text"]
    assert "giá trị" in out[0]["text"]


async def test_aspect_words_alone_name_no_procedure_so_the_bot_asks_which(bot):
    for question in ("đăng ký ở đâu", "lệ phí bao nhiêu"):
        out = to_citizen(await bot.say(question))
        assert all("guide" not in reply for reply in out)  # not a guide picked by chance
        assert "thủ tục nào" in out[-1]["text"]
    out = to_citizen(await bot.say("ủy ban ở đâu"))
    assert about(out)[0] == "lien-he"  # the office's own address needs no procedure


async def test_an_aspect_after_a_message_not_understood_is_read_with_it(bot):
    out = to_citizen(await bot.say("mở tiệm bán điện thoại nhỏ có phải đăng ký không"))
    if any("guide" in reply for reply in out):
        return  # understood on its own: the follow-up is in context anyway
    out = to_citizen(await bot.say("lệ phí bao nhiêu"))
    assert {reply.get("guide") for reply in out} <= {"dang-ky-ho-kinh-doanh", None}


async def test_who_may_go_in_the_citizens_own_words_stays_on_the_procedure(bot):
    await bot.say("con tôi mới sinh được 1 tháng, chưa làm khai sinh")
    for question in (
        "chồng tôi đi làm xa, tôi đi một mình được không",
        "có phải đưa cháu lên xã không",
    ):
        out = to_citizen(await bot.say(question))
        assert about(out) == ("khai-sinh", "who")
        assert out[0]["text"].startswith("«Đăng ký khai sinh» — người nộp:")


async def test_consent_is_not_a_fee(bot):
    await bot.say("muốn đổi họ cho con theo họ mẹ")
    out = to_citizen(await bot.say("con 15 tuổi có phải đồng ý không"))
    assert out[0].get("aspect") != "fee"


async def test_a_remark_about_the_family_mid_conversation_is_no_wish_for_a_person(bot):
    await bot.say("xin công nhận hộ cận nghèo")
    records = await bot.say("à mà chồng em là người Thái Lan")
    assert not to_staff(records)
    assert "Đã chuyển cho cán bộ" not in to_citizen(records)[-1]["text"]
    out = to_citizen(await bot.say("ai xét cho mình"))
    assert about(out) == ("ho-ngheo", "who")
    assert to_staff(await bot.say("cho em gặp cán bộ"))  # asked in words: handed over


async def test_naming_the_general_procedure_keeps_the_narrower_one(bot):
    out = to_citizen(await bot.say("con tôi sinh ở Nhật, giờ về Việt Nam sống"))
    assert about(out)[0] == "khai-sinh-yeu-to-nuoc-ngoai"
    out = to_citizen(await bot.say("có giấy khai sinh của Nhật rồi thì sao"))
    assert {reply.get("guide") for reply in out} <= {"khai-sinh-yeu-to-nuoc-ngoai", None}


async def test_a_question_about_who_after_which_of_these_asks_again_with_the_same_choices(bot):
    from flows import texts

    first = to_citizen(await bot.say("con chưa có tên bố, bố muốn nhận"))
    assert about(first) == (None, None)
    out = to_citizen(await bot.say("cả 2 bố mẹ phải đến hả"))
    # about which of the choices? ask again, never "tôi chưa hiểu"
    assert out[0]["text"] == texts.CLARIFY_AGAIN
    assert out[0]["buttons"] == first[-1]["buttons"]


async def test_a_choice_named_in_the_follow_up_is_taken(bot):
    out = to_citizen(
        await bot.say("tháng này em đăng ký kết hôn, xong muốn chuyển khẩu về nhà chồng luôn")
    )
    assert "guide" not in out[-1]  # two procedures: which first?
    out = to_citizen(await bot.say("đăng ký kết hôn mang gì"))
    assert about(out) == ("ket-hon", "docs")


async def test_aspect_words_shared_with_a_faq_do_not_pick_between_the_choices(bot):
    await bot.say("bố mẹ em muốn đăng ký kết hôn")
    out = to_citizen(
        await bot.say(
            "à em nói nhầm, bố mẹ em cưới từ lâu có giấy rồi, nhưng giấy bị mất, "
            "hỏi xã thì sổ lưu bị hư hết"
        )
    )
    # "cần giấy gì để chứng minh" shares "giấy", "chứng" with «Đăng ký lại khai tử»'s FAQ
    # ("Chỉ mất giấy chứng tử ...?"): no reason to answer the death's papers
    out = to_citizen(await bot.say("cần giấy gì để chứng minh"))
    assert about(out)[0] in (None, "dang-ky-lai-ket-hon")
