"""Sample values in office.yaml must never pass for a real commune's data unnoticed."""

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

from knowledge.loader import DEFAULT_DIR, load_knowledge
from knowledge.placeholders import fill
from knowledge.samples import sample_keys, sample_message

ROOT = Path(__file__).resolve().parents[2]


def validate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knowledge", "validate", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def with_bundled_office(kdir: Path) -> Path:
    shutil.copy(DEFAULT_DIR / "office.yaml", kdir / "office.yaml")
    return kdir


def test_bundled_office_is_marked_as_samples():
    kb = load_knowledge().knowledge
    assert kb is not None
    keys = sample_keys(kb.office)
    for key in (
        "commune",
        "phones",
        "address",
        "police_hours",
        "provincial_fees.ho_tich_dang_ky_lai",
    ):
        assert key in keys
    assert set(kb.office.provincial_fees) <= {k.split(".", 1)[1] for k in keys if "." in k}


def test_plain_validate_warns_and_strict_fails(kdir):
    with_bundled_office(kdir)
    plain = validate(str(kdir))
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "cảnh báo" in plain.stdout and "dữ liệu mẫu" in plain.stdout
    assert "commune" in plain.stdout and "provincial_fees.ho_tich_khai_sinh_qua_han" in plain.stdout
    strict = validate("--strict", str(kdir))
    assert strict.returncode == 1


def test_a_commune_without_samples_passes_strict(kdir):
    # the fixture office has no 'samples:' list: what a commune ships after filling it in
    strict = validate("--strict", str(kdir))
    assert strict.returncode == 0, strict.stdout + strict.stderr
    assert strict.stdout == ""


def test_sample_key_must_name_a_real_setting(kdir):
    office = kdir / "office.yaml"
    office.write_text(
        office.read_text(encoding="utf-8")
        + "samples:\n  - phone_numbers\n  - provincial_fees.khong_co\n",
        encoding="utf-8",
    )
    problems = [p.render(kdir) for p in load_knowledge(kdir).problems]
    assert any("office.yaml" in p and "phone_numbers" in p for p in problems), problems


def test_staff_message_names_every_key():
    text = sample_message(["phones", "provincial_fees.dat_dai_cap_giay_chung_nhan"])
    assert (
        "MẪU" in text and "phones" in text and "provincial_fees.dat_dai_cap_giay_chung_nhan" in text
    )


def test_police_hours_and_local_texts_fill_guides():
    kb = load_knowledge().knowledge
    assert kb is not None
    police = fill("{gio_cong_an}", kb.office)
    assert "Thứ Hai – Thứ Sáu" in police and "Thứ Bảy" not in police  # not the centre's hours
    empty = kb.office.model_copy(update={"police_hours": {}})
    assert "gọi hỏi trước" in fill("{gio_cong_an}", empty)
    assert "tỉnh" in fill("{local_dat_dai_thoi_han}", kb.office)
    assert "hỏi cán bộ" in fill("{local_khong_co}", kb.office)


def test_guide_naming_a_missing_local_text_is_a_warning(kdir):
    guide = kdir / "guides" / "khai-sinh.yaml"
    text = guide.read_text(encoding="utf-8")
    guide.write_text(
        text.replace("summary: >-\n", "summary: >-\n  {local_khong_co}\n", 1), encoding="utf-8"
    )
    result = load_knowledge(kdir)
    assert result.ok
    assert any("khong_co" in p.message and p.severity == "warning" for p in result.problems)


def test_2027_holidays_include_culture_day_and_compensatory_monday():
    kb = load_knowledge().knowledge
    assert kb is not None
    days = {h.date: h.name for h in kb.office.holidays}
    assert days[dt.date(2027, 11, 24)] == "Ngày Văn hóa Việt Nam"
    assert dt.date(2027, 5, 3) in days and dt.date(2027, 5, 3).weekday() == 0
