"""Small talk, a person, other agencies' procedures and out-of-scope messages: each reaches its
own class, and in-scope messages whose words look like small talk still reach their guide.
Sentences here are written for these tests, not taken from a set."""

import pytest

from knowledge.library import Library, load_library


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


@pytest.mark.parametrize("text", ["vâng", "dạ vâng", "ok", "oke", "được rồi", "em hiểu rồi", "uh"])
def test_an_acknowledgement_is_not_a_thanks(library: Library, text: str):
    result = library.match(text)
    assert (result.intent, result.chitchat) == ("chitchat", "ack"), result


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("chào ad", "greeting"),
        ("chào buổi tối", "greeting"),
        ("cảm ơn ad nhiều nha", "thanks"),
        ("tạm biệt ad", "goodbye"),
        ("bye bye", "goodbye"),
    ],
)
def test_greetings_thanks_and_goodbyes(library: Library, text: str, kind: str):
    result = library.match(text)
    assert (result.intent, result.chitchat) == ("chitchat", kind), result


@pytest.mark.parametrize(
    "text", ["giấy chào đời", "làm giấy chào đời cho con", "bé nhà em mới chào đời"]
)
def test_a_birth_paper_is_not_a_greeting(library: Library, text: str):
    result = library.match(text)
    assert result.intent == "guide" and result.best is not None, result
    assert result.best.id == "khai-sinh"


@pytest.mark.parametrize(
    "text",
    [
        "cho tôi số điện thoại cán bộ tư pháp",
        "cho xin sdt can bo phu trach dat dai",
        "có số hotline không",
        "tổng đài viên đâu",
        "gặp trực tiếp cán bộ được không ạ",
    ],
)
def test_a_person_in_more_forms(library: Library, text: str):
    assert library.match(text).intent == "handoff"


@pytest.mark.parametrize(
    "text", ["số điện thoại ủy ban xã", "sdt bo phan mot cua", "số điện thoại"]
)
def test_the_offices_number_stays_with_the_contact_guide(library: Library, text: str):
    result = library.match(text)
    assert result.best is not None and result.best.id == "lien-he", result


@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        ("xin phiếu lý lịch tư pháp ở đâu", "ly-lich-tu-phap"),
        ("lý lịch tư pháp số 2 đi nước ngoài", "ly-lich-tu-phap"),
        ("nghỉ việc rồi lãnh trợ cấp thất nghiệp thế nào", "bao-hiem-that-nghiep"),
        ("chồng em người Hàn muốn nhập quốc tịch Việt Nam", "quoc-tich"),
        ("làm giấy phép lao động cho người nước ngoài", "giay-phep-lao-dong"),
        ("mua bảo hiểm y tế hộ gia đình", "bao-hiem-y-te"),
        ("muốn khởi kiện đòi nợ", "toa-an"),
    ],
)
def test_other_agencies_procedures_get_a_pointer(library: Library, text: str, pointer: str):
    result = library.match(text)
    assert (result.intent, result.pointer) == ("none", pointer), result


@pytest.mark.parametrize(
    "text",
    ["mai có mưa không", "giải giúp em bài toán lớp 5", "bán xe máy cũ giá rẻ", "bầu cử khi nào"],
)
def test_out_of_scope_is_not_answered_with_a_guide(library: Library, text: str):
    assert library.match(text).intent == "none"


def test_every_pointer_cites_its_legal_basis(library: Library):
    for key, pointer in library.kb.lexicon.pointers.items():
        assert pointer.legal_basis, key
        assert pointer.agency and pointer.phrases, key
