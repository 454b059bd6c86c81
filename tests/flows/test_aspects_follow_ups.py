"""Follow-ups that describe the citizen's situation instead of naming a section: someone who
cannot come (who may file), lateness (the late FAQ and the deadline), a missing paper (the FAQ
on it, else the papers), a benefit's amount. They choose the answer, never the procedure."""

import pytest

from flows.aspects import detect
from tests.flows.driver import about, said, to_citizen


async def test_a_parent_who_cannot_come_gets_who_may_file(bot):
    await bot.say("đăng ký khai sinh cho con")
    out = to_citizen(await bot.say("chồng em đi làm xa, em tự đi được không"))
    assert about(out) == ("khai-sinh", "who")
    assert "người nộp" in said(out)


async def test_an_heir_abroad_keeps_the_procedure_and_gets_who_may_sign(bot):
    await bot.say("làm văn bản phân chia di sản thừa kế")
    # "nước ngoài" names the foreign-element procedures; the situation must not lead there
    out = to_citizen(await bot.say("anh tôi ở nước ngoài không về được thì sao"))
    assert about(out) == ("chung-thuc-phan-chia-di-san", "who")


async def test_late_with_accents_gets_the_late_faq_before_the_deadline(bot):
    await bot.say("đăng ký khai tử")
    out = to_citizen(await bot.say("mẹ mất 20 ngày rồi, có muộn không"))
    assert about(out) == ("khai-tu", "late")
    text = said(out)
    assert text.index("có bị phạt không") < text.index("Thời hạn phải làm")


async def test_late_without_accents_only_where_want_cannot_be_meant(bot):
    await bot.say("đăng ký khai tử")
    out = to_citizen(await bot.say("me mat duoc 20 ngay roi co muon khong"))
    assert about(out) == ("khai-tu", "late")
    out = to_citizen(await bot.say("nop muon co sao khong"))
    assert about(out) == ("khai-tu", "late")


async def test_a_deadline_asked_keeps_the_procedure(bot):
    await bot.say("cho hỏi làm giấy chứng tử cho ông ngoại thì cần mang gì")
    # «Hỗ trợ chi phí mai táng» has an FAQ on its own "hạn chót": the word asks the late
    # section of the procedure being discussed, it names no other one
    out = to_citizen(await bot.say("hạn chót là bao nhiêu ngày"))
    assert about(out) == ("khai-tu", "late")
    out = to_citizen(await bot.say("han cuoi la khi nao"))
    assert about(out) == ("khai-tu", "late")


async def test_not_doing_it_asks_what_follows_the_late_section(bot):
    await bot.say("e 17t r, đky nvqs ở đâu ạ")
    # "không đi có sao không": the consequence of not going, not a question the bot cannot read
    out = to_citizen(await bot.say("ko đi có sao ko"))
    assert about(out) == ("dang-ky-nghia-vu-quan-su", "late")


@pytest.mark.parametrize(
    "text",
    [
        "chưa đăng ký thì có bị gì không",
        "không đi làm có sao không",
        "để lâu không làm có bị sao không",
    ],
)
def test_not_doing_it_is_late(text: str) -> None:
    assert detect(text) == "late"


@pytest.mark.parametrize(
    "text", ["không có giấy chứng sinh thì có sao không", "mất giấy thì có sao không"]
)
def test_a_paper_lacked_is_not_late(text: str) -> None:
    assert detect(text, wide=True) == "docs"


@pytest.mark.parametrize(
    "text", ["em muon lam giay khai sinh", "em muốn làm giấy khai sinh", "minh muon hoi"]
)
def test_want_is_not_late(text: str) -> None:
    assert detect(text, wide=True) != "late"


async def test_a_guide_without_a_late_faq_is_not_answered_with_a_want_faq(bot):
    await bot.say("đăng ký giám hộ cho cháu")
    out = to_citizen(await bot.say("để lâu rồi giờ làm được không"))
    assert about(out) == ("giam-ho", "late")
    assert "Muốn thay người giám hộ" not in said(out)  # "muốn" (want) is not "muộn" (late)


