"""The trained model's build: the same features as scikit-learn's vectoriser, and the same
weights whatever the number of training threads."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from knowledge.model import (
    SINGLE_BLOCK,
    ModelConfig,
    TrainedModel,
    _Part,
    _single,
    _word_char_grams,
    char_grams,
    word_grams,
)

SYLLABLES = tuple(
    [
        "dang",
        "ky",
        "khai",
        "sinh",
        "tu",
        "ket",
        "hon",
        "ho",
        "tich",
        "cap",
        "ban",
        "sao",
        "giay",
        "chung",
        "nhan",
        "dat",
        "nha",
        "o",
    ]
)


def _phrases(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    texts = [" ".join(rng.choices(SYLLABLES, k=rng.randint(1, 9))) for _ in range(count)]
    return [*texts, "a", "o o o", "x"]


@pytest.mark.parametrize(
    ("analyzer", "units", "grams"),
    [(char_grams, str.split, _word_char_grams), (word_grams, word_grams, _single)],
)
def test_features_are_scikit_learns_bit_for_bit(analyzer, units, grams) -> None:  # type: ignore[no-untyped-def]
    texts = _phrases(400)
    expected = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True)
    want = expected.fit_transform(texts)
    part = _Part(units, grams, 0, 1.0)
    got = part.fit_transform(texts)
    assert part.vocab == expected.vocabulary_
    assert np.array_equal(part.idf, expected.idf_)
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)


def _library(classes: int) -> tuple[list[str], list[str]]:
    rng = random.Random(5)
    texts: list[str] = []
    labels: list[str] = []
    for c in range(classes):
        words = [*rng.sample(SYLLABLES, 4), f"w{c}"]
        for _ in range(4):
            texts.append(" ".join(rng.sample(words, 3)))
            labels.append(f"g{c:03d}")
    return texts, labels


def test_threads_do_not_change_the_weights() -> None:
    texts, labels = _library(SINGLE_BLOCK + 40)  # several blocks
    one = TrainedModel(texts, labels, ModelConfig(workers=1))
    two = TrainedModel(texts, labels, ModelConfig(workers=2))
    for text in ("w7 dang ky", "khai sinh w150", "nha o dat", "unknown words"):
        assert np.array_equal(one.scores(text), two.scores(text))
    assert one.classes[int(np.argmax(one.scores("w42 w42")))] == "g042"


def test_helpers_exit_and_leave_no_files(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A province build's helper processes end with the build (nothing idles for minutes
    afterwards) and leave nothing in the temporary directory."""
    import multiprocessing
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    texts, labels = _library(SINGLE_BLOCK + 40)
    model = TrainedModel(texts, labels, ModelConfig(workers=2))
    assert model.worker_cpu > 0  # a helper did take part
    assert multiprocessing.active_children() == []
    assert list(tmp_path.iterdir()) == []


def test_example_weights_shift_a_vague_text_towards_the_weighted_class() -> None:
    """Balancing (and a class's weight) make a class with few examples count more on words it
    shares with a class that has many; unweighted, the big class takes the vague text."""
    texts = [f"tro cap a{i} thang" for i in range(30)] + ["tro cap b thang", "b thang", "tro b"]
    texts += [f"khac c{i}" for i in range(10)]
    labels = ["a"] * 30 + ["b"] * 3 + ["c"] * 10

    def lead(config: ModelConfig) -> float:
        scores = TrainedModel(texts, labels, config).scores("tro cap thang")
        return float(scores[0] - scores[1])  # class a over class b

    plain = lead(ModelConfig())
    assert lead(ModelConfig(balance=1.0)) < plain
    assert lead(ModelConfig(weights=(("b", 3.0),))) < plain


@pytest.mark.parametrize("all_dense", [True, False])
def test_scores_are_the_einsum_sums_bit_for_bit(all_dense, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The dense product read in place (scipy's CSR kernel) adds each class's terms in the
    query's order as einsum did: every decision of a library stays what it was."""
    import knowledge.model as model

    if not all_dense:
        monkeypatch.setattr(model, "ALL_DENSE", 0)  # a province library's dense/sparse split
    texts, labels = _library(60)
    built = TrainedModel(texts, labels, ModelConfig(workers=1))
    assert built._all_dense is all_dense
    queries = ["w7 dang ky", "khai sinh w50 khai", "nha o dat o", "unknown words", "ho tich"]
    fast = [built.scores(q) for q in queries]
    monkeypatch.setattr(model, "_csr_matvecs", None)
    for query, got in zip(queries, fast, strict=True):
        assert np.array_equal(got, built.scores(query))
