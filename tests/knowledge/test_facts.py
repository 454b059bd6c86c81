"""Spot-check of the facts a citizen acts on, per guide: a changed fee, deadline, agency or
amount must be a deliberate edit (update this table together with the guide and its source).

Facts are read as served on a fixed day, so dated fee lines and benefit amounts are checked the
way the bot shows them, never against the wall clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from knowledge.loader import load_knowledge
from knowledge.schema import Fee, Guide

DAY = dt.date(2026, 12, 1)
Amount = int | str | tuple[int, int]


@dataclass(frozen=True)
class Facts:
    code: str | None
    agency: str  # a phrase the agency line must contain
    days: float | None  # processing time in working days (None: not a fixed number)
    fees: list[
        Amount
    ]  # in force on DAY: amount, (amount, online_amount), "provincial:key", "tiers"
    benefits: list[int] = field(default_factory=list)  # amounts in force on DAY
    deadline: str | None = None  # a phrase the citizen's time limit must contain


FACTS: dict[str, Facts] = {
    "khai-sinh": Facts(
        "1.001193",
        "UBND xã/phường",
        1,
        [0, "provincial:ho_tich_khai_sinh_qua_han"],
        deadline="60 ngày",
    ),
    "khai-sinh-lien-thong": Facts(
        "2.000986",
        "Công an xã/phường",
        3,
        [0, "provincial:ho_tich_khai_sinh_qua_han", 0, 0],
        deadline="60 ngày",
    ),
    "khai-tu": Facts(
        "1.000656",
        "UBND xã/phường",
        1,
        [0, "provincial:ho_tich_khai_tu_qua_han"],
        deadline="15 ngày",
    ),
    "ket-hon": Facts(
        "1.000894", "UBND xã/phường", 1, [0, "provincial:ho_tich_ket_hon_yeu_to_nuoc_ngoai"]
    ),
    "nhan-cha-me-con": Facts(
        "1.001022", "UBND xã/phường", 3, ["provincial:ho_tich_nhan_cha_me_con"]
    ),
    "giam-ho": Facts("1.004837", "UBND xã/phường", 3, [0]),
    "xac-nhan-tinh-trang-hon-nhan": Facts(
        "1.004873", "UBND xã/phường", 3, ["provincial:ho_tich_xac_nhan_tinh_trang_hon_nhan"]
    ),
    "thay-doi-cai-chinh-ho-tich": Facts(
        "1.004859",
        "UBND xã/phường",
        3,
        [
            "provincial:ho_tich_thay_doi_cai_chinh",
            "provincial:ho_tich_thay_doi_cai_chinh_tu_14_tuoi",
        ],
    ),
    "dang-ky-lai-khai-sinh": Facts(
        "1.004884", "UBND xã/phường", 5, ["provincial:ho_tich_dang_ky_lai"]
    ),
    "trich-luc-ho-tich": Facts("2.000635", "UBND xã/phường", 1, [8000, 0]),
    "chung-thuc-ban-sao": Facts("2.000815", "UBND xã/phường", 1, ["tiers"]),
    "chung-thuc-chu-ky": Facts("2.000884", "UBND xã/phường", 1, [10000]),
    "chung-thuc-hop-dong": Facts("2.001035", "UBND xã/phường", 2, [50000, 30000, 25000]),
    "can-cuoc": Facts(None, "Công an", 7, [0, (25000, 0), (35000, 0)], deadline="14 tuổi"),
    "thuong-tru": Facts(
        "1.004222 / 1.010038 / 1.003197",
        "Công an xã/phường",
        7,
        [20000, 0, 10000, 0, 0],
        deadline="12 tháng",
    ),
    "tam-tru": Facts(
        "1.004194 / 1.002755 / 1.003677 / 2.001159",
        "Công an xã/phường",
        3,
        [15000, 0, 10000, 5000, 0],
        deadline="30 ngày",
    ),
    "vneid": Facts(None, "Công an", 3, [0]),
    "cap-so-do": Facts(
        "1.013978",
        "Chủ tịch UBND xã/phường",
        None,
        ["provincial:dat_dai_cap_giay_chung_nhan", "provincial:dat_dai_tham_dinh_ho_so"],
    ),
    "ho-ngheo": Facts("1.011607 / 1.011608 / 1.011606", "UBND xã/phường", 7, [0]),
    "tro-cap-nguoi-cao-tuoi": Facts(
        "1.001776 / 1.014027", "UBND xã/phường", None, [0], benefits=[540000, 810000, 1080000]
    ),
    "tro-cap-nguoi-khuyet-tat": Facts(
        "1.001776",
        "UBND xã/phường",
        None,
        [0],
        benefits=[1080000, 1350000, 810000, 1080000, 540000],
    ),
    "ho-tro-mai-tang": Facts(
        "1.001731 / 1.014028", "UBND xã/phường", 3, [0], benefits=[10800000, 10800000]
    ),
    "xac-dinh-muc-do-khuyet-tat": Facts("1.001699", "UBND xã/phường", 25, [0]),
    "lien-he": Facts(None, "Trung tâm Phục vụ hành chính công", None, [0]),
    "phan-anh-kien-nghi": Facts(None, "UBND xã/phường", None, [0, 0], deadline="90 ngày"),
    "nop-ho-so-truc-tuyen": Facts(None, "Cổng Dịch vụ công", None, [0]),
    "thanh-toan-le-phi": Facts(None, "Trung tâm", None, [0, 0]),
    "tra-cuu-ho-so": Facts(None, "Trung tâm", None, [0]),
    # The wider catalogue (issue 11): facts as written from the national records and laws; most
    # carry 'verify' notes in their guides, so a change here must come with its source.
    "tro-cap-tre-mo-coi": Facts(
        "1.001776", "UBND xã/phường", None, [0], benefits=[1350000, 810000, 540000]
    ),
    "chung-thuc-di-chuc": Facts("2.001019", "UBND xã/phường", 2, [50000, 30000]),
    "chung-thuc-phan-chia-di-san": Facts("2.001406", "UBND xã/phường", 2, [50000]),
    "chuyen-muc-dich-su-dung-dat": Facts(
        "1.013949", "UBND xã/phường", None, ["provincial:dat_dai_chuyen_muc_dich"]
    ),
    "chuyen-nhuong-dat": Facts(
        "1.013831",
        "Văn phòng đăng ký đất đai",
        None,
        ["provincial:dat_dai_dang_ky_bien_dong", "provincial:dat_dai_tham_dinh_bien_dong"],
        deadline="30 ngày",
    ),
    "hoa-giai-tranh-chap-dat": Facts("1.012812", "UBND xã/phường", None, [0]),
    "tach-thua-dat": Facts(
        "1.012784", "Văn phòng đăng ký đất đai", None, ["provincial:dat_dai_tach_hop_thua"]
    ),
    "dang-ky-lai-ket-hon": Facts(
        "1.004746", "UBND xã/phường", 5, ["provincial:ho_tich_dang_ky_lai"]
    ),
    "dang-ky-lai-khai-tu": Facts(
        "1.005461", "UBND xã/phường", 5, ["provincial:ho_tich_dang_ky_lai", 8000]
    ),
    "ghi-chu-ly-hon-nuoc-ngoai": Facts(
        "2.000554", "UBND xã/phường", 5, ["provincial:ho_tich_ghi_chu_ly_hon", 8000]
    ),
    "ket-hon-yeu-to-nuoc-ngoai": Facts(
        "2.000806", "UBND xã/phường", 10, ["provincial:ho_tich_ket_hon_yeu_to_nuoc_ngoai"]
    ),
    "khai-sinh-nhan-cha": Facts(
        "1.000689",
        "UBND xã/phường",
        3,
        [0, "provincial:ho_tich_nhan_cha_me_con", "provincial:ho_tich_khai_sinh_qua_han"],
        deadline="60 ngày",
    ),
    "khai-sinh-yeu-to-nuoc-ngoai": Facts(
        "2.000528",
        "UBND xã/phường",
        1,
        ["provincial:ho_tich_khai_sinh_yeu_to_nuoc_ngoai", 8000],
        deadline="60 ngày",
    ),
    "khai-tu-yeu-to-nuoc-ngoai": Facts(
        "1.001766",
        "UBND xã/phường",
        1,
        ["provincial:ho_tich_khai_tu_yeu_to_nuoc_ngoai", 8000],
        deadline="15 ngày",
    ),
    "xac-nhan-thong-tin-ho-tich": Facts("2.002516", "UBND xã/phường", 1, [8000]),
    "dang-ky-ho-kinh-doanh": Facts(
        "1.001612", "UBND xã/phường", 3, ["provincial:kinh_doanh_dang_ky_ho_kinh_doanh"]
    ),
    "dang-ky-nghia-vu-quan-su": Facts(
        "1.013133", "Ban Chỉ huy quân sự", None, [0], deadline="17 tuổi"
    ),
    "giay-phep-xay-dung": Facts(
        "1.013225", "UBND xã/phường", 7, ["provincial:xay_dung_giay_phep_nha_o"]
    ),
}


def serving(day: dt.date) -> dict[str, Guide]:
    kb = load_knowledge().knowledge
    assert kb is not None
    return {g.id: g for g in kb.active(day)}


def shown(fee: Fee) -> Amount:
    if fee.provincial is not None:
        return f"provincial:{fee.provincial}"
    if fee.tiers:
        return "tiers"
    assert fee.amount is not None
    return fee.amount if fee.online_amount is None else (fee.amount, fee.online_amount)


def test_every_guide_has_a_row():
    assert set(serving(DAY)) == set(FACTS)


@pytest.mark.parametrize("guide_id", sorted(FACTS))
def test_key_facts(guide_id: str):
    guide, facts = serving(DAY)[guide_id], FACTS[guide_id]
    assert guide.code == facts.code
    assert facts.agency in guide.agency
    assert guide.processing_time.working_days == facts.days
    assert [shown(f) for f in guide.fees if f.in_force(DAY)] == facts.fees
    assert [b.amount for b in guide.benefits if b.in_force(DAY)] == facts.benefits
    if facts.deadline is None:
        assert guide.deadline is None
    else:
        assert guide.deadline is not None and facts.deadline in guide.deadline.text


def amounts(guide: Guide, day: dt.date) -> list[Amount]:
    return [shown(f) for f in guide.fees if f.in_force(day)]


def test_id_card_fees_follow_their_dates():
    """Reduced fees end 31/12/2026; online filing is free 15/8/2026–28/02/2027 (TT 117/2026)."""
    card = serving(DAY)["can-cuoc"]
    assert amounts(card, dt.date(2026, 8, 1)) == [0, 25000, 35000]
    assert amounts(card, dt.date(2027, 1, 15)) == [0, (50000, 0), (70000, 0)]
    assert amounts(card, dt.date(2027, 3, 1)) == [0, 50000, 70000]


def test_residence_fees_online_free_only_in_the_digital_citizen_period():
    guide = serving(DAY)["tam-tru"]
    assert amounts(guide, dt.date(2026, 8, 14)) == [15000, 7000, 10000, 5000, 0]
    assert amounts(guide, dt.date(2027, 3, 1)) == [15000, 7000, 10000, 5000, 0]


def test_benefits_before_the_2026_base_level():
    """Base level 500.000 đ until 30/6/2026 (NĐ 76/2024), 540.000 đ from 01/7/2026 (NĐ 335/2026)."""
    guides = serving(DAY)
    before = dt.date(2026, 6, 30)
    elderly = [b.amount for b in guides["tro-cap-nguoi-cao-tuoi"].benefits if b.in_force(before)]
    assert elderly == [500000, 750000, 1000000]
    burial = [b.amount for b in guides["ho-tro-mai-tang"].benefits if b.in_force(before)]
    assert burial == [10000000]


@pytest.mark.parametrize(
    ("guide_id", "paper"),
    [
        ("khai-sinh-lien-thong", "Giấy chứng sinh"),
        ("ho-tro-mai-tang", "Trích lục khai tử"),
        ("tro-cap-nguoi-khuyet-tat", "Giấy xác nhận khuyết tật"),
        ("chung-thuc-ban-sao", "Bản chính"),
        ("ket-hon", "Giấy tờ tùy thân của cả hai người"),
    ],
)
def test_key_document(guide_id: str, paper: str):
    keys = [d.name for d in serving(DAY)[guide_id].documents if d.key]
    assert any(name.startswith(paper) for name in keys), keys


def test_paternity_needs_no_letters_or_photos():
    """Without a medical document, a declaration and two witnesses suffice (record 1.001022)."""
    docs = " ".join(d.name for d in serving(DAY)["nhan-cha-me-con"].documents)
    assert "hai người làm chứng" in docs
    assert "ảnh" not in docs and "thư từ" not in docs.lower()
