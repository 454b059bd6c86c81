"""The trained part of the matcher: TF-IDF n-grams and linear SVMs, one per class.

Features are those of the usual strong baseline for short texts (character 2–5-grams within
words and word 1–2-grams, TF-IDF with sublinear counts, each part L2-normalised), computed on
text the normaliser and lexicon have already rewritten. Classes are guide ids and the special
classes (handoff, out of scope, chitchat, pointers).

One multi-class LinearSVC needs a dense weight row per class and trains every class against
every phrase: fine for 30 guides, minutes and gigabytes for 2,000. So classes are trained in
blocks: each block holds a few dozen classes together with their nearest neighbours (by
centroid similarity) and a random sample of all other phrases as a "rest" class; a class keeps
the weights from the block where it is "home". With fewer classes than a block, this is exactly
one-vs-rest over everything. Weights are kept sparse (a class only has weights on the features
of its block), so scoring is one sparse product whatever the library size.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import multiprocessing as mp
import queue
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

try:  # scipy's compiled sparse x dense kernel: reads the query's rows in place, no gather
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - a scipy without it: the same sums by einsum
    _csr_matvecs = None


@lru_cache(maxsize=200_000)
def _word_char_grams(word: str) -> tuple[str, ...]:
    padded = f" {word} "
    size = len(padded)
    grams: list[str] = []
    for n in range(2, 6):
        if size <= n:
            grams.append(padded)
            break
        grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return tuple(grams)


def char_grams(text: str) -> list[str]:
    """Character 2–5-grams inside space-padded words (scikit-learn's `char_wb`); per word,
    cached: citizens and guides reuse a few thousand syllables."""
    grams: list[str] = []
    for word in text.split():
        grams.extend(_word_char_grams(word))
    return grams


def word_grams(text: str) -> list[str]:
    words = text.split()
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def _single(unit: str) -> tuple[str]:
    return (unit,)


def positions(
    indptr: np.ndarray, rows: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(row lengths, positions in the data arrays) of some rows of a CSR (or columns of a CSC)
    matrix given by its `indptr`. Plain numpy: scipy's fancy indexing validates and builds a
    new matrix per call, which was the largest cost of a query at 2,000 guides."""
    picked = np.asarray(rows, dtype=np.int64)
    starts = indptr[picked]
    lengths = indptr[picked + 1] - starts
    total = int(lengths.sum())
    if not total:
        return lengths, np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return lengths, shift + np.arange(total)


def gather(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, rows: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row lengths, column indices, values) of some rows, as `positions`."""
    lengths, where = positions(indptr, rows)
    return lengths, indices[where], data[where]


def _block_matrix(
    x: sp.csr_matrix, index: np.ndarray, used: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray]:
    """`x[index][:, columns]` and `columns` (the features those rows use), by plain numpy:
    scipy's fancy indexing of a 33,000 x 100,000 matrix cost 3-4 s per build at 2,000
    guides. `used` is an all-False scratch row of `x.shape[1]`, left all-False."""
    lengths, where = positions(x.indptr, index)
    features = x.indices[where]
    used[features] = True
    columns = np.flatnonzero(used)
    used[columns] = False
    remap = np.zeros(x.shape[1], dtype=np.int32)
    remap[columns] = np.arange(len(columns), dtype=np.int32)
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    sub = sp.csr_matrix((x.data[where], remap[features], indptr), shape=(len(index), len(columns)))
    sub.has_sorted_indices = x.has_sorted_indices  # `remap` keeps the order of each row
    return sub, columns


def _similarities(rows: sp.csr_matrix) -> np.ndarray:
    """`rows @ rows.T` as a dense array. The features most rows have (short char n-grams)
    go through one dense product: as sparse products they cost ~3.5 s at 2,000 guides,
    against ~0.5 s split this way."""
    by_column = rows.tocsc()
    used = np.diff(by_column.indptr)
    common = used * 32 > rows.shape[0]
    dense = by_column[:, np.flatnonzero(common)].toarray()
    rare = by_column[:, np.flatnonzero(~common)].tocsr()
    product: np.ndarray = dense @ dense.T + (rare @ rare.T).toarray()
    return product


@dataclass(frozen=True)
class ModelConfig:
    c: float = 1.0
    word_weight: float = 1.0
    block_home: int = 10
    block_neighbours: int = 12
    rest_sample: int = 250
    max_iter: int = 300
    tol: float = 1e-4
    # A province library trains a few hundred small blocks: at 1e-3 their solver stops
    # after ~56 instead of ~77 passes, with the same accuracy on every development set.
    block_tol: float = 1e-3
    # ... and they need not converge: at 20 passes (of ~56 to 1e-3) the weights decide the
    # development sets' questions as before but for one (measured: session 6); a third less CPU.
    block_max_iter: int = 20
    min_weight: float = 1e-6
    seed: int = 7
    # Example weights: a class's phrases count (median class size / its size) ** balance each
    # (0: every phrase counts once, so a guide with three times the examples pulls vague
    # messages three times as hard), times the multiplier `weights` gives its label.
    balance: float = 0.0
    weights: tuple[tuple[str, float], ...] = ()
    # Whether the weights scale a class's phrases only as positives of its own problem
    # (liblinear's class weights) or everywhere, as negatives of the other classes too.
    weights_everywhere: bool = True
    # Classes whose label starts with this keep weight 1 under `balance` (the special classes:
    # out of scope must not lose weight for having many examples); "" balances every class.
    balance_exempt: str = "__"
    # Processes solving a province library's blocks (the build runs off the request path).
    workers: int = 2


DENSE_SHARE = 8  # a feature with weights in more than 1/8 of the classes is stored dense
ALL_DENSE = 4_000_000  # up to this many weights (16 MB), every feature is stored dense
SINGLE_BLOCK = 120  # up to this many classes, one exact one-vs-rest over everything


class _Part:
    """One TF-IDF feature family (scikit-learn's TfidfVectorizer with sublinear counts, same
    vocabulary order and values) with a fast single-text transform (no per-call validation).

    A text is a sequence of units (words, or words and word pairs) and a unit's grams depend
    on the unit alone, so the counts are (texts x units) @ (units x grams): each distinct unit
    is analysed once instead of every gram of every phrase being counted in Python, which
    was a third of a province library's build."""

    def __init__(
        self,
        units: Callable[[str], list[str]],
        grams: Callable[[str], Sequence[str]],
        offset: int,
        weight: float,
    ) -> None:
        self.units = units
        self.grams = grams
        self.offset = offset
        self.weight = weight
        self.vocab: dict[str, int] = {}
        self.idf = np.zeros(0)
        # word -> its char-gram feature ids: the vocabulary lookups of a word are done once
        self._word_ids: dict[str, tuple[int, ...]] = {}

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        unit_ids: dict[str, int] = {}
        doc_units: list[int] = []
        indptr = [0]
        for text in texts:
            doc_units.extend(unit_ids.setdefault(u, len(unit_ids)) for u in self.units(text))
            indptr.append(len(doc_units))
        unit_grams = [self.grams(u) for u in unit_ids]
        # Terms are numbered by first appearance while counting (as scikit-learn does), then
        # renumbered in sorted order at the end without re-sorting the rows: the values and
        # their order are then scikit-learn's exactly, down to the last bit of each norm.
        first: dict[str, int] = {}
        per_unit = [first.setdefault(g, len(first)) for grams in unit_grams for g in grams]
        grams_of = sp.csr_matrix(
            (
                np.ones(len(per_unit)),
                np.array(per_unit, dtype=np.int64),
                np.concatenate(([0], np.cumsum([len(g) for g in unit_grams]))).astype(np.int64),
            ),
            shape=(len(unit_grams), len(first)),
        )
        units_of = sp.csr_matrix(
            (np.ones(len(doc_units)), np.array(doc_units, dtype=np.int64), np.array(indptr)),
            shape=(len(texts), len(unit_grams)),
        )
        counts = sp.csr_matrix(units_of @ grams_of)
        counts.sum_duplicates()
        counts.sort_indices()
        n_docs = counts.shape[0] + 1  # smoothed as scikit-learn: one document with every term
        df = np.bincount(counts.indices, minlength=len(first)).astype(np.float64) + 1.0
        idf = np.full_like(df, fill_value=n_docs)
        idf /= df
        np.log(idf, out=idf)
        idf += 1.0
        np.log(counts.data, out=counts.data)
        counts.data += 1.0
        counts.data *= idf[counts.indices]
        matrix = normalize(counts, norm="l2", copy=False)
        terms = sorted(first)
        self.vocab = {t: i for i, t in enumerate(terms)}
        order = np.array([first[t] for t in terms], dtype=np.int64)
        renumber = np.empty(len(terms), dtype=np.int64)
        renumber[order] = np.arange(len(terms))
        matrix.indices = renumber[matrix.indices].astype(matrix.indices.dtype)
        matrix.has_sorted_indices = False
        self.idf = idf[order]
        return sp.csr_matrix(matrix * self.weight)

    def char_ids(self, word: str) -> tuple[int, ...]:
        known = self._word_ids.get(word)
        if known is None:
            vocab = self.vocab
            known = tuple(vocab[g] for g in _word_char_grams(word) if g in vocab)
            if len(self._word_ids) < WORD_CACHE:
                self._word_ids[word] = known
        return known

    @property
    def size(self) -> int:
        return len(self.vocab)


# A problem's weights: per row (scales a phrase as positive and as negative) and per class
# (scales a class's phrases as positives of its own problem only); None for none.
Weights = tuple[np.ndarray | None, dict[int, float] | None]
Problem = tuple[list[int], np.ndarray, np.ndarray, Weights]  # home classes, rows, labels


class _Solved(NamedTuple):
    """The kept weights (class, feature, value) and biases of one block's home classes."""

    home: list[int]
    rows: np.ndarray
    columns: np.ndarray
    values: np.ndarray
    intercepts: np.ndarray
    cpu: float  # seconds of CPU the solve took (in whichever process ran it)


def _solve(
    x: sp.csr_matrix,
    home: list[int],
    index: np.ndarray,
    labels: np.ndarray,
    weights: Weights,
    cfg: ModelConfig,
) -> _Solved:
    """One block's LinearSVC (rows `index` of `x`, restricted to the features they use)."""
    cpu = time.process_time()
    used = np.zeros(x.shape[1], dtype=bool)
    sub, columns = _block_matrix(x, index, used)
    sample_weight, class_weight = weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svm = LinearSVC(
            C=cfg.c,
            dual=True,
            max_iter=cfg.max_iter,
            tol=cfg.tol,
            random_state=cfg.seed,
            class_weight=class_weight,
        )
        svm.fit(sub, labels, sample_weight=sample_weight)
    known = list(svm.classes_)
    coef = svm.coef_ if len(known) > 2 else np.vstack([-svm.coef_[0], svm.coef_[0]])
    intercept = (
        svm.intercept_ if len(known) > 2 else np.array([-svm.intercept_[0], svm.intercept_[0]])
    )
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    biases = np.zeros(len(home))
    for i, c in enumerate(home):
        row = known.index(c)
        dense = coef[row]
        keep = np.flatnonzero(np.abs(dense) > cfg.min_weight)
        rows.append(np.full(len(keep), c))
        cols.append(columns[keep])
        vals.append(dense[keep])
        biases[i] = intercept[row]
    return _Solved(
        home,
        np.concatenate(rows),
        np.concatenate(cols),
        np.concatenate(vals),
        biases,
        time.process_time() - cpu,
    )


def _take(counter: Any, count: int) -> int:
    """The next unclaimed problem (shared by this process and the helper), or `count`."""
    with counter.get_lock():
        index = int(counter.value)
        counter.value = min(index + 1, count)
    return index


def _helper(inbox: Any, counter: Any, results: Any) -> None:
    """A helper process: solves unclaimed problems until none is left, then reports its CPU
    (imports included). The building process solves whatever a failed helper did not send."""
    try:
        x: sp.csr_matrix
        problems: list[Problem]
        cfg: ModelConfig
        x, problems, cfg = inbox.get()
        while (index := _take(counter, len(problems))) < len(problems):
            results.put((index, _solve(x, *problems[index], cfg)))
    finally:
        results.put((-1, time.process_time()))


class _Pool:
    """The helper processes of one build. Started before the features are computed, so their
    imports overlap that work; `solve` ends them (nothing idles after a build, and they use
    pipes and shared memory only: no temporary files). Spawned, not forked: the building
    process may have threads."""

    def __init__(self, helpers: int) -> None:
        ctx = mp.get_context("spawn")
        self._counter = ctx.Value("q", 0)
        self._inbox, self._results = ctx.Queue(), ctx.Queue()
        self._procs = [
            ctx.Process(target=_helper, args=(self._inbox, self._counter, self._results))
            for _ in range(helpers)
        ]
        self._given = False
        for proc in self._procs:
            proc.daemon = True
            proc.start()

    def solve(
        self,
        x: sp.csr_matrix,
        problems: list[Problem],
        cfg: ModelConfig,
        meanwhile: Callable[[], object],
    ) -> tuple[list[_Solved], float]:
        """Every problem solved, in order, and the CPU seconds the helpers spent. This process
        and the helpers take the next unclaimed problem until none is left (after this process
        has run `meanwhile`), so none waits while another has a queue. Each solve seeds its
        solver: the weights do not depend on who solved what."""
        for _ in self._procs:
            # a background thread sends the matrix while this process goes on
            self._inbox.put((x, problems, cfg))
        self._given = True
        solved: dict[int, _Solved] = {}
        helper_cpu, running = 0.0, len(self._procs)
        try:
            meanwhile()
            while (index := _take(self._counter, len(problems))) < len(problems):
                solved[index] = _solve(x, *problems[index], cfg)
            while running:
                try:
                    index, part = self._results.get(timeout=1.0)
                except queue.Empty:
                    if sum(proc.is_alive() for proc in self._procs) >= running:
                        continue
                    break  # a helper died without reporting: what it claimed is solved below
                if index < 0:
                    helper_cpu += part
                    running -= 1
                else:
                    solved[index] = part
        finally:
            self.close()
        for index in range(len(problems)):
            if index not in solved:
                solved[index] = _solve(x, *problems[index], cfg)
        return [solved[i] for i in range(len(problems))], helper_cpu

    def close(self) -> None:
        """End the helpers (at once if they were never given work)."""
        with self._counter.get_lock():
            self._counter.value = 1 << 62  # nothing left to claim
        for proc in self._procs:
            proc.join(timeout=5.0 if self._given else 0.0)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._inbox.cancel_join_thread()  # a helper that died unread must not block us
        self._inbox.close()
        self._results.close()


def _solve_here(
    x: sp.csr_matrix, problems: list[Problem], cfg: ModelConfig, meanwhile: Callable[[], object]
) -> tuple[list[_Solved], float]:
    meanwhile()
    return [_solve(x, *problem, cfg) for problem in problems], 0.0


WORD_CACHE = 200_000  # distinct words whose char-gram ids a model keeps
_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0))


