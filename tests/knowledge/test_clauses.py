"""Long messages: the clause that asks weighs more than the story; greetings and thanks around
a question are padding. Sentences here are written for these tests, not taken from a set."""

import pytest

from knowledge.clauses import request_part, strip_padding
from knowledge.library import Library, load_library
from tests.knowledge.conftest import DAY


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(day=DAY)


def test_the_asking_clause_of_a_story_is_found():
    text = (
        "Nhà em ở quê, ông nội em mất tháng trước, mấy anh em đã lo đám xong xuôi, họ hàng "
        "cũng về đông đủ. Giờ em muốn hỏi đăng ký khai tử cần mang giấy tờ gì ạ"
    )
    assert request_part(text) == "Giờ em muốn hỏi đăng ký khai tử cần mang giấy tờ gì ạ"


def test_a_short_message_is_one_request():
    assert request_part("bố em mất rồi, em đi khai tử cần gì") is None


def test_a_word_that_only_folds_like_a_question_word_asks_nothing():
    # "căn cước" and "hồi" fold to "can" and "hoi" ("cần", "hỏi"): with marks they are told apart
    text = (
        "Hồi tháng trước em bị mất ví ngoài chợ, trong ví có căn cước và thẻ ngân hàng, "
        "em đã báo mất thẻ rồi. Giờ làm lại căn cước thì mất bao lâu ạ"
    )
    assert request_part(text) == "Giờ làm lại căn cước thì mất bao lâu ạ"


@pytest.mark.parametrize(
    ("text", "body"),
    [
        (
            "Dạ em chào ad ạ, cho em hỏi làm căn cước cho con mất bao lâu, em cảm ơn ạ",
            "cho em hỏi làm căn cước cho con mất bao lâu",
        ),
        ("Xin lỗi đã làm phiền, tách hộ cần giấy gì", "tách hộ cần giấy gì"),
        ("dạ em cảm ơn ad ạ", "dạ em cảm ơn ad ạ"),  # only thanks: left as it is
    ],
)
def test_greetings_and_thanks_around_a_question_are_padding(text: str, body: str):
    assert strip_padding(text) == body


def test_a_story_with_greeting_and_thanks_is_answered_on_its_request(library: Library):
    result = library.match(
        "Chào ad, nhà em ở quê, ông nội em mất tháng trước, mấy anh em đã lo đám xong xuôi, "
        "họ hàng cũng về đông đủ. Giờ em muốn hỏi đăng ký khai tử cần mang giấy tờ gì ạ, em "
        "cảm ơn ad nhiều"
    )
    assert result.intent == "guide" and result.best is not None, result
    assert result.best.id == "khai-tu"


@pytest.mark.parametrize(
    "text",
    [
        "cho hỏi ra ngân hàng làm thẻ atm thì mang theo gì",
        "đăng ký sim điện thoại chính chủ ở đâu",
        "chuyển trường cho con lên lớp 3 cần giấy gì",
        "xem ngày tốt để chuyển nhà",
    ],
)
def test_other_services_that_share_words_with_procedures_get_no_guide(library: Library, text: str):
    assert library.match(text).intent == "none"


@pytest.mark.parametrize(
    "text",
    [
        "tôi bức xúc lắm, hẹn ba lần rồi vẫn chưa xong, gọi người phụ trách ra nói chuyện với tôi",
        "cho tui nói chuyện với người thiệt nghen",
    ],
)
def test_an_angry_or_southern_request_for_a_person_is_a_handoff(library: Library, text: str):
    assert library.match(text).intent == "handoff"


