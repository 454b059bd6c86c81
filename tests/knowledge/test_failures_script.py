"""scripts/failures.py: the item-by-item view of a tuning half, and its refusal to open a gate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "failures.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def test_gate_and_held_out_sets_are_refused_unread() -> None:
    for name in ("gate", "gate4", "dev3", "dev8", "everyday", "near_oos"):
        done = _run("questions", name)
        assert done.returncode == 2
        assert "only `knowledge bench` aggregates" in done.stdout
        assert "top-1" not in done.stdout


def test_check_halves_are_refused_unread() -> None:
    for what, name, part in (
        ("dialogues", "dev9", "B"),
        ("dialogues", "dev9", "-"),
        ("questions", "dev10", "B"),
        ("dialogues", "dev11", "B"),
        ("questions", "dev5", "B"),
    ):
        done = _run(what, name, part)
        assert done.returncode == 2
        assert "only `knowledge bench` aggregates" in done.stdout
        assert "WRONG" not in done.stdout and "top-1" not in done.stdout


def test_questions_of_a_tuning_half_print_the_aggregates_then_each_failure() -> None:
    done = _run("questions", "dev2", "A")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("top-1 answered direct")
    failures = [line for line in lines[7:] if not line.startswith("   ")]
    texts = [line for line in lines[7:] if line.startswith("   ")]
    assert failures and len(failures) == len(texts)