class TrainedModel:
    """Immutable after `__init__` (but for a bounded cache of per-word feature ids); `scores`
    is safe to call from concurrent conversations."""

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        config: ModelConfig | None = None,
        meanwhile: Callable[[], object] = lambda: None,
    ) -> None:
        """`meanwhile` is other work of the build, run while helper processes solve blocks."""
        cfg = self.config = config or ModelConfig()
        self.classes: list[str] = sorted(set(labels))
        self.index = {c: i for i, c in enumerate(self.classes)}
        helpers = min(cfg.workers, len(self.classes) // cfg.block_home) - 1
        pool = _Pool(helpers) if len(self.classes) > SINGLE_BLOCK and helpers > 0 else None
        try:
            self._fit(texts, labels, pool, meanwhile)
        finally:
            if pool is not None:
                pool.close()

    def _fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        pool: _Pool | None,
        meanwhile: Callable[[], object],
    ) -> None:
        cfg = self.config
        self._chars = _Part(str.split, _word_char_grams, 0, 1.0)
        x_chars = self._chars.fit_transform(texts)
        self._words = _Part(word_grams, _single, self._chars.size, cfg.word_weight)
        x_words = self._words.fit_transform(texts)
        x = sp.hstack([x_chars, x_words], format="csr")
        x.sort_indices()  # (a no-op for TF-IDF output) block rows keep this order
        self.n_features = x.shape[1]
        self._idf = np.concatenate((self._chars.idf, self._words.idf))
        y = np.array([self.index[label] for label in labels])
        weights, bias = self._train(x, y, pool.solve if pool else _solve_here, meanwhile)
        self._split_weights(weights.T.tocsr())
        self._bias: np.ndarray = bias

    def _split_weights(self, by_feature: sp.csr_matrix) -> None:
        """Features x classes, in two parts: the common features (short n-grams, with a weight
        in most classes) as a small dense matrix read by one numpy product, the rest sparse."""
        n_features, n_classes = by_feature.shape
        lengths = np.diff(by_feature.indptr)
        self._all_dense = n_features * n_classes <= ALL_DENSE
        if self._all_dense:
            dense = np.arange(n_features)
        else:
            dense = np.flatnonzero(lengths * DENSE_SHARE > n_classes)
        self._dense_row = np.full(n_features, -1, dtype=np.int64)
        self._dense_row[dense] = np.arange(len(dense))
        self._dense: np.ndarray = by_feature[dense].toarray().astype(np.float32)
        self._dense_flat = self._dense.reshape(-1)  # (a view) the CSR kernel's dense operand
        sparse = by_feature.copy()
        sparse.data[np.repeat(self._dense_row >= 0, lengths)] = 0.0
        sparse.eliminate_zeros()
        self._w_indptr = sparse.indptr.astype(np.int64)
        self._w_indices = sparse.indices.astype(np.int64)
        self._w_data = sparse.data.astype(np.float64)

    def _train(
        self,
        x: sp.csr_matrix,
        y: np.ndarray,
        solve: Callable[..., tuple[list[_Solved], float]],
        meanwhile: Callable[[], object],
    ) -> tuple[sp.csr_matrix, np.ndarray]:
        """One-vs-rest weights per class. In a block, only the home classes get their own
        binary problem; the other members and the sample join one "rest" label. A class's
        problem (its rows against everything else in the block) is the same either way, so
        this only saves the problems whose weights would be thrown away. The blocks' rows are
        drawn in order first, then the blocks are solved by `workers` processes; each solve
        seeds the solver, so the weights do not depend on the number of workers."""
        cfg = self.config
        n_classes = len(self.classes)
        order = np.argsort(y, kind="stable")
        starts = np.searchsorted(y[order], np.arange(n_classes + 1))
        rows_of = [order[starts[c] : starts[c + 1]] for c in range(n_classes)]
        rng = np.random.default_rng(cfg.seed)
        weight = self._class_weights(np.diff(starts))
        blocks = self._blocks(x, y)
        if len(blocks) > 1:
            cfg = dataclasses.replace(cfg, tol=cfg.block_tol, max_iter=cfg.block_max_iter)
        inside = np.zeros(len(y), dtype=bool)
        problems: list[Problem] = []
        for home, members in blocks:
            index = np.concatenate([rows_of[c] for c in members])
            labels = np.where(np.isin(y[index], home), y[index], -1)
            if len(members) < n_classes:  # everything else, sampled, joins the "rest" class
                inside[index] = True
                outside = np.flatnonzero(~inside)
                inside[index] = False
                take = rng.choice(outside, size=min(cfg.rest_sample, len(outside)), replace=False)
                index = np.concatenate([index, take])
                labels = np.concatenate([labels, np.full(len(take), -1)])
            scaled: Weights = (None, None)
            if weight is not None and cfg.weights_everywhere:
                scaled = (weight[y[index]], None)
            elif weight is not None:
                scaled = (None, {int(c): float(weight[c]) for c in home})
            problems.append((home, index, labels, scaled))

        solved, self.worker_cpu = solve(x, problems, cfg, meanwhile)
        bias = np.full(n_classes, -1.0)
        for part in solved:
            bias[part.home] = part.intercepts
        weights = sp.csr_matrix(
            (
                np.concatenate([part.values for part in solved]),
                (
                    np.concatenate([part.rows for part in solved]),
                    np.concatenate([part.columns for part in solved]),
                ),
            ),
            shape=(n_classes, x.shape[1]),
            dtype=np.float32,
        )
        return weights, bias

    def _class_weights(self, sizes: np.ndarray) -> np.ndarray | None:
        """Each class's example weight (see `ModelConfig.balance`), None when all are 1."""
        cfg = self.config
        if not cfg.balance and not cfg.weights:
            return None
        exempt = np.array(
            [bool(cfg.balance_exempt) and c.startswith(cfg.balance_exempt) for c in self.classes]
        )
        reference = float(np.median(sizes[~exempt])) if (~exempt).any() else 1.0
        weight: np.ndarray = (reference / np.maximum(sizes, 1)) ** cfg.balance
        weight[exempt] = 1.0
        for label, factor in cfg.weights:
            if label in self.index:
                weight[self.index[label]] *= factor
        return weight

    def _blocks(self, x: sp.csr_matrix, y: np.ndarray) -> list[tuple[list[int], list[int]]]:
        """(home classes, all classes of the block). One block when the library is small."""
        cfg = self.config
        n_classes = len(self.classes)
        everyone = list(range(n_classes))
        if n_classes <= SINGLE_BLOCK:
            return [(everyone, everyone)]
        indicator = sp.csr_matrix(
            (np.ones(len(y)), (y, np.arange(len(y)))), shape=(n_classes, len(y))
        )
        similar = _similarities(normalize(indicator @ x))
        # rounded: neighbours tied up to float noise are ranked by class order, whatever the
        # order of the sums that computed them
        nearest = np.argsort(-np.round(similar, 9), axis=1, kind="stable")
        blocks: list[tuple[list[int], list[int]]] = []
        unassigned = set(everyone)
        for seed in everyone:
            if seed not in unassigned:
                continue
            ranked = [int(c) for c in nearest[seed]]
            home = [c for c in ranked if c in unassigned][: cfg.block_home]
            members = set(ranked[: cfg.block_home + cfg.block_neighbours]) | set(home)
            for c in home:  # each home class brings its own nearest neighbours
                members.update(int(k) for k in nearest[c, :6])
            unassigned.difference_update(home)
            blocks.append((home, sorted(members)))
        return blocks

    def scores(self, text: str) -> np.ndarray:
        """Decision value per class (in `self.classes` order); about -1 for unrelated text."""
        return self.scores_of(text.split())

    def features(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(feature ids, values) of the text made of `words`: the char part's TF-IDF values
        then the word part's, each L2-normalised and weighted as in training. Both parts are
        counted in one Counter (char ids first, so the split is the count of char ids)."""
        chars, word_part = self._chars, self._words
        counts = Counter(itertools.chain.from_iterable(chars.char_ids(w) for w in words))
        n_chars = len(counts)
        vocab, offset = word_part.vocab, word_part.offset
        grams = [vocab.get(w) for w in words]
        grams += [vocab.get(f"{a} {b}") for a, b in itertools.pairwise(words)]
        counts.update(g + offset for g in grams if g is not None)
        if not counts:
            return _EMPTY
        ids = np.fromiter(counts.keys(), np.int64, len(counts))
        tf = np.fromiter(counts.values(), np.float64, len(counts))
        values = (1.0 + np.log(tf)) * self._idf[ids]
        for part, piece in ((chars, values[:n_chars]), (word_part, values[n_chars:])):
            if len(piece):
                piece *= part.weight / (math.sqrt(float(piece @ piece)) or 1.0)
        return ids, values

    def _dense_product(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """`query @ self._dense[rows]` in float32, row by row in the order of `rows` (each
        class's sum is `out += q * w`, as einsum's loop adds them: the same bits). Read in
        place by scipy's CSR kernel: gathering the rows first copied ~1 MB per query at
        2,000 guides, twice the product's own cost. Not `@` on the gathered rows: a BLAS
        call spins up its thread pool per query, 40x the product on a busy 2-core machine."""
        weights = query.astype(np.float32)
        if _csr_matvecs is None:
            fallback: np.ndarray = np.einsum("i,ij->j", weights, self._dense[rows])
            return fallback
        n_rows, n_classes = self._dense.shape
        out = np.zeros(n_classes, dtype=np.float32)
        picked = np.ascontiguousarray(rows, dtype=np.int64)
        indptr = np.array([0, len(picked)], dtype=np.int64)
        _csr_matvecs(1, n_rows, n_classes, indptr, picked, weights, self._dense_flat, out)
        return out

    def scores_of(self, words: Sequence[str]) -> np.ndarray:
        """`scores` of the text made of `words` (already normalised: no re-splitting)."""
        ids, query = self.features(words)
        if not len(ids):
            bias: np.ndarray = self._bias.copy()
            return bias
        if self._all_dense:  # a commune library: one product, no sparse part
            product: np.ndarray = self._bias + self._dense_product(query, ids)
            return product
        rows = self._dense_row[ids]
        common = rows >= 0
        total: np.ndarray = self._bias + self._dense_product(query[common], rows[common])
        rare = ids[~common]
        if len(rare):  # one row per query feature: its weight in every class
            lengths, classes, weights = gather(self._w_indptr, self._w_indices, self._w_data, rare)
            spread = np.repeat(query[~common], lengths)
            total += np.bincount(classes, weights=weights * spread, minlength=len(self.classes))
        return total
