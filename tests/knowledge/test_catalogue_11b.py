"""Spot checks of key facts in the guides added for the wider catalogue (issue 11).

Each assertion is a fact a citizen relies on at the desk (code, deadline, fee, processing time);
it fails when an editor changes the fact, so the change is made on purpose and with its source.
"""

import datetime as dt

import pytest

from knowledge.library import Library, load_library
from knowledge.loader import load_knowledge

BEFORE = dt.date(2026, 12, 1)
AFTER = dt.date(2027, 3, 2)
FOREIGN = [
    "ket-hon-yeu-to-nuoc-ngoai",
    "khai-sinh-yeu-to-nuoc-ngoai",
    "khai-tu-yeu-to-nuoc-ngoai",
    "ghi-chu-ly-hon-nuoc-ngoai",
]


@pytest.fixture(scope="module")
def now() -> Library:
    return load_library(day=BEFORE)


@pytest.mark.parametrize(
    ("gid", "code", "days"),
    [
        ("khai-sinh-nhan-cha", "1.000689", 3),
        ("ket-hon-yeu-to-nuoc-ngoai", "2.000806", 10),
        ("khai-sinh-yeu-to-nuoc-ngoai", "2.000528", 1),
        ("khai-tu-yeu-to-nuoc-ngoai", "1.001766", 1),
        ("ghi-chu-ly-hon-nuoc-ngoai", "2.000554", 5),
        ("dang-ky-lai-ket-hon", "1.004746", 5),
        ("dang-ky-lai-khai-tu", "1.005461", 5),
        ("xac-nhan-thong-tin-ho-tich", "2.002516", 1),
        ("chung-thuc-di-chuc", "2.001019", 2),
        ("chung-thuc-phan-chia-di-san", "2.001406", 2),
        ("chung-thuc-hop-dong", "2.001035", 2),
    ],
)
def test_code_and_processing_time(now: Library, gid: str, code: str, days: int) -> None:
    guide = now.guide(gid)
    assert guide is not None
    assert guide.code == code
    assert guide.processing_time.working_days == days


def test_deadlines_and_fees_a_citizen_is_told(now: Library) -> None:
    birth = now.guide("khai-sinh-nhan-cha")
    assert birth is not None and birth.deadline is not None
    assert "60 ngày" in birth.deadline.text
    assert birth.fees[0].amount == 0  # birth on time is free; recognition is a provincial fee
    assert birth.fees[1].provincial == "ho_tich_nhan_cha_me_con"
    death = now.guide("khai-tu-yeu-to-nuoc-ngoai")
    assert death is not None and death.deadline is not None
    assert "15 ngày" in death.deadline.text
    info = now.guide("xac-nhan-thong-tin-ho-tich")
    assert info is not None and info.fees[0].amount == 8000
    for gid in ("chung-thuc-di-chuc", "chung-thuc-phan-chia-di-san"):
        guide = now.guide(gid)
        assert guide is not None and guide.fees[0].amount == 50000


def test_key_papers_are_marked(now: Library) -> None:
    birth = now.guide("khai-sinh-nhan-cha")
    assert birth is not None
    assert [d.name for d in birth.documents if d.key] == ["Giấy chứng sinh"]
    marriage = now.guide("ket-hon-yeu-to-nuoc-ngoai")
    assert marriage is not None
    assert len([d for d in marriage.documents if d.key]) == 2


def test_contracts_guide_no_longer_claims_wills_or_estates(now: Library) -> None:
    guide = now.guide("chung-thuc-hop-dong")
    assert guide is not None
    text = " ".join([guide.title, guide.summary, *guide.aliases, *guide.examples]).lower()
    assert "di chúc" not in text and "di sản" not in text
    assert now.match("làm di chúc ở xã").matches[0].id == "chung-thuc-di-chuc"
    assert now.match("văn bản khai nhận di sản").matches[0].id == "chung-thuc-phan-chia-di-san"


@pytest.mark.parametrize("gid", FOREIGN)
def test_foreign_element_guides_hand_over_to_the_2027_version(gid: str) -> None:
    result = load_knowledge()
    assert result.knowledge is not None and not result.errors
    kb = result.knowledge
    old = next(g for g in kb.active(BEFORE) if g.id == gid)
    new = next(g for g in kb.active(AFTER) if g.id == gid)
    assert old.effective_to == dt.date(2027, 2, 28)
    assert new.effective_from == dt.date(2027, 3, 1)
    assert "hỏi {trung_tam}" in new.summary  # says plainly to confirm at the desk
    assert any("03/2026/QH16" in b for b in new.legal_basis)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("kết hôn", "ket-hon"),
        ("đăng ký kết hôn với người hàn quốc cần gì", "ket-hon-yeu-to-nuoc-ngoai"),
        ("đăng ký lại kết hôn", "dang-ky-lai-ket-hon"),
        ("khai tử", "khai-tu"),
        ("đăng ký lại khai tử", "dang-ky-lai-khai-tu"),
        ("thủ tục khai sinh kết hợp nhận cha con", "khai-sinh-nhan-cha"),
        ("con 5 tuổi rồi, bố ruột muốn nhận con", "nhan-cha-me-con"),
        ("xin bản sao giấy khai sinh", "trich-luc-ho-tich"),
        ("xác nhận thông tin hộ tịch", "xac-nhan-thong-tin-ho-tich"),
    ],
)
def test_siblings_keep_their_own_questions(now: Library, question: str, expected: str) -> None:
    result = now.match(question)
    assert result.intent == "guide"
    assert result.matches[0].id == expected


def test_asking_to_divorce_is_not_answered_with_the_foreign_divorce_record(now: Library) -> None:
    assert now.match("thủ tục ly hôn").intent == "none"
