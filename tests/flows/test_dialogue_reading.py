"""A follow-up read together with the procedure being discussed: the citizen's own situation
("em từng ly hôn rồi") stays on it, a fact that makes its foreign-element variant the right
one switches to that, and words that name a sibling of it rather than what they name alone
are asked about instead of answered with the wrong procedure."""

from tests.flows.driver import about, said, to_citizen


async def test_the_citizens_own_situation_stays_on_the_procedure_discussed(bot):
    await bot.say("xin giấy xác nhận độc thân")
    out = to_citizen(await bot.say("e từng ly hôn r thì cần thêm gì"))
    assert about(out) == ("xac-nhan-tinh-trang-hon-nhan", "docs")
    assert "«Cấp Giấy xác nhận tình trạng hôn nhân»" in said(out)


async def test_a_foreign_birth_certificate_stays_on_the_foreign_birth_registration(bot):
    await bot.say("con tôi sinh ở Hàn, giờ về nước ở luôn")
    out = to_citizen(await bot.say("có giấy khai sinh của Hàn rồi thì sao"))
    assert about(out)[0] == "khai-sinh-yeu-to-nuoc-ngoai"  # not the ordinary birth registration
    out = to_citizen(await bot.say("cần dịch thuật không"))
    assert about(out) == ("khai-sinh-yeu-to-nuoc-ngoai", "docs")


async def test_a_partner_living_abroad_switches_to_the_foreign_marriage(bot):
    await bot.say("anh muốn đăng ký kết hôn")
    out = to_citizen(await bot.say("bạn gái anh quốc tịch Việt nhưng đang định cư ở Mỹ"))
    assert about(out)[0] == "ket-hon-yeu-to-nuoc-ngoai"
    out = to_citizen(await bot.say("vậy cần giấy tờ gì"))
    assert about(out) == ("ket-hon-yeu-to-nuoc-ngoai", "docs")  # not the domestic papers
    assert "«Đăng ký kết hôn có yếu tố nước ngoài»" in said(out)


async def test_a_copy_of_the_id_card_at_the_certification_desk_is_asked_not_the_card_fee(bot):
    await bot.say("em cần chứng thực chữ ký trên giấy ủy quyền nhận lương")
    out = to_citizen(await bot.say("tiện làm luôn bản sao căn cước được không, bao nhiêu tiền"))
    assert all("guide" not in reply for reply in out)  # not the ID card's fee table
    assert "Chứng thực bản sao từ bản chính" in out[-1]["buttons"]


async def test_the_next_step_after_a_contract_still_switches_to_it(bot):
    await bot.say("hợp đồng tặng cho đất chứng thực ở xã cần gì")
    out = to_citizen(await bot.say("xong thì sang tên sổ thế nào"))
    assert about(out)[0] == "chuyen-nhuong-dat"


async def test_what_to_file_without_the_usual_words_stays_on_the_procedure(bot):
    await bot.say("nhà tôi mới gặp khó khăn, muốn xin hộ cận nghèo giữa năm")
    out = to_citizen(await bot.say("cần nộp những gì"))
    assert about(out) == ("ho-ngheo", "docs")


async def test_a_paper_to_bring_is_not_a_new_procedure(bot):
    await bot.say("em muốn nhập khẩu về nhà chồng")
    out = to_citizen(await bot.say("cần mang giấy đăng ký kết hôn với gì nữa ạ"))
    assert about(out) == ("thuong-tru", "docs")  # the marriage certificate is a paper here
    assert "«Đăng ký thường trú" in said(out)


async def test_whether_a_paper_must_be_translated_stays_on_the_procedure(bot):
    await bot.say("con tôi sinh ở Hàn, giờ về nước ở luôn")
    out = to_citizen(await bot.say("hộ chiếu của bé có phải dịch không"))
    assert about(out) == ("khai-sinh-yeu-to-nuoc-ngoai", "docs")


async def test_a_procedure_named_before_what_it_needs_still_switches(bot):
    await bot.say("em muốn nhập khẩu về nhà chồng")
    out = to_citizen(await bot.say("đăng ký kết hôn cần giấy gì"))
    assert about(out) == ("ket-hon", "docs")


async def test_what_one_receives_after_a_procedure_that_pays_nothing_is_its_allowance(bot):
    await bot.say("con em bị bại não, muốn làm giấy xác nhận khuyết tật")
    out = to_citizen(await bot.say("có giấy rồi thì cháu được trợ cấp bao nhiêu"))
    assert about(out) == ("tro-cap-nguoi-khuyet-tat", "benefit")
    assert "lệ phí" not in said(out).lower().split("—")[0]
    assert said(out).startswith("«Trợ cấp xã hội hằng tháng")


async def test_what_one_receives_with_two_allowances_in_reach_is_asked(bot):
    await bot.say("nhà tôi mới gặp khó khăn, muốn xin hộ cận nghèo giữa năm")
    out = to_citizen(await bot.say("được hỗ trợ bao nhiêu tiền"))
    assert all("guide" not in reply for reply in out)
    labels = " ".join(out[-1]["buttons"])
    assert "Trợ cấp hằng tháng cho người cao tuổi" in labels and "chăm sóc cho người k" in labels


async def test_a_foreigner_told_mid_conversation_takes_the_open_procedures_foreign_variant(bot):
    await bot.say("nhà em có người mất, làm khai tử ở đâu")
    # "thẻ thường trú" is the foreigner's residence card, not the residence registration
    out = to_citizen(await bot.say("ông là người Đức, ở Việt Nam lâu rồi, có thẻ thường trú"))
    assert about(out)[0] == "khai-tu-yeu-to-nuoc-ngoai"
    out = to_citizen(await bot.say("mấy ngày thì xong"))
    assert about(out) == ("khai-tu-yeu-to-nuoc-ngoai", "time")


async def test_after_which_of_these_a_message_clearly_naming_another_guide_is_a_new_question(
    bot,
):
    out = to_citizen(await bot.say("con chưa có tên bố, bố muốn nhận"))
    assert "guide" not in out[-1]  # at the birth registration, or later?
    out = to_citizen(await bot.say("bố nó quốc tịch Mỹ thì có phải khai sinh kiểu khác không"))
    assert about(out)[0] == "khai-sinh-yeu-to-nuoc-ngoai"  # not one of the two offered


async def test_a_divorce_told_without_abroad_stays_off_the_foreign_divorce_note(bot):
    await bot.say("xin giấy xác nhận độc thân để làm hồ sơ vay vốn")
    out = to_citizen(await bot.say("em ly hôn rồi thì giấy đó có ghi đã ly hôn không"))
    # the note of a divorce granted abroad is the only guide naming one: not this citizen's
    assert about(out)[0] == "xac-nhan-tinh-trang-hon-nhan"
    await bot.say("xin giấy xác nhận độc thân")
    out = to_citizen(await bot.say("em ly hôn ở Hàn rồi thì có phải ghi chú ly hôn trước không"))
    assert "xac-nhan-tinh-trang-hon-nhan" not in {reply.get("guide") for reply in out}
