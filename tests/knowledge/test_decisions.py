"""The matcher's decisions on the bundled library: answer, ask between siblings, offer two,
hand over, point elsewhere. Sentences here are written for these tests, not taken from a set."""

from pathlib import Path

import pytest

from knowledge.evaluate import evaluate, measurable, read_questions
from knowledge.library import Library, load_library
from tests.knowledge.conftest import DAY

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(day=DAY)


@pytest.mark.parametrize(
    ("text", "guide"),
    [
        (
            "vợ tôi là người Nhật, con sinh ở bệnh viện tỉnh, giờ làm khai sinh cho con ở đâu",
            "khai-sinh-yeu-to-nuoc-ngoai",
        ),
        (
            "mình đã nộp hồ sơ trên cổng dịch vụ công, giờ đóng lệ phí kiểu gì",
            "thanh-toan-le-phi",
        ),
    ],
)
def test_one_story_told_in_clauses_is_one_procedure(library: Library, text: str, guide: str):
    result = library.match(text)
    assert not result.multi, result
    assert result.best is not None and result.best.id == guide, result


def test_two_procedures_joined_by_and_are_both_offered(library: Library):
    result = library.match("khai tử và xin hỗ trợ mai táng")
    assert result.multi
    assert {m.id for m in result.matches} >= {"khai-tu", "ho-tro-mai-tang"}


def test_one_step_after_another_is_two_procedures(library: Library):
    result = library.match("xin chuyển đất trồng cây sang đất thổ cư rồi xin phép xây nhà")
    assert result.multi
    assert {m.id for m in result.matches} >= {"chuyen-muc-dich-su-dung-dat", "giay-phep-xay-dung"}


@pytest.mark.parametrize(
    ("text", "guide"),
    [
        ("bố em mất rồi, em đi khai tử", "khai-tu"),
        ("đăng ký tạm trú rồi thì bao lâu có kết quả", "tam-tru"),
    ],
)
def test_roi_meaning_already_splits_nothing(library: Library, text: str, guide: str):
    result = library.match(text)
    assert result.intent == "guide" and not result.multi, result
    assert result.best is not None and result.best.id == guide


def test_a_paper_of_another_agency_as_the_object_of_our_procedure(library: Library):
    copy = library.match("chứng thực bản sao bằng lái xe")
    assert copy.intent == "guide" and copy.best is not None, copy
    assert copy.best.id == "chung-thuc-ban-sao"
    licence = library.match("đổi bằng lái xe ở đâu")
    assert (licence.intent, licence.pointer) == ("none", "giay-phep-lai-xe"), licence


@pytest.mark.parametrize("text", ["tôi muốn gặp lãnh đạo xã", "có người thật không ạ"])
def test_asking_for_a_person(library: Library, text: str):
    assert library.match(text).intent == "handoff"


@pytest.mark.parametrize(
    ("text", "guide"),
    [
        ("nhập hk cho con", "thuong-tru"),
        ("tách hộ", "thuong-tru"),
        ("xin giấy xn độc thân", "xac-nhan-tinh-trang-hon-nhan"),
    ],
)
def test_chat_abbreviations_of_household_and_status_papers(library: Library, text, guide):
    result = library.match(text)
    assert result.best is not None and result.best.id == guide, result


