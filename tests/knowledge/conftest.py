import datetime as dt
import shutil
from pathlib import Path

import pytest

from knowledge.loader import DEFAULT_DIR

# The day the library serves in these tests: a fixed one, so that no test changes when a
# bundled guide's successor takes over (the hộ tịch guides on 2027-03-01).
DAY = dt.date(2026, 12, 1)
EXAMPLE = DEFAULT_DIR / "guides" / "ho-tich" / "khai-sinh.yaml"


def standalone_guide_text() -> str:
    """The bundled birth-registration guide without links to other guides, serving on any day
    (the bundled one ends on 2027-02-28, when its successor file takes over)."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    out, skipping = [], False
    for line in lines:
        if line.startswith("effective_to:"):
            continue
        if line.startswith("related:"):
            skipping = True
            continue
        if skipping and line.startswith("  - "):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


def office_without_samples() -> str:
    """The bundled office settings as a commune would ship them: no key marked as a sample."""
    out, skipping = [], False
    for line in (DEFAULT_DIR / "office.yaml").read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("samples:"):
            skipping = True
            continue
        if skipping and line.startswith("  - "):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


@pytest.fixture
def kdir(tmp_path: Path) -> Path:
    """A small valid knowledge directory the test may break."""
    root = tmp_path / "knowledge"
    (root / "guides").mkdir(parents=True)
    shutil.copy(DEFAULT_DIR / "lexicon.yaml", root / "lexicon.yaml")
    (root / "office.yaml").write_text(office_without_samples(), encoding="utf-8")
    # the bundled menu order names all 28 guides; this small library has one
    fields = (DEFAULT_DIR / "fields.yaml").read_text(encoding="utf-8")
    kept = [
        line for line in fields.splitlines(keepends=True) if not line.strip().startswith("guides:")
    ]
    (root / "fields.yaml").write_text("".join(kept), encoding="utf-8")
    (root / "guides" / "khai-sinh.yaml").write_text(standalone_guide_text(), encoding="utf-8")
    return root
