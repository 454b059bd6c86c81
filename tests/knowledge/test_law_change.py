"""Dated versions for a law change: successors inherit phrasings, and validate warns in time."""

import datetime as dt
import json
import re
import shutil
from pathlib import Path

from knowledge.loader import DEFAULT_DIR, load_knowledge

LEGAL_TEXTS = """\
texts:
  - id: luat-ho-tich-2014
    name: Luật Hộ tịch 2014
    patterns: ["Luật Hộ tịch 2014", "60/2014/QH13"]
    in_force_to: 2027-02-28
    replaced_by: luat-ho-tich-2026
  - id: luat-ho-tich-2026
    name: Luật Hộ tịch 2026
    patterns: ["03/2026/QH16"]
    in_force_from: 2027-03-01
"""

SUCCESSOR = """\
id: khai-sinh
inherits: [aliases, examples, documents, steps, related]
title: Đăng ký khai sinh
field: ho-tich
agency: UBND xã/phường
summary: Từ 01/03/2027 đăng ký khai sinh tại UBND xã/phường nào cũng được.
who: Cha hoặc mẹ của trẻ.
documents_basis: [Luật Hộ tịch 2026 (Luật số 03/2026/QH16)]
fees:
  - name: Lệ phí đăng ký khai sinh đúng hạn
    amount: 0
    legal_basis: [Luật Hộ tịch 2026 (Luật số 03/2026/QH16)]
processing_time:
  text: Hỏi cán bộ khi nộp.
  legal_basis: [Luật Hộ tịch 2026 (Luật số 03/2026/QH16)]
where:
  desk: UBND xã/phường bất kỳ
legal_basis: [Luật Hộ tịch 2026 (Luật số 03/2026/QH16)]
effective_from: 2027-03-01
reviewed_on: 2026-12-01
"""


def _warnings(root: Path) -> list[str]:
    result = load_knowledge(root)
    assert not result.errors, [p.render() for p in result.errors]
    return [p.render(root) for p in result.problems if p.severity == "warning"]


def _end_current(kdir: Path) -> Path:
    path = kdir / "guides" / "khai-sinh.yaml"
    text = re.sub(r"^effective_to: .*\n", "", path.read_text(encoding="utf-8"), flags=re.M)
    text = text.replace(
        "effective_from: 2025-07-01", "effective_from: 2025-07-01\neffective_to: 2027-02-28"
    )
    path.write_text(text, encoding="utf-8")
    return path


def _serving_forever(kdir: Path) -> None:
    path = kdir / "guides" / "khai-sinh.yaml"
    text = re.sub(r"^effective_to: .*\n", "", path.read_text(encoding="utf-8"), flags=re.M)
    path.write_text(text, encoding="utf-8")


def test_guide_citing_a_repealed_law_and_serving_after_it_is_warned(kdir):
    (kdir / "legal_texts.yaml").write_text(LEGAL_TEXTS, encoding="utf-8")
    _serving_forever(kdir)
    warnings = _warnings(kdir)
    assert len(warnings) == 1
    assert warnings[0].startswith("guides/khai-sinh.yaml:")
    assert "Luật Hộ tịch 2014" in warnings[0] and "effective_to: 2027-02-28" in warnings[0]
    assert "khai-sinh.2027-03-01.yaml" in warnings[0] and "Luật Hộ tịch 2026" in warnings[0]


def test_ending_without_a_successor_is_warned_and_a_successor_silences_it(kdir):
    (kdir / "legal_texts.yaml").write_text(LEGAL_TEXTS, encoding="utf-8")
    _end_current(kdir)
    warnings = _warnings(kdir)
    assert len(warnings) == 1 and "chưa có phiên bản mới" in warnings[0]

    (kdir / "guides" / "khai-sinh.2027-03-01.yaml").write_text(SUCCESSOR, encoding="utf-8")
    assert _warnings(kdir) == []


