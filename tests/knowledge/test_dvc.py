"""import-dvc and drift on real national procedure records (tests/data/dvcqg)."""

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from knowledge.dvc import compare, drift_report, read_record
from knowledge.loader import _validate, load_knowledge
from knowledge.schema import Document, Guide
from knowledge.yamlsrc import read_yaml

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "tests" / "data" / "dvcqg"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knowledge", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def _khai_sinh(kdir: Path) -> Guide:
    kb = load_knowledge(kdir).knowledge
    assert kb is not None
    return kb.guides[0]


def test_record_is_read_with_its_facts():
    record = read_record(RECORDS / "1.001193.json")
    assert record.code == "1.001193"
    assert record.name == "Thủ tục đăng ký khai sinh"
    assert record.updated == dt.date(2026, 4, 15)
    assert record.working_days == [1.0]
    assert any("Giấy chứng sinh" in d.name for d in record.documents)
    assert "18/2026/ND-CP" in record.numbers  # "NĐ" and "ND" spellings compare equal
    # remarks about postal filing or online forms are notes, not papers
    assert not any("bưu chính" in d.name for d in record.documents)


def test_import_writes_a_draft_that_validate_explains(tmp_path):
    out = run("import-dvc", str(RECORDS / "1.000689.json"), "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    path = Path(out.stdout.strip())
    assert path.parent == tmp_path and path.name == "dang-ky-khai-sinh-ket-hop-dang-ky.yaml"
    assert "thêm ít nhất 7 câu hỏi" in out.stderr

    text = path.read_text(encoding="utf-8")
    assert text.startswith("# BẢN NHÁP từ hồ sơ thủ tục hành chính quốc gia mã 1.000689")
    located = read_yaml(path)
    guide, problems = _validate(Guide, located, path)
    # the only thing missing is what cannot be taken from a record: citizens' phrasings
    assert guide is None
    assert [p.message for p in problems] == [
        "cần ít nhất 10 cách hỏi ('aliases' + 'examples'), hiện có 3"
    ]

    data = yaml.safe_load(text)
    data["examples"] = [f"câu hỏi {i}" for i in range(7)]
    draft = Guide.model_validate(data)
    assert draft.code == "1.000689" and draft.field == "ho-tich"
    assert draft.title == "Đăng ký khai sinh kết hợp đăng ký nhận cha, mẹ, con"
    assert draft.processing_time.working_days == 8
    assert draft.reviewed_on == dt.date(2026, 4, 15)
    assert any("Giấy chứng sinh" in d.name for d in draft.documents)
    assert any("hai người làm chứng" in d.name for d in draft.documents)
    assert [f.provincial for f in draft.fees] == ["dang_ky_khai_sinh_ket_hop_dang_ky"]
    assert any("18/2026/NĐ-CP" in b for b in draft.legal_basis)
    assert draft.verify[0].startswith("BẢN NHÁP")
    assert all(f.verify for f in draft.fees) and draft.processing_time.verify

    again = run("import-dvc", str(RECORDS / "1.000689.json"), "--out", str(tmp_path))
    assert Path(again.stdout.strip()).name == "dang-ky-khai-sinh-ket-hop-dang-ky.2.yaml"
    assert path.read_text(encoding="utf-8") == text  # an existing draft is never overwritten


def test_import_of_a_file_that_is_not_a_record_fails_politely(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"code": "OK", "data": []}', encoding="utf-8")
    out = run("import-dvc", str(bad), "--out", str(tmp_path / "out"))
    assert out.returncode == 1 and "không phải hồ sơ thủ tục" in out.stderr
    bad.write_text("{not json", encoding="utf-8")
    out = run("import-dvc", str(bad))
    assert out.returncode == 1 and "không đọc được tệp JSON" in out.stderr
    assert "Traceback" not in out.stderr


def test_drift_names_each_kind_of_difference(kdir):
    record = read_record(RECORDS / "1.001193.json")
    guide = _khai_sinh(kdir)
    time = guide.processing_time.model_copy(update={"working_days": 3.0})
    fee = guide.fees[0].model_copy(update={"amount": 5000})
    changed = guide.model_copy(
        update={
            "processing_time": time,
            "fees": [fee, *guide.fees[1:]],
            "documents": [
                Document(name="Giấy chứng sinh"),
                Document(name="Giấy xác nhận tình trạng hôn nhân do Cơ quan đại diện cấp"),
            ],
            "legal_basis": ["Luật Hộ tịch 2014 (Luật số 60/2014/QH13)"],
            "documents_basis": [],
            "reviewed_on": dt.date(2026, 1, 10),
        }
    )
    lines = compare(changed, record).lines
    text = "\n".join(lines)
    assert "Thời hạn: hướng dẫn ghi 3 ngày làm việc, hồ sơ quốc gia ghi 1 ngày làm việc." in lines
    assert "Phí, lệ phí: hướng dẫn ghi mức 5.000 đ mà hồ sơ quốc gia không có." in lines
    assert "hướng dẫn có 1 mục không thấy trong hồ sơ quốc gia: «Giấy xác nhận" in text
    assert "hồ sơ quốc gia có" in text and "mang thai hộ" in text  # papers the guide lacks
    assert "18/2026/NĐ-CP" in text and "60/2014" not in text
    assert (
        "Hồ sơ quốc gia cập nhật ngày 15/04/2026, sau lần rà soát hướng dẫn (10/01/2026)." in lines
    )

    # a guide saying what the record says: nothing to report on those points
    same = changed.model_copy(
        update={
            "processing_time": guide.processing_time.model_copy(update={"working_days": 1.0}),
            "fees": guide.fees,
            "legal_basis": sorted(record.legal_bases),
            "reviewed_on": dt.date(2026, 11, 27),
        }
    )
    text = "\n".join(compare(same, record).lines)
    assert "Thời hạn" not in text and "Phí" not in text
    assert "Căn cứ" not in text and "cập nhật ngày" not in text


def test_drift_command_reports_per_guide_and_skips_bad_files(kdir, tmp_path):
    records = tmp_path / "records"
    shutil.copytree(RECORDS, records)
    (records / "broken.json").write_text("{", encoding="utf-8")
    (records / "list.json").write_text(json.dumps([1, 2]), encoding="utf-8")
    out = run("drift", str(records), "--dir", str(kdir), "--date", "2026-12-01")
    assert out.returncode == 1, out.stderr  # differences found
    lines = out.stdout.splitlines()
    assert lines[0].startswith("khai-sinh (Đăng ký khai sinh) — mã 1.001193: ")
    assert any(line.startswith("  - Căn cứ pháp lý") for line in lines)
    assert any(line.startswith("Hồ sơ không có hướng dẫn nào cùng mã: 1.000689") for line in lines)
    assert "Bỏ qua broken.json: không đọc được tệp JSON" in out.stdout
    assert "Bỏ qua list.json: không phải hồ sơ thủ tục" in out.stdout
    assert lines[-1] == (
        "Tổng: 1 hướng dẫn có hồ sơ, 1 hướng dẫn có điểm khác; "
        "0 hướng dẫn không có hồ sơ trong thư mục."
    )


def test_drift_without_differences_exits_zero(kdir, tmp_path):
    guide = _khai_sinh(kdir)
    records = tmp_path / "records"
    records.mkdir()
    shutil.copy(RECORDS / "2.000635.json", records)
    report = drift_report([guide], records)
    assert report.changed == [] and [r.code for r in report.unmatched_records] == ["2.000635"]
    out = run("drift", str(records), "--dir", str(kdir), "--date", "2026-12-01")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 hướng dẫn không có hồ sơ trong thư mục" in out.stdout
    missing = run("drift", str(tmp_path / "nope"), "--dir", str(kdir))
    assert missing.returncode == 2 and "không phải thư mục" in missing.stderr


def test_guide_with_several_codes_is_compared_with_its_first(kdir):
    guide = _khai_sinh(kdir).model_copy(
        update={"code": "1.001193 / 2.000635", "reviewed_on": dt.date(2026, 5, 1)}
    )
    report = drift_report([guide], RECORDS)
    assert [d.record.code for d in report.drifts] == ["1.001193"]
    assert "2.000635" not in {r.code for r in report.unmatched_records}
    lines = report.drifts[0].lines
    assert not any("cập nhật ngày 15/04/2026" in line for line in lines)  # reviewed after it
    assert any(line.startswith("Hồ sơ quốc gia mã 2.000635 (") for line in lines)