def test_two_requests_are_cut_at_their_joiner_not_at_a_preposition():
    from knowledge.clauses import two_request_splits

    text = "em kết hôn với chồng người Hàn, cho em hỏi đăng ký kết hôn với khai sinh cho con"
    assert two_request_splits(text, 10) == [
        ("em kết hôn với chồng người Hàn, cho em hỏi đăng ký kết hôn", "khai sinh cho con")
    ]
    assert two_request_splits("nộp 1 lan dc ko", 10) == []  # unmarked "lan" is "lần"
    # a story sentence and its question are one request; two questions are two
    assert two_request_splits("Bố em mất tuần trước. Giờ làm khai tử cần gì?", 10) == []
    assert two_request_splits("Khai tử cần gì? Mai táng bao nhiêu tiền?", 10) == [
        ("Khai tử cần gì?", "Mai táng bao nhiêu tiền?")
    ]
    # papers listed after a copying verb are what is copied, not a second request
    assert two_request_splits("photo công chứng bằng tốt nghiệp với sổ hộ khẩu", 10) == []
    assert two_request_splits("làm khai sinh và sổ hộ khẩu cho con", 10) != []


def test_done_already_is_no_joiner_and_a_joiner_is_cut_once():
    from knowledge.clauses import request_cuts, two_request_splits

    story = "mấy anh em đã làm văn bản thừa kế xong rồi, giờ sang tên sổ đỏ thế nào"
    assert two_request_splits(story, 10) == []
    cuts = request_cuts("làm khai tử cho mẹ em xong rồi xin hỗ trợ mai táng được không", 10)
    assert cuts == [("làm khai tử cho mẹ em", "xin hỗ trợ mai táng được không", True)]


def test_already_yet_is_no_joiner():
    from knowledge.clauses import two_request_splits

    # "3 tuổi rồi mà vẫn chưa ...": already three, and yet; one request
    text = "con tôi 3 tuổi rồi mà vẫn chưa làm giấy khai sinh, giờ làm còn được không"
    assert all(left != "con tôi 3 tuổi" for left, _ in two_request_splits(text, 10))


def test_the_clause_next_to_a_cut_names_its_request():
    from knowledge.clauses import near_clause

    left = "Em là mẹ đơn thân nuôi con một mình, muốn xin công nhận hộ nghèo"
    assert near_clause(left, left=True) == "muốn xin công nhận hộ nghèo"
    assert near_clause("mở tiệm tạp hóa. Cần giấy gì?", left=False) == "mở tiệm tạp hóa"
    assert near_clause("khai tử", left=True) == "khai tử"


def test_steps_already_taken_are_told_not_asked():
    from knowledge.clauses import tells_done, two_request_splits

    assert tells_done("ký hợp đồng rồi ạ") and tells_done("em đã nộp hồ sơ")
    assert not tells_done("muốn xin công nhận hộ nghèo")
    assert two_request_splits("anh em đã họp và ký văn bản phân chia", 10) == []


@pytest.mark.parametrize(
    ("text", "guide"),
    [
        ("làm hộ nghèo có cần giấy xác nhận khuyết tật không", "ho-ngheo"),
        ("đăng ký kết hôn cần giấy xác nhận độc thân không", "ket-hon"),
        ("đăng ký thường trú có cần giấy đăng ký kết hôn không", "thuong-tru"),
        ("làm giấy khai sinh cho bé có cần căn cước của bố không", "khai-sinh"),
    ],
)
def test_a_paper_a_procedure_may_need_is_not_the_procedure_asked(
    library: Library, text: str, guide: str
):
    # the paper's name is another procedure's ("xác nhận khuyết tật"): the question is about
    # the procedure named before it
    result = library.match(text)
    assert result.intent == "guide" and result.best is not None and result.best.id == guide


def test_a_story_that_goes_on_after_the_paper_is_no_such_question():
    from knowledge.clauses import needs_paper

    assert (
        needs_paper("bên đó bảo phải có giấy xác nhận độc thân, bác xin cho nó được không") is None
    )
    assert needs_paper("khai sinh cần giấy gì") is None  # asks which papers
    assert needs_paper("làm hộ nghèo có cần giấy xác nhận khuyết tật không") == "lam ho ngheo"