def test_second_development_set_floors(library: Library):
    """dev2 (independent writer; half A was looked at item by item, half B only in aggregate)."""
    items, _ = measurable(read_questions(DATA / "dev2_questions.tsv"), library.guides)
    report = evaluate(items, library.match)
    summary = "\n".join(report.lines())
    assert report.direct_accuracy >= 0.88, summary
    assert report.top1_accuracy >= 0.93, summary
    assert report.confident_wrong_rate <= 0.02, summary
    # one half-B out-of-scope item is answered since session 7's examples (not looked at)
    assert report.oos_answered <= 1 and report.oos_rejection >= 0.95, summary
    assert report.handoff_recall >= 0.95, summary


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        (
            "cho tôi hỏi đăng ký kết hôn, với lại đăng ký thường trú cho vợ luôn",
            {"ket-hon", "thuong-tru"},
        ),
        (
            "bố tôi mới mất, tôi muốn làm khai tử đồng thời xin tiền hỗ trợ mai táng",
            {"khai-tu", "ho-tro-mai-tang"},
        ),
        (
            "làm căn cước cho con cần gì? còn đăng ký tạm trú thì nộp ở đâu?",
            {"can-cuoc", "tam-tru"},
        ),
        (
            "làm khai tử cho mẹ em xong rồi xin hỗ trợ mai táng được không",
            {"khai-tu", "ho-tro-mai-tang"},
        ),
        (
            "em muốn xin giấy xác nhận độc thân, thêm chứng thực bản sao sổ hộ khẩu nữa",
            {"xac-nhan-tinh-trang-hon-nhan", "chung-thuc-ban-sao"},
        ),
        ("khai tu + mai tang", {"khai-tu", "ho-tro-mai-tang"}),
        (
            "làm khai sinh cho bé xong có làm căn cước cho bé luôn được không",
            {"khai-sinh", "can-cuoc"},
        ),
        (
            "làm sổ đỏ lần đầu mà đất đang tranh chấp với nhà bên, chỉ em cả hai thủ tục",
            {"cap-so-do", "hoa-giai-tranh-chap-dat"},
        ),
    ],
)
def test_two_requests_however_joined_are_both_offered(library: Library, text: str, pair: set[str]):
    result = library.match(text)
    assert result.multi, result
    assert {m.id for m in result.matches} >= pair, result


@pytest.mark.parametrize(
    ("text", "guide"),
    [
        # "với" before a person is "with", not "and"
        ("đăng ký kết hôn với anh người Hàn Quốc cần gì", "ket-hon-yeu-to-nuoc-ngoai"),
        # a clause of the story and its request: one marriage
        ("tôi cưới vợ người Lào, muốn đăng ký kết hôn", "ket-hon-yeu-to-nuoc-ngoai"),
        # "lần" folds like "lẫn" ("as well"): typed with marks it joins nothing
        ("em làm lại căn cước lần thứ hai thì mất bao lâu", "can-cuoc"),
        # "kèm": a paper or a service that comes with the one procedure
        ("làm giấy khai sinh cho bé kèm thẻ bảo hiểm y tế luôn được không", "khai-sinh-lien-thong"),
        # "cả ... lẫn ...": both of one thing
        ("cháu tôi mất cả cha lẫn mẹ, tôi muốn làm giám hộ cho cháu", "giam-ho"),
    ],
)
def test_one_request_is_not_cut_in_two(library: Library, text: str, guide: str):
    result = library.match(text)
    assert result.intent == "guide" and not result.multi, result
    assert result.best is not None and result.best.id == guide


def test_a_benefit_named_without_its_group_asks_which_one(library: Library):
    """ "trợ cấp hằng tháng" is in the name of three allowances and says none of their groups:
    the citizen is asked which, not answered with the one whose examples say it most often."""
    result = library.match("trợ cấp hằng tháng")
    assert result.intent == "clarify", result
    allowances = {"tro-cap-nguoi-khuyet-tat", "tro-cap-nguoi-cao-tuoi", "tro-cap-tre-mo-coi"}
    assert len({m.id for m in result.matches} & allowances) >= 2, result


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        # the second part is short and only leads among the guides ("mở quán": a business)
        (
            "nhà em mới về đây ở trọ, muốn đăng ký tạm trú và mở quán bán nước",
            {"tam-tru", "dang-ky-ho-kinh-doanh"},
        ),
        # the story pulls both parts to the allowance; the clause before "và" names the other
        (
            "chị tôi góa chồng một mình nuôi hai đứa nhỏ, muốn xin xét hộ cận nghèo và xin "
            "trợ cấp nuôi con",
            {"ho-ngheo", "tro-cap-tre-mo-coi"},
        ),
        (
            "ông nhà tôi bị liệt nửa người, tôi muốn làm giấy xác nhận khuyết tật rồi xin trợ "
            "cấp hằng tháng cho ông",
            {"xac-dinh-muc-do-khuyet-tat", "tro-cap-nguoi-khuyet-tat"},
        ),
    ],
)
def test_a_second_request_named_only_among_guides_is_offered(
    library: Library, text: str, pair: set[str]
):
    result = library.match(text)
    assert result.multi, result
    assert {m.id for m in result.matches} >= pair, result


