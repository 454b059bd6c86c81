"""The bench's per-kind and per-half figures: what a reader of `knowledge bench` sees."""

from pathlib import Path

from knowledge.evaluate import by_kind, evaluate, half, read_questions
from knowledge.results import Match, MatchResult


def _set(tmp_path: Path) -> Path:
    path = tmp_path / "set.tsv"
    path.write_text(
        "# label\tkind\tquestion\n"
        "khai-tu\trambling\tông em mất rồi, giờ làm giấy gì\n"
        "none\tnone\tgiá vàng hôm nay\n"
        "khai-tu\tdirect\tđăng ký khai tử\n"
        "handoff\thandoff\tcho gặp cán bộ\n",
        encoding="utf-8",
    )
    return path


def _always_khai_tu(text: str) -> MatchResult:
    return MatchResult(text, "guide", (Match("khai-tu", "Đăng ký khai tử", 0.9),))


def test_halves_are_alternate_questions_in_file_order(tmp_path: Path):
    items = read_questions(_set(tmp_path))
    assert [i.group for i in half(items, "A")] == ["rambling", "direct"]
    assert [i.group for i in half(items, "B")] == ["none", "handoff"]
    assert half(items, None) == items


def test_each_kind_gets_its_own_short_figure(tmp_path: Path):
    kinds = by_kind(read_questions(_set(tmp_path)))
    figures = {kind: evaluate(group, _always_khai_tu).brief() for kind, group in kinds.items()}
    assert figures == {
        "direct": "100%/100%",
        "handoff": "0/1",
        "none": "0/1 ans1",
        "rambling": "100%/100%",
    }
