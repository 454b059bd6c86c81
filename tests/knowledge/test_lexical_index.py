"""The lexical index's fast paths give the scores of its plain definition: scoring some
documents through the (feature, document) runs equals scoring every document and picking."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.lexical import RECENT_TEXTS, LexicalIndex
from knowledge.loader import DEFAULT_DIR, load_knowledge

QUERIES = [
    "đăng ký khai sinh cho con cần giấy tờ gì",
    "dang ky ket hon o dau",
    "cho tôi gặp cán bộ",
    "giá vàng hôm nay",
    "xin cấp bản sao trích lục khai tử mất bao lâu, lệ phí bao nhiêu ạ",
    "Mẹ em mất năm ngoái, để lại căn nhà đứng tên mẹ. Nhà có 4 anh chị em, giờ muốn làm "
    "văn bản thỏa thuận phân chia di sản thì ra đâu ký, người ở nước ngoài có phải về không",
    "ket honn o dau",  # a typo the index corrects
    "zzz qqq",  # nothing known
]


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    kb = load_knowledge(DEFAULT_DIR).knowledge
    assert kb is not None
    return LexicalIndex(kb.guides, kb.lexicon)


@pytest.mark.parametrize("text", QUERIES)
def test_scoring_some_documents_equals_scoring_all(index: LexicalIndex, text: str) -> None:
    words, corrected = index.query_tokens(text)
    every = index.doc_scores(words, corrected)
    rng = np.random.default_rng(len(text))
    n_docs = len(index.doc_ids())
    for size in (1, 5, n_docs // 2, n_docs):
        docs = rng.choice(n_docs, size=size, replace=False)
        some = index.doc_scores_of(words, corrected, docs)
        assert np.allclose(some, every[docs], rtol=0, atol=1e-12)
    repeated = np.array([3, 1, 3, 0, 1])  # a document asked twice gets its score twice
    assert np.allclose(
        index.doc_scores_of(words, corrected, repeated), every[repeated], rtol=0, atol=1e-12
    )
    assert index.doc_scores_of(words, corrected, np.zeros(0, dtype=np.int64)).shape == (0,)


def test_recent_tokens_are_copies_and_few(index: LexicalIndex) -> None:
    words, corrected = index.query_tokens("ket honn o dau")
    assert corrected  # the typo was corrected
    words.clear()
    corrected.clear()
    again, fixed = index.query_tokens("ket honn o dau")
    assert again and fixed  # the caller's changes did not reach the index
    for number in range(RECENT_TEXTS * 3):
        index.normalise(f"hỏi số {number}")
    assert len(index._recent) <= RECENT_TEXTS