@pytest.mark.parametrize(
    ("text", "guide"),
    [
        ("trợ cấp hằng tháng cho người khuyết tật", "tro-cap-nguoi-khuyet-tat"),
        ("trợ cấp hằng tháng người già", "tro-cap-nguoi-cao-tuoi"),
        ("xin trợ cấp mồ côi hằng tháng", "tro-cap-tre-mo-coi"),
        ("khai sinh", "khai-sinh"),  # the general procedure's own name: its variants not asked
        ("kết hôn", "ket-hon"),
    ],
)
def test_a_benefit_with_its_group_is_answered(library: Library, text: str, guide: str):
    result = library.match(text)
    assert result.intent == "guide" and result.best is not None, result
    assert result.best.id == guide, result


@pytest.mark.parametrize(
    "text",
    [
        "sinh con thứ 3 có bị phạt",  # population policy, not a commune procedure of ours
        "đám cưới mừng bao nhiêu",  # a wedding gift, not the marriage registration
        "giảm cân",  # not "giám hộ"
        "nhập quốc tịch",  # another agency's procedure: a pointer
        # a commune procedure we have no guide for: a pointer to the commune's desk
        "nhận con nuôi",
        # the social policy bank's loan, not the poor-household recognition
        "vay vốn hộ nghèo",
        # permission to keep animals is not the building permit
        "nuôi gà trong nhà có phải xin phép không",
    ],
)
def test_out_of_scope_messages_get_no_guide(library: Library, text: str):
    result = library.match(text)
    assert result.intent == "none", result


@pytest.mark.parametrize(
    ("text", "guide"),
    [
        # one combined procedure holds both names: birth + residence (+ health card)
        (
            "đăng ký khai sinh với đăng ký thường trú cho con mới sinh làm chung một hồ sơ "
            "được không",
            "khai-sinh-lien-thong",
        ),
        (
            "bé nhà mình mới sinh, mình muốn làm giấy khai sinh rồi nhập khẩu và làm thẻ bảo "
            "hiểm y tế cho bé luôn",
            "khai-sinh-lien-thong",
        ),
        # birth registration with acknowledging the father is one procedure
        (
            "vợ chồng em chưa đăng ký kết hôn, muốn làm khai sinh cho con có tên bố và nhận cha "
            "cho cháu",
            "khai-sinh-nhan-cha",
        ),
        # "xong rồi," is "already done": the story of a settled inheritance, then its request
        (
            "Nhà em ở xa, ông bà mất cả rồi, nhà đất để lại cho mấy anh em đã thỏa thuận xong "
            "rồi, giờ muốn sang tên sổ đỏ cho em thì làm sao",
            "chuyen-nhuong-dat",
        ),
        # a second part that is no procedure of ours adds nothing
        ("đăng ký tạm trú và mua xe máy", "tam-tru"),
    ],
)
def test_a_combined_procedure_or_a_story_is_not_two(library: Library, text: str, guide: str):
    result = library.match(text)
    assert result.intent == "guide" and not result.multi, result
    assert result.best is not None and result.best.id == guide


