"""Aspect cues in the forms citizens type: diacritics or not, teencode, Southern and Central."""

import pytest

from flows.aspects import asks_for_paper, detect, remarked, without_cues

CASES = [
    ("docs", "cần mang giấy tờ gì"),
    ("docs", "cần j"),
    ("docs", "can mang gi"),
    ("docs", "cần đem gì"),  # Southern
    ("docs", "giấy tờ chi rứa"),  # Central
    ("docs", "đã ly hôn một lần thì cần nộp thêm gì"),  # a paper more to bring
    ("docs", "cần chuẩn bị những gì"),
    ("time", "bn lâu"),
    ("time", "bn ngày có"),
    ("time", "chừng nào có"),
    ("time", "mấy bữa có"),
    ("time", "bao giờ thì xét"),
    ("fee", "hết bn tiền"),
    ("fee", "mất phí hông"),
    ("fee", "nhiêu tiền vậy"),
    ("fee", "tốn bao nhiêu"),
    ("where", "nộp hồ sơ ở đâu"),  # "hồ sơ" is not "nộp hộ"
    ("where", "làm ở xã nào, bác đang ở khác quê"),
    ("where", "lên đâu làm"),
    ("online", "lm online đc ko"),
    ("online", "làm trên vneid được k"),
    ("online", "không cần lên xã được không"),
    ("online", "nộp trên dvc đc k"),
    ("docs", "hồ sơ có gì"),
    ("who", "ai đi làm được"),
    ("who", "nhờ người khác đi nộp được không"),
    ("who", "tôi làm giùm được không"),
    ("who", "cần những ai có mặt"),
    ("who", "bố chồng có phải đi cùng không"),
    ("who", "bố mẹ tôi già, tôi nộp hồ sơ thay được không"),
    ("who", "hai người có bắt buộc có mặt không"),
    ("who", "con 15 tuổi có phải hỏi ý kiến con không"),
    ("who", "mẹ nằm viện, cán bộ đến nhà chứng thực được không"),
    ("late", "để qua tháng sau mới làm có sao không"),
    ("who", "bố mẹ có phải tự ra công an không"),
    ("who", "ông đi lại khó, cán bộ có đến nhà không"),
    ("who", "vk mk đang ở cữ, mk đi 1 mình đc k"),
    ("fee", "5 tờ thì bao nhiêu"),
    ("docs", "giấy đăng ký kết hôn có phải dịch không"),
    ("where", "nộp ở ủy ban hay ở ấp"),
    ("docs", "viết đơn gì"),
    ("time", "đăng ký vào tháng mấy"),
    ("late", "quá hạn thì sao"),
    ("late", "có bị phạt không"),
    ("late", "quá 60 ngày rồi"),
    ("late", "trễ rồi thì sao"),
    ("benefit", "được bao nhiêu tiền 1 tháng"),
    ("benefit", "hỗ trợ bao nhiêu"),
    ("benefit", "mỗi tháng nhận nhiêu"),
    ("benefit", "được mấy triệu"),
    ("benefit", "lãnh mấy trăm một tháng"),
    ("steps", "làm như thế nào"),
    ("steps", "các bước ra sao"),
]


@pytest.mark.parametrize(("aspect", "text"), CASES)
def test_aspect_is_recognised(aspect: str, text: str) -> None:
    assert detect(text) == aspect


@pytest.mark.parametrize(
    "text", ["chứng thực bản sao", "quên mật khẩu vneid", "căn cước hết hạn", "đổi sổ hồng"]
)
def test_procedure_names_are_not_aspect_words(text: str) -> None:
    assert detect(text) is None


def test_a_number_of_copies_is_no_benefit_amount() -> None:
    # "được mấy bản" counts copies of a paper; answered as "mức tiền được hưởng" it is nonsense
    assert detect("xin được mấy bản") != "benefit"
    # an amount of money or a month's pay still is
    for text in ("lãnh mấy tiền", "mỗi tháng được mấy", "mỗi tháng lãnh bao nhiêu"):
        assert detect(text) == "benefit", text


def test_without_cues_keeps_the_subject() -> None:
    assert without_cues("khai sinh mất bao lâu") == "khai sinh"
    assert without_cues("sổ hồng làm ở đâu") == "so hong lam"  # "hồng" is not "hông"
    assert without_cues("nộp hồ sơ ở đâu") == ""  # words every procedure shares


def test_the_subject_gets_back_the_citizens_accent_marks() -> None:
    text = "giấy đó có giá trị trong bao lâu"
    assert remarked(without_cues(text), text) == "giấy đó có"  # not "giay do": "giấy đỏ"
    assert remarked("bao nhieu", "hết bn tiền") == "bao nhieu"  # spelled out: no marks to give
    assert remarked("so do", "so do bi mat") == "so do"  # typed without marks: stays so


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("lên đặc biệt nặng thì trợ cấp tăng lên bao nhiêu", "benefit"),
        ("lệ phí tăng lên bao nhiêu", "fee"),  # a fee rising is still the fee
        ("1 bản bao nhiêu", "fee"),
    ],
)
def test_how_much_more_is_the_benefit_only_for_an_allowance(text: str, aspect: str) -> None:
    assert detect(text) == aspect


def test_a_paper_still_valid_is_no_paper_to_bring() -> None:
    assert asks_for_paper("giấy mua bán viết tay hồi đó tôi còn giữ, có dùng được không")
    assert not asks_for_paper("cccd cũ hết hạn còn sử dụng được không")