def test_successor_inherits_phrasings_so_matching_does_not_change(kdir):
    (kdir / "legal_texts.yaml").write_text(LEGAL_TEXTS, encoding="utf-8")
    _end_current(kdir)
    (kdir / "guides" / "khai-sinh.2027-03-01.yaml").write_text(
        SUCCESSOR + "examples:\n  - khai sinh ở xã khác được không\n", encoding="utf-8"
    )
    kb = load_knowledge(kdir).knowledge
    assert kb is not None
    old, new = kb.active(dt.date(2027, 2, 28))[0], kb.active(dt.date(2027, 3, 2))[0]
    assert new.effective_from == dt.date(2027, 3, 1)
    assert new.aliases == old.aliases
    assert new.examples == [*old.examples, "khai sinh ở xã khác được không"]
    assert new.documents == old.documents and new.steps == old.steps
    assert new.summary != old.summary


def test_successor_still_citing_the_repealed_law_is_warned(kdir):
    (kdir / "legal_texts.yaml").write_text(LEGAL_TEXTS, encoding="utf-8")
    _end_current(kdir)
    text = SUCCESSOR.replace(
        "legal_basis: [Luật Hộ tịch 2026 (Luật số 03/2026/QH16)]\neffective_from",
        "legal_basis: [Luật Hộ tịch 2014, Điều 16]\neffective_from",
    )
    (kdir / "guides" / "khai-sinh.2027-03-01.yaml").write_text(text, encoding="utf-8")
    warnings = _warnings(kdir)
    assert len(warnings) == 1
    assert warnings[0].startswith("guides/khai-sinh.2027-03-01.yaml:")
    assert "vẫn dẫn văn bản đó" in warnings[0]


def test_dated_fee_line_ending_in_time_is_not_warned(kdir):
    (kdir / "legal_texts.yaml").write_text(
        LEGAL_TEXTS
        + "  - id: tt-64-2025\n    name: Thông tư 64/2025/TT-BTC\n"
        + '    patterns: ["64/2025/TT-BTC"]\n    in_force_to: 2026-12-31\n',
        encoding="utf-8",
    )
    _end_current(kdir)
    (kdir / "guides" / "khai-sinh.2027-03-01.yaml").write_text(SUCCESSOR, encoding="utf-8")
    path = kdir / "guides" / "khai-sinh.yaml"
    text = path.read_text(encoding="utf-8")
    dated = text.replace(
        "      - Luật Hộ tịch 2014, Điều 11 khoản 1\n",
        "      - Luật Hộ tịch 2014, Điều 11 khoản 1\n      - Thông tư 64/2025/TT-BTC\n"
        "    valid_to: 2026-12-31\n",
        1,
    )
    path.write_text(dated, encoding="utf-8")
    assert _warnings(kdir) == []
    path.write_text(dated.replace("    valid_to: 2026-12-31\n", ""), encoding="utf-8")
    warnings = _warnings(kdir)
    assert len(warnings) == 1 and "Thông tư 64/2025/TT-BTC" in warnings[0]


def test_inherits_mistakes_are_errors_with_lines(kdir):
    _end_current(kdir)
    path = kdir / "guides" / "khai-sinh.2027-03-01.yaml"
    for wrong, expected in (
        ("inherits: [aliases, reviewed_on]", "không kế thừa được mục reviewed_on"),
        ("inherits: [aliasez]", "không kế thừa được mục aliasez"),
        ("inherits: aliases", "phải là danh sách tên mục, ví dụ [aliases, examples]"),
    ):
        path.write_text(
            SUCCESSOR.replace("inherits: [aliases, examples, documents, steps, related]", wrong),
            encoding="utf-8",
        )
        errors = [p.render(kdir) for p in load_knowledge(kdir).errors]
        assert f"guides/khai-sinh.2027-03-01.yaml:2: mục 'inherits': {expected}" in errors


def test_inherits_without_an_earlier_version_is_an_error(kdir):
    path = kdir / "guides" / "khai-sinh.2027-03-01.yaml"
    (kdir / "guides" / "khai-sinh.yaml").unlink()
    path.write_text(SUCCESSOR, encoding="utf-8")
    errors = [p.message for p in load_knowledge(kdir).errors]
    assert any("không có phiên bản trước của 'khai-sinh'" in m for m in errors)