def test_a_story_left_between_two_guides_is_answered_on_its_request(library: Library):
    # the steps already taken (agreed, signed) are the story, not a second request
    result = library.match(
        "Nhà tôi có mảnh vườn ông bà để lại, anh em trong nhà đã họp và ký văn bản phân chia "
        "ở xã xong xuôi từ tháng trước, ai cũng đồng ý cả. Giờ cho tôi hỏi thủ tục sang tên "
        "sổ đỏ phần đất của tôi thế nào"
    )
    assert result.intent == "guide" and not result.multi, result
    assert result.best is not None and result.best.id == "chuyen-nhuong-dat"


def test_a_step_already_taken_is_no_second_request(library: Library):
    result = library.match("mua mảnh đất xong làm hợp đồng rồi, giờ sang tên sổ đỏ cho tôi thế nào")
    assert not result.multi, result
    assert result.best is not None and result.best.id == "chuyen-nhuong-dat"


@pytest.mark.parametrize(
    "text",
    [
        "con tôi vừa cải chính ngày sinh trong giấy khai sinh xong, giờ thẻ căn cước có phải"
        " đổi không",
        "tôi đã sửa họ trong giấy khai sinh rồi, giờ căn cước có phải làm lại không",
    ],
)
def test_the_question_after_a_finished_step_is_the_request(library: Library, text: str):
    # the correction is done; what is asked now is the ID card that follows it
    result = library.match(text)
    assert result.intent == "guide" and result.best is not None, result
    assert result.best.id == "can-cuoc", result
    # however many matches are shown
    assert [m.id for m in library.match(text, top=1).matches] == ["can-cuoc"]


@pytest.mark.parametrize(
    "text",
    ["làm hàng rào có phải xin phép không", "sửa mái nhà có phải xin phép không"],
)
def test_building_work_asking_for_permission_gets_the_building_permit(library: Library, text: str):
    result = library.match(text)
    assert result.intent == "guide" and result.best is not None, result
    assert result.best.id == "giay-phep-xay-dung", result


@pytest.mark.parametrize(
    "text",
    [
        "mẹ vợ em ng Hàn sang chơi, mất ở nhà em, giờ khai tử ntn",  # "ng" spelled out first
        "bố chồng e ng Hàn Quốc sang ở vs vc e 3 năm, vừa mất ở nhà, giờ khai tủ ntn",
    ],
)
def test_a_foreigner_told_decides_the_foreign_element_variant(library: Library, text: str):
    result = library.match(text)
    assert result.intent == "guide", result  # not "which of these?" between the two
    assert result.best is not None and result.best.id == "khai-tu-yeu-to-nuoc-ngoai", result


def test_a_birth_not_yet_registered_at_three_is_one_request(library: Library):
    result = library.match(
        "con em 4 tuổi rồi mà vẫn chưa làm giấy khai sinh, giờ làm còn được không"
    )
    assert result.intent == "guide" and result.best is not None, result
    assert result.best.id == "khai-sinh", result


def test_whether_a_filed_application_is_approved_is_tracking_it(library: Library):
    # filed online already: the question is where it stands, not how to file
    result = library.match(
        "mình nộp hồ sơ qua mạng hôm trước rồi, giờ sao biết được duyệt hay chưa"
    )
    assert result.intent == "guide" and result.best is not None, result
    assert result.best.id == "tra-cuu-ho-so"


def test_asking_among_offered_choices_with_one_left_is_no_crash(library: Library):
    """After "which of these?" a follow-up is matched among the offered guides only; when one
    of them is left it is still a choice to ask about, not an IndexError (a stack trace and
    "hệ thống đang gặp trục trặc" for the citizen)."""
    allowed = frozenset({"giay-phep-xay-dung", "thay-doi-cai-chinh-ho-tich"})
    result = library.matcher.match("nếu phải xin thì nộp hồ sơ ở xã hay ở đâu", allowed=allowed)
    assert result.matches and {m.id for m in result.matches} <= allowed
