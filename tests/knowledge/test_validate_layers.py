"""`python -m knowledge validate` in a province: a change to the province library is checked
with every commune's layer, and an error it causes in a commune's own file names the commune,
the file and the line; a commune without a layer serves the province as it is."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from knowledge.cli import main
from knowledge.loader import ReadCache, load_knowledge
from tests.app.test_province_library import commune_overrides
from tests.web.editor_app import copy_knowledge


def province_with_commune(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(province library, the commune's layer, communes file). The commune's own khai-sinh
    guide relates to the provincial guide 'tach-thua-dat' (no province guide does)."""
    root = copy_knowledge(tmp_path)
    own = commune_overrides(tmp_path / "an-khanh")
    guide = own / "guides" / "khai-sinh.yaml"
    text = guide.read_text(encoding="utf-8")
    guide.write_text(text.replace("related:\n", "related:\n  - tach-thua-dat\n", 1), "utf-8")
    communes = tmp_path / "communes.yaml"
    communes.write_text(
        f"province_knowledge: {root}\n"
        "communes:\n  - {id: an-khanh, name: An Khánh, knowledge: an-khanh}\n"
        "  - {id: binh-minh, name: Bình Minh}\n",
        encoding="utf-8",
    )
    return root, own, communes


def test_a_province_change_that_breaks_a_communes_guide_names_the_commune_and_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, own, communes = province_with_commune(tmp_path)
    assert main(["validate", "--communes", str(communes)]) == 0
    capsys.readouterr()
    renamed = root / "guides" / "dat-dai" / "tach-thua-dat.yaml"
    renamed.write_text(
        renamed.read_text(encoding="utf-8").replace("id: tach-thua-dat\n", "id: tach-thua\n"),
        encoding="utf-8",
    )
    assert load_knowledge(root).errors == []  # the province alone is still valid
    assert main(["validate", "--communes", str(communes)]) == 1
    out, err = capsys.readouterr()
    lines = [x for x in out.splitlines() if "'related[0]': không có hướng dẫn nào" in x]
    assert lines and all("[an-khanh]" in x for x in lines), out
    assert any(x.startswith(f"{own / 'guides' / 'khai-sinh.yaml'}:") for x in lines), out
    assert "OK binh-minh:" in err and "OK an-khanh" not in err


def test_the_province_files_are_parsed_once_for_every_commune(tmp_path: Path) -> None:
    """What validating an edit with 20 communes' layers costs (CPU seconds, printed); the
    cache gives every load its own copy, so loads do not change one another."""
    root, own, _ = province_with_commune(tmp_path)
    layers = [own] + [commune_overrides(tmp_path / f"xa-{n}") for n in range(19)]
    started = time.process_time()
    plain = [load_knowledge(root, layer, layer.name) for layer in layers]
    uncached = time.process_time() - started
    cache = ReadCache()
    started = time.process_time()
    cached = [load_knowledge(root, layer, layer.name, cache) for layer in layers]
    with_cache = time.process_time() - started
    print(f"20 commune layers: {uncached:.2f} s CPU without the cache, {with_cache:.2f} s with")
    for a, b in zip(plain, cached, strict=True):
        assert a.problems == b.problems
        assert a.knowledge is not None and b.knowledge is not None
        assert [s.guide for s in a.knowledge.sources] == [s.guide for s in b.knowledge.sources]