def test_file_named_against_the_layout_is_warned(kdir):
    _end_current(kdir)
    (kdir / "guides" / "khai-sinh-moi.yaml").write_text(SUCCESSOR, encoding="utf-8")
    warnings = _warnings(kdir)
    assert any(
        w.startswith("guides/khai-sinh-moi.yaml:1:") and "khai-sinh.2027-03-01.yaml" in w
        for w in warnings
    )


def test_copy_of_bundled_dir_validates(tmp_path):
    root = tmp_path / "k"
    shutil.copytree(DEFAULT_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    assert load_knowledge(root).ok


def test_bundled_guides_have_successors_for_the_law_change():
    """No bundled guide serves after 2027-02-28 citing a text that ends that day."""
    result = load_knowledge(DEFAULT_DIR)
    assert result.knowledge is not None and not result.errors
    texts = result.knowledge.legal_texts
    assert texts.by_id("luat-ho-tich-2014") is not None
    ended = [
        p.render(DEFAULT_DIR)
        for p in result.problems
        if p.severity == "warning" and "hết hiệu lực" in p.message
    ]
    assert ended == []


SUCCESSOR_IDS = {
    "khai-sinh",
    "khai-tu",
    "ket-hon",
    "dang-ky-lai-khai-sinh",
    "giam-ho",
    "khai-sinh-lien-thong",
    "nhan-cha-me-con",
    "thay-doi-cai-chinh-ho-tich",
    "trich-luc-ho-tich",
    "xac-nhan-tinh-trang-hon-nhan",
    "chung-thuc-ban-sao",
    "chung-thuc-chu-ky",
    "chung-thuc-hop-dong",
    "ho-ngheo",
}


def _export(day: str) -> dict[str, dict[str, object]]:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "knowledge", "export", "--json", "--date", day],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {item["id"]: item for item in json.loads(out.stdout)}


def test_export_on_a_date_serves_the_successors_with_the_same_phrasings():
    before, after = _export("2027-02-28"), _export("2027-03-02")
    assert set(before) == set(after)
    for gid in SUCCESSOR_IDS:
        assert before[gid]["effective_to"] == "2027-02-28", gid
        assert after[gid]["effective_from"] == "2027-03-01", gid
        # the same phrasings, plus the one question about the change itself
        added = [p for p in after[gid]["match_phrases"] if p not in before[gid]["match_phrases"]]
        assert set(before[gid]["match_phrases"]) <= set(after[gid]["match_phrases"]), gid
        assert all("01/03/2027" in p for p in added) and len(added) <= 1, (gid, added)
    for gid in SUCCESSOR_IDS - {"ho-ngheo", *(g for g in after if g.startswith("chung-thuc"))}:
        guide = after[gid]
        cited = json.dumps(guide, ensure_ascii=False)
        assert "Luật Hộ tịch 2014" not in json.dumps(guide["legal_basis"], ensure_ascii=False)
        assert "Luật Hộ tịch 2026" in cited and "hỏi cán bộ" in guide["summary"], gid
        assert "không còn phụ thuộc nơi cư trú" in guide["faq"][0]["a"], gid
    for gid in ("chung-thuc-ban-sao", "chung-thuc-chu-ky", "chung-thuc-hop-dong"):
        assert not any("120/2025" in b for b in after[gid]["legal_basis"]), gid
        assert after[gid]["fees"] == before[gid]["fees"], gid


def test_question_added_after_the_switch_keeps_the_inherited_phrasings(kdir):
    from knowledge.editing import add_example
    from knowledge.library import VN_TZ

    _end_current(kdir)
    (kdir / "guides" / "khai-sinh.2027-03-01.yaml").write_text(SUCCESSOR, encoding="utf-8")
    now = dt.datetime(2027, 3, 5, 9, 0, tzinfo=VN_TZ)
    result = add_example(kdir, "khai-sinh", "khai sinh cho con ở xã khác", "Biên tập", now)
    assert result.ok and "khai-sinh.2027-03-01.yaml" in result.message
    kb = load_knowledge(kdir).knowledge
    assert kb is not None
    old, new = kb.active(dt.date(2027, 2, 28))[0], kb.active(dt.date(2027, 3, 5))[0]
    assert new.examples == [*old.examples, "khai sinh cho con ở xã khác"]
