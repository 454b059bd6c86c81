"""`python -m bot bench` runs the real core and says what it measured."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.bench import QUESTIONS, main, next_text, question_pool


def test_the_texts_are_varied_and_never_from_the_gate_sets() -> None:
    pool = question_pool()
    assert len(pool) > 300 and QUESTIONS.name == "questions.tsv"
    gate = Path(QUESTIONS.parent / "gate_questions.tsv")
    gate_texts = {
        line.split("\t", 1)[1]
        for line in gate.read_text("utf-8").splitlines()
        if "\t" in line and not line.startswith("#")
    }
    assert not gate_texts & set(pool)
    rng = random.Random(1)
    texts = [next_text(rng, pool, n % 5) for n in range(500)]
    assert len(set(texts)) > 150  # not ten texts over and over


def test_a_small_run_prints_throughput_latency_and_cpu(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(citizens=2, messages=2, communes=3, db=str(tmp_path / "b.sqlite3")) == 0
    out = capsys.readouterr().out
    assert "messages      12" in out
    labels = ("throughput", "latency p50", "latency p99", "bot CPU", "matcher", "bench client")
    for label in (*labels, "rest of turn", "CPU in all", "peak RSS"):
        assert label in out
    assert "library builds 1 for 3 communes" in out