async def test_a_missing_paper_gets_the_faq_on_it(bot):
    await bot.say("đăng ký khai tử")
    out = to_citizen(await bot.say("không có giấy báo tử của bệnh viện thì lấy gì"))
    assert about(out) == ("khai-tu", "docs")
    assert "không có giấy báo tử" in said(out)


async def test_a_missing_paper_without_a_faq_on_it_gets_the_papers(bot):
    await bot.say("đăng ký lại khai sinh")
    out = to_citizen(await bot.say("tôi chỉ còn học bạ thì có làm được không"))
    assert about(out) == ("dang-ky-lai-khai-sinh", "docs")
    assert said(out).startswith("Giấy tờ cần chuẩn bị")


async def test_a_first_question_about_a_lost_paper_is_not_a_papers_list(bot):
    out = to_citizen(await bot.say("tôi bị mất giấy khai sinh, sổ gốc cũng không còn"))
    assert about(out) == ("dang-ky-lai-khai-sinh", None)  # the procedure replacing it


@pytest.mark.parametrize("text", ["được bao nhiu 1 tháng", "ho tro bn", "hỗ trợ bao nhiêu"])
async def test_a_benefit_amount_is_never_the_fee(bot, text):
    await bot.say("trợ cấp người cao tuổi")
    out = to_citizen(await bot.say(text))
    assert about(out) == ("tro-cap-nguoi-cao-tuoi", "benefit")
    assert "đồng/tháng" in said(out) and "Lệ phí" not in said(out)


async def test_going_in_a_relatives_place_is_who_may_file(bot):
    out = to_citizen(await bot.say("mẹ tôi ốm, tôi đi chứng thực bản sao thay mẹ được không"))
    assert about(out) == ("chung-thuc-ban-sao", "who")


async def test_how_much_asked_last_after_a_benefit_is_its_amount(bot):
    await bot.say("trợ cấp người cao tuổi")
    out = to_citizen(await bot.say("bố em mất rồi, có được hỗ trợ mai táng không, bao nhiêu"))
    assert about(out) == ("ho-tro-mai-tang", "benefit")
    assert "đồng/người mất" in said(out)


def test_how_many_days_is_time_not_fee() -> None:
    assert detect("mất bao nhiêu ngày") == "time"
    assert detect("hết bn ngày thì có") == "time"
    assert detect("mất bao nhiêu tiền") == "fee"


@pytest.mark.parametrize(
    ("aspect", "text"),
    [
        ("who", "ông bà đi làm hộ được ko"),
        ("who", "không có mặt được không"),
        ("who", "chồng em ở xa không về được thì sao"),
        ("late", "trễ hạn rồi"),
        ("late", "để lâu rồi giờ làm được không"),
        ("late", "nộp muộn có sao không"),
        ("benefit", "hỗ trợ bao nhiu"),
        ("benefit", "duoc bn 1 thang"),
        ("docs", "cần mang cccd với sim chính chủ không"),
    ],
)
def test_situation_forms_are_recognised_once_the_guide_is_chosen(aspect: str, text: str) -> None:
    assert detect(text, wide=True) == aspect


def test_situation_cues_do_not_route() -> None:
    # read while choosing the guide, "không về được" would make the rest look like a subject
    assert detect("chị tôi ở nước ngoài không về được thì sao") is None


async def test_whether_one_receives_after_a_procedure_that_pays_nothing_is_the_allowance(bot):
    await bot.say("xin giấy xác nhận khuyết tật cho con")
    # the certificate pays nothing: "có được trợ cấp không" asks about the allowance it leads to
    out = to_citizen(await bot.say("có giấy rồi thì có được trợ cấp không"))
    assert about(out)[0] == "tro-cap-nguoi-khuyet-tat"
