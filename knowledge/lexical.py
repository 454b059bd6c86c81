"""The lexical index: the first matcher, now one source of evidence for `knowledge.matcher`.

It also serves as the "previous matcher" baseline in `knowledge bench` (its own decisions).
Design: every guide contributes phrases (title, aliases, examples, FAQ questions). Phrases are
normalised (see `normalize`), rewritten by the lexicon, and indexed by unigram and bigram
features weighted by inverse document frequency over guides. A query is scored against every
phrase at once by sparse algebra (phrase x feature matrix, only the query's columns read), then
each guide is scored by its best phrase (how much of the phrase the query covers,
and how much of the query the phrase explains) blended with how much of the query the guide's
whole vocabulary explains. Two pseudo-guides, "handoff" and "out of scope", compete like guides,
so "cho tôi gặp cán bộ" and "giá vàng hôm nay" win their own class instead of a procedure.
"""

from __future__ import annotations

import contextlib
import math
from collections import OrderedDict, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from rapidfuzz import process
from rapidfuzz.distance import OSA

from knowledge.lexrules import LexiconRules
from knowledge.model import gather, positions
from knowledge.normalize import Token, tokens
from knowledge.results import HANDOFF, OUT_OF_SCOPE, Match, MatchResult
from knowledge.schema import Guide, Lexicon

# A query feature in more than this many documents per asked-for document has those documents
# looked up in its column rather than its column read (see `_pairs`).
LOOKUP_SHARE = 4
# Up to this many entries read (the query's columns plus one sweep over every phrase and
# document), `doc_scores_of` reads by column, as `doc_scores` does (see README "Speed").
COLUMN_READ = 12_000
RECENT_TEXTS = 8  # messages whose tokens an index keeps (see `_query_tokens`)


@dataclass(frozen=True)
class LexicalConfig:
    """Weights and thresholds, calibrated on tests/data/questions.tsv (see `knowledge bench`)."""

    guide_threshold: float = 0.50
    clarify_threshold: float = 0.40
    margin: float = 0.10
    handoff_threshold: float = 0.45
    phrase_recall_exp: float = 0.6
    phrase_precision_exp: float = 0.3
    phrase_weight: float = 0.7
    stopword_factor: float = 0.15
    unknown_weight: float = 2.0
    corrected_factor: float = 0.8
    idf_power: float = 1.0
    max_matches: int = 5
    min_listed: float = 0.1


@dataclass
class _Phrase:
    doc: int
    features: dict[int, float]
    total: float
    text: str


@dataclass
class _Doc:
    id: str
    title: str
    features: set[int] = field(default_factory=set)


class LexicalIndex:
    """Immutable after construction; safe to share between concurrent conversations."""

    def __init__(
        self,
        guides: Sequence[Guide],
        lexicon: Lexicon,
        config: LexicalConfig | None = None,
        extra: Sequence[tuple[str, str, Sequence[str]]] = (),
        deferred: bool = False,
    ) -> None:
        self.config = config or LexicalConfig()
        self._lex = LexiconRules(lexicon)
        self._stop_plains = frozenset(t.plain for w in lexicon.stopwords for t in tokens(w)[:1])
        self._docs: list[_Doc] = []
        self._phrase_texts: dict[str, list[str]] = {}
        self._indexed: dict[str, list[Token]] = {}  # phrase text -> its rewritten tokens
        merged: dict[str, tuple[str, list[str]]] = {}
        for guide in guides:  # dated versions of one guide share an id: index their union
            _, known = merged.setdefault(guide.id, (guide.title, []))
            known += [p for p in (*guide.phrases, *(f.q for f in guide.faq)) if p not in known]
            merged[guide.id] = (guide.title, known)
        for guide_id, (title, phrases) in merged.items():
            self._add_doc(guide_id, title, phrases)
        self._add_doc(HANDOFF, "Gặp cán bộ", lexicon.handoff)
        self._add_doc(OUT_OF_SCOPE, "Ngoài phạm vi", lexicon.out_of_scope)
        for class_id, title, texts in extra:  # more special classes ("__...")
            self._add_doc(class_id, title, texts)

        doc_tokens: list[list[list[Token]]] = []
        vocab: set[str] = set()
        for doc in self._docs:
            per_phrase = [self._rewrite(tokens(t)) for t in self._phrase_texts[doc.id]]
            doc_tokens.append(per_phrase)
            for text, words in zip(self._phrase_texts[doc.id], per_phrase, strict=True):
                self._indexed.setdefault(text, words)
                vocab.update(t.plain for t in words)
        vocab.update(t.plain for t in self._lex.outputs())
        self._vocab = vocab
        self._vocab_list = sorted(w for w in vocab if len(w) >= 3 and w.isalpha())
        self._doc_tokens: list[list[list[Token]]] | None = doc_tokens
        self._correction_cache: dict[str, str | None] = {}
        # the last few messages' tokens: one match normalises a text more than once (a clause
        # is counted for content words, then scored); a few entries, so no message is kept
        self._recent: OrderedDict[str, tuple[tuple[Token, ...], frozenset[str]]] = OrderedDict()
        if not deferred:
            self.finish()

    def finish(self) -> None:
        """Build the scoring matrices. A `deferred` index has only its rewritten phrases
        (`indexed_tokens`, `normalise`) until this is called: the matcher builds the matrices
        while helper processes train the model."""
        doc_tokens = self._doc_tokens
        if doc_tokens is None:
            return
        self._doc_tokens = None
        self._feature_ids: dict[str, int] = {}
        self._stop_features: set[int] = set()
        phrase_keys: list[list[list[tuple[str, bool]]]] = []
        for doc, per_phrase in zip(self._docs, doc_tokens, strict=True):
            keys_of_doc = [self._feature_keys(words) for words in per_phrase]
            phrase_keys.append(keys_of_doc)
            for keys in keys_of_doc:
                doc.features.update(self._features(keys, create=True))

        df: dict[int, int] = defaultdict(int)
        for doc in self._docs:
            for fid in doc.features:
                df[fid] += 1
        n_docs = max(len(self._docs), 1)
        self._df = df
        power = self.config.idf_power
        self._idf = {fid: math.log(1 + n_docs / count) ** power for fid, count in df.items()}
        self._unknown_idf = math.log(1 + n_docs)

        self._phrases: list[_Phrase] = []
        for doc_index, keys_of_doc in enumerate(phrase_keys):
            for keys, text in zip(
                keys_of_doc, self._phrase_texts[self._docs[doc_index].id], strict=True
            ):
                weights = self._weights(keys)
                if weights:
                    self._phrases.append(_Phrase(doc_index, weights, sum(weights.values()), text))
        # Scoring is sparse algebra over every phrase: exact, and the same cost per feature
        # whether the library holds 30 guides or 2,000.
        n_features = len(self._feature_ids)
        lengths = [len(p.features) for p in self._phrases]
        self._phrase_matrix = sp.csc_matrix(
            (
                np.fromiter((w for p in self._phrases for w in p.features.values()), np.float64),
                (
                    np.repeat(np.arange(len(self._phrases)), lengths),
                    np.fromiter((f for p in self._phrases for f in p.features), np.int64),
                ),
            ),
            shape=(len(self._phrases), n_features),
        )
        self._pm = (
            self._phrase_matrix.indptr.astype(np.int64),
            self._phrase_matrix.indices.astype(np.int64),
            self._phrase_matrix.data,
        )
        self._phrase_doc = np.array([p.doc for p in self._phrases], dtype=np.int64)
        self._phrase_total = np.array([p.total for p in self._phrases])
        doc_lengths = [len(d.features) for d in self._docs]
        self._doc_matrix = sp.csc_matrix(
            (
                np.ones(sum(doc_lengths)),
                (
                    np.repeat(np.arange(len(self._docs)), doc_lengths),
                    np.fromiter((f for d in self._docs for f in d.features), np.int64),
                ),
            ),
            shape=(len(self._docs), n_features),
        )
        self._dm = (
            self._doc_matrix.indptr.astype(np.int64),
            self._doc_matrix.indices.astype(np.int64),
            self._doc_matrix.data,
        )
        self._doc_phrases = np.searchsorted(self._phrase_doc, np.arange(len(self._docs) + 1))
        # Phrases and documents stacked in one feature-column matrix (documents' entries are
        # +inf, so min(entry, query weight) is the query weight): one read per query feature
        # gives both each phrase's overlap and how much of the query each document explains.
        both = sp.vstack(
            [
                self._phrase_matrix,
                sp.csc_matrix(
                    (
                        np.full(self._doc_matrix.nnz, np.inf),
                        self._doc_matrix.indices,
                        self._doc_matrix.indptr,
                    ),
                    shape=self._doc_matrix.shape,
                ),
            ],
            format="csc",
        )
        self._both = (both.indptr.astype(np.int64), both.indices.astype(np.int64), both.data)
        self._column_sizes = np.diff(self._both[0])
        self._build_runs()

    def _build_runs(self) -> None:
        """For each (feature, document) entry of the document matrix, the run of the phrase
        matrix's column entries that are that document's phrases (phrases are numbered by
        document, and a column's entries by phrase, so the run is contiguous). Scoring some
        documents then reads only the phrase entries that share a feature with the query:
        a few hundred, where the documents' whole rows are tens of thousands at 2,000 guides
        (the largest cost of a province library's query, see README "Speed")."""
        n_phrases = len(self._phrases)
        p_indptr, p_rows = self._pm[0], self._pm[1]
        d_indptr, d_rows = self._dm[0], self._dm[1]
        n_features = len(p_indptr) - 1
        # column-major keys of the phrase entries, ascending (rows are sorted in a column)
        keys = np.repeat(np.arange(n_features, dtype=np.int64) * n_phrases, np.diff(p_indptr))
        keys += p_rows
        column = np.repeat(np.arange(n_features, dtype=np.int64) * n_phrases, np.diff(d_indptr))
        low = np.searchsorted(keys, column + self._doc_phrases[d_rows])
        high = np.searchsorted(keys, column + self._doc_phrases[d_rows + 1])
        self._run_start = low.astype(np.int64)
        self._run_length = (high - low).astype(np.int64)
        # the document matrix's entries as ascending (feature, document) keys, then a sentinel
        self._doc_keys = np.append(
            np.repeat(np.arange(n_features, dtype=np.int64) * len(self._docs), np.diff(d_indptr))
            + d_rows,
            np.iinfo(np.int64).max,
        )

    # --- construction helpers ------------------------------------------------------------

    def _add_doc(self, doc_id: str, title: str, phrases: Iterable[str]) -> None:
        texts = list(phrases)
        if texts:
            self._docs.append(_Doc(doc_id, title))
            self._phrase_texts[doc_id] = texts

    def _rewrite(self, words: list[Token]) -> list[Token]:
        return self._lex.rewrite(words)

    def _feature_keys(self, words: Sequence[Token]) -> list[tuple[str, bool]]:
        """(feature, is_stop) for unigrams and adjacent bigrams."""
        maybe = self._stop_plains  # most words are not stopwords: skip the marks check
        stops = [t.plain in maybe and self._lex.is_stopword(t) for t in words]
        keys = [(t.plain, s) for t, s in zip(words, stops, strict=True)]
        keys += [
            (f"{a.plain} {b.plain}", sa and sb)
            for a, b, sa, sb in zip(words, words[1:], stops, stops[1:], strict=False)
        ]
        return keys

    def _features(self, keys: Sequence[tuple[str, bool]], create: bool) -> list[int]:
        result = []
        for key, is_stop in keys:
            fid = self._feature_ids.get(key)
            if fid is None and create:
                fid = self._feature_ids[key] = len(self._feature_ids)
            if fid is not None:
                result.append(fid)
                if is_stop:
                    self._stop_features.add(fid)
        return result

    def _weights(self, keys: Sequence[tuple[str, bool]]) -> dict[int, float]:
        weights: dict[int, float] = {}
        stop_factor = self.config.stopword_factor
        for key, is_stop in keys:
            fid = self._feature_ids.get(key)
            if fid is None:
                continue
            weight = self._idf[fid] * (stop_factor if is_stop else 1.0)
            if weight > weights.get(fid, 0.0):
                weights[fid] = weight
        return weights

    # --- query side ----------------------------------------------------------------------

    def _correct(self, word: str) -> str | None:
        """A vocabulary word for a typo, a run-together pair, or a stretched word; else None."""
        if word in self._correction_cache:
            return self._correction_cache[word]
        fixed: str | None = None
        squeezed = "".join(ch for i, ch in enumerate(word) if i == 0 or ch != word[i - 1])
        if squeezed in self._vocab:
            fixed = squeezed
        elif len(word) >= 6:
            for cut in range(2, len(word) - 1):
                left, right = word[:cut], word[cut:]
                if left in self._vocab and right in self._vocab:
                    fixed = f"{left} {right}"
                    break
        if fixed is None and len(word) >= 4 and word.isalpha():
            limit = 1 if len(word) <= 6 else 2
            found = process.extractOne(
                word, self._vocab_list, scorer=OSA.distance, score_cutoff=limit
            )
            if found is not None and found[0][0] == word[0]:
                fixed = found[0]
        if len(self._correction_cache) < 50_000:
            self._correction_cache[word] = fixed
        return fixed

    def _query_tokens(self, text: str) -> tuple[list[Token], set[str]]:
        known = self._recent.get(text)
        if known is None:
            words, corrected = self._tokens_of(text)
            known = self._recent[text] = (tuple(words), frozenset(corrected))
            if len(self._recent) > RECENT_TEXTS:
                with contextlib.suppress(KeyError):  # emptied by a concurrent conversation
                    self._recent.popitem(last=False)
        return list(known[0]), set(known[1])

    def _tokens_of(self, text: str) -> tuple[list[Token], set[str]]:
        words = self._rewrite(tokens(text))
        result: list[Token] = []
        corrected: set[str] = set()
        for token in words:
            if token.plain in self._vocab or token.plain.isdigit():
                result.append(token)
                continue
            fixed = self._correct(token.plain)
            if fixed is None:
                result.append(token)
                continue
            for part in fixed.split():
                result.append(Token(part, None))
                corrected.add(part)
        if corrected:  # a corrected word may complete a lexicon entry ("khia sanh")
            result = self._rewrite(result)
        return result, corrected

    def _query_weights(
        self, words: Sequence[Token], corrected: set[str]
    ) -> tuple[dict[int, float], float]:
        """Weight per query feature (unigrams, then bigrams: the insertion order is part of the
        result, it orders the sum of the total) and the total with unknown words. One pass per
        n-gram order without building (key, is_stop) tuples: a long message has ~80 keys."""
        cfg = self.config
        stop_factor, corrected_factor = cfg.stopword_factor, cfg.corrected_factor
        plains = [t.plain for t in words]
        maybe, lex = self._stop_plains, self._lex
        stops = [p in maybe and lex.is_stopword(t) for p, t in zip(plains, words, strict=True)]
        get, idf = self._feature_ids.get, self._idf
        weights: dict[int, float] = {}
        unknown = 0.0
        for plain, stop in zip(plains, stops, strict=True):
            factor = stop_factor if stop else 1.0
            if corrected and plain in corrected:
                factor *= corrected_factor
            fid = get(plain)
            if fid is None:
                if not plain.isdigit():
                    unknown += cfg.unknown_weight * factor
                continue
            weight = idf[fid] * factor
            known = weights.get(fid)
            if known is None or weight > known:
                weights[fid] = weight
        for a, b, sa, sb in zip(plains, plains[1:], stops, stops[1:], strict=False):
            fid = get(f"{a} {b}")
            if fid is None:
                continue
            factor = stop_factor if sa and sb else 1.0
            if corrected and (a in corrected or b in corrected):
                factor *= corrected_factor
            weight = idf[fid] * factor
            known = weights.get(fid)
            if known is None or weight > known:
                weights[fid] = weight
        return weights, sum(weights.values()) + unknown

    def indexed_tokens(self, text: str) -> list[Token]:
        """The rewritten tokens of an indexed phrase (as `normalise` would give), or of `text`."""
        known = self._indexed.get(text)
        return list(known) if known is not None else self.normalise(text)

    def is_stopword(self, token: Token) -> bool:
        return self._lex.is_stopword(token)

    def normalise(self, text: str) -> list[Token]:
        """Lexicon-rewritten tokens with typos corrected against the indexed vocabulary."""
        return self._query_tokens(text)[0]

    def doc_ids(self) -> list[str]:
        """Guide and class ids in the order of `doc_scores`."""
        return [d.id for d in self._docs]

    def scores(self, text: str, allowed: Collection[str] | None = None) -> dict[str, float]:
        """Score per guide or class id (only those in `allowed`, plus the special classes)."""
        return {self._docs[d].id: s for s, d in self._score(text, allowed)}

    def match(
        self, text: str, top: int | None = None, allowed: Collection[str] | None = None
    ) -> MatchResult:
        cfg = self.config
        limit = min(top or cfg.max_matches, cfg.max_matches)
        return self._decide(text, self._score(text, allowed), limit)

    def doc_scores(self, words: Sequence[Token], corrected: set[str]) -> np.ndarray:
        """Score of every guide and class (in `doc_ids` order; 0 without evidence) for query
        tokens from `query_tokens`. A guide scores by its best phrase (how much of the phrase
        the query covers, and how much of the query the phrase explains), blended with how
        much of the query the guide's whole vocabulary explains."""
        qweights, qtotal = self._query_weights(words, corrected)
        if not qweights or qtotal <= 0:
            return np.zeros(len(self._docs))
        fids = np.fromiter(qweights, np.int64, len(qweights))
        qvalues = np.fromiter(qweights.values(), np.float64, len(qweights))
        return self._by_column(fids, qvalues, qtotal)

    def _by_column(self, fids: np.ndarray, qvalues: np.ndarray, qtotal: float) -> np.ndarray:
        """`doc_scores` read down the query's feature columns: the cost is the phrases
        sharing a feature with the query."""
        cfg = self.config
        out = np.zeros(len(self._docs))
        n_phrases = len(self._phrases)
        lengths, rows, values = gather(*self._both, fids)
        sums = np.bincount(
            rows,
            weights=np.minimum(values, np.repeat(qvalues, lengths)),
            minlength=n_phrases + len(self._docs),
        )
        matched, explained = sums[:n_phrases], sums[n_phrases:]
        hit = np.flatnonzero(matched > 0)  # (a comparison first: 10x faster on floats)
        if not len(hit):
            return out
        part = matched[hit]
        recall = part / self._phrase_total[hit]
        precision = np.minimum(part / qtotal, 1.0)
        phrase_score = recall**cfg.phrase_recall_exp * precision**cfg.phrase_precision_exp
        best = np.zeros(len(self._docs))
        np.maximum.at(best, self._phrase_doc[hit], phrase_score)
        combined = cfg.phrase_weight * best + (1 - cfg.phrase_weight) * np.minimum(
            explained / qtotal, 1.0
        )
        scored = best > 0
        out[scored] = combined[scored]
        return out

    def doc_scores_of(
        self, words: Sequence[Token], corrected: set[str], docs: np.ndarray
    ) -> np.ndarray:
        """`doc_scores` for some documents only (indices into `doc_ids`), in their order.
        Finds the (query feature, asked-for document) entries of the document matrix
        (`_pairs`), then reads only those entries' runs of phrase entries (`_build_runs`):
        the cost is the evidence, not the size of the library or of the documents. Sums run
        in ascending feature order per phrase and per document, as a row-wise read would."""
        cfg = self.config
        qweights, qtotal = self._query_weights(words, corrected)
        if not qweights or qtotal <= 0 or not len(docs):
            return np.zeros(len(docs))
        fids = np.fromiter(qweights, np.int64, len(qweights))
        # a commune library: reading the query's columns over every phrase costs less
        if (
            int(self._column_sizes[fids].sum()) + len(self._phrase_doc) + len(self._docs)
            <= COLUMN_READ
        ):
            qvalues = np.fromiter(qweights.values(), np.float64, len(qweights))
            some: np.ndarray = self._by_column(fids, qvalues, qtotal)[docs]
            return some
        fids.sort()
        qvalues = np.fromiter((qweights[f] for f in fids.tolist()), np.float64, len(fids))
        order = np.argsort(docs, kind="stable")
        ordered = docs[order]
        if len(docs) > 1 and bool((ordered[1:] == ordered[:-1]).any()):
            unique = np.flatnonzero(np.diff(ordered, prepend=-1))  # a document asked twice
            once = self.doc_scores_of(words, corrected, ordered[unique])
            result = np.empty(len(docs))
            result[order] = once[np.cumsum(np.diff(ordered, prepend=-1) != 0) - 1]
            return result
        runs, entry_slot, feature = self._pairs(fids, order, ordered)
        if not len(runs):
            return np.zeros(len(docs))
        spread = qvalues[feature]
        explained = np.bincount(entry_slot, weights=spread, minlength=len(docs))
        run_length = self._run_length[runs]
        ends = np.cumsum(run_length)
        at = np.repeat(self._run_start[runs] - (ends - run_length), run_length)
        at += np.arange(len(at))
        # phrases numbered locally (the asked-for documents' phrases, one after the other):
        # the arrays are the size of the evidence, not of the library
        counts = self._doc_phrases[docs + 1] - self._doc_phrases[docs]
        local_start = np.cumsum(counts) - counts
        shift = local_start - self._doc_phrases[docs]
        local = self._pm[1][at] + np.repeat(shift[entry_slot], run_length)
        matched = np.bincount(
            local,
            weights=np.minimum(self._pm[2][at], np.repeat(spread, run_length)),
            minlength=int(local_start[-1] + counts[-1]),
        )
        hit = np.flatnonzero(matched > 0)
        hit_slot = np.searchsorted(local_start, hit, side="right") - 1
        part = matched[hit]
        recall = part / self._phrase_total[hit - shift[hit_slot]]
        precision = np.minimum(part / qtotal, 1.0)
        phrase_score = recall**cfg.phrase_recall_exp * precision**cfg.phrase_precision_exp
        best = np.zeros(len(docs))
        np.maximum.at(best, hit_slot, phrase_score)
        combined = cfg.phrase_weight * best + (1 - cfg.phrase_weight) * np.minimum(
            explained / qtotal, 1.0
        )
        out = np.zeros(len(docs))
        out[best > 0] = combined[best > 0]
        return out

    def _pairs(
        self, fids: np.ndarray, order: np.ndarray, ordered: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The document matrix's entries for the query's features `fids` (ascending) in the
        documents `ordered` (`docs[order]`: ascending, distinct), in ascending order of entry
        (feature, then document), with each entry's position in `docs` and index in `fids`.
        A feature in few documents is read down its column; one in many ("thủ tục", "cấp":
        thousands of guides) has the asked-for documents looked up in its column instead."""
        indptr = self._dm[0]
        sizes = indptr[fids + 1] - indptr[fids]
        common = sizes > LOOKUP_SHARE * len(ordered)
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        rare = np.flatnonzero(~common)
        if len(rare):
            lengths, where = positions(indptr, fids[rare])
            slot = np.full(len(self._docs), -1, dtype=np.int64)
            slot[ordered] = order
            in_docs = slot[self._dm[1][where]]
            keep = np.flatnonzero(in_docs >= 0)
            parts.append((where[keep], in_docs[keep], np.repeat(rare, lengths)[keep]))
        looked = np.flatnonzero(common)
        if len(looked):
            pairs = (fids[looked, None] * len(self._docs) + ordered[None, :]).ravel()
            at = np.searchsorted(self._doc_keys, pairs)
            found = np.flatnonzero(self._doc_keys[at] == pairs)
            parts.append((at[found], order[found % len(ordered)], looked[found // len(ordered)]))
        if len(parts) == 1:
            return parts[0]
        runs, in_docs, feature = (np.concatenate(column) for column in zip(*parts, strict=True))
        by = np.argsort(runs, kind="stable")
        return runs[by], in_docs[by], feature[by]

    def query_tokens(self, text: str) -> tuple[list[Token], set[str]]:
        """Lexicon-rewritten tokens with typos corrected, and the corrected words."""
        return self._query_tokens(text)

    def _score(self, text: str, allowed: Collection[str] | None) -> list[tuple[float, int]]:
        values = self.doc_scores(*self._query_tokens(text))
        scored: list[tuple[float, int]] = []
        for doc_index in np.flatnonzero(values > 0):
            doc = self._docs[doc_index]
            if allowed is not None and doc.id not in allowed and not doc.id.startswith("__"):
                continue
            scored.append((float(values[doc_index]), int(doc_index)))
        scored.sort(reverse=True)
        return scored

    def _decide(self, text: str, scored: list[tuple[float, int]], limit: int) -> MatchResult:
        cfg = self.config
        if not scored:
            return MatchResult(text, "none", ())
        top_score, top_doc = scored[0]
        top_id = self._docs[top_doc].id
        guides = [
            Match(self._docs[d].id, self._docs[d].title, round(min(s, 1.0), 4))
            for s, d in scored
            if not self._docs[d].id.startswith("__") and s >= cfg.min_listed
        ][:limit]
        if top_id == HANDOFF and top_score >= cfg.handoff_threshold:
            return MatchResult(text, "handoff", tuple(guides))
        if top_id.startswith("__") or not guides:
            return MatchResult(text, "none", tuple(guides))
        best = guides[0].score
        runner_up = guides[1].score if len(guides) > 1 else 0.0
        if best >= cfg.guide_threshold and best - runner_up >= cfg.margin:
            return MatchResult(text, "guide", tuple(guides))
        if best >= cfg.clarify_threshold:
            return MatchResult(text, "clarify", tuple(guides))
        return MatchResult(text, "none", tuple(guides))

    # --- introspection -------------------------------------------------------------------

    def match_phrases(self, guide_id: str) -> list[str]:
        return list(self._phrase_texts.get(guide_id, []))

    @property
    def size(self) -> tuple[int, int]:
        """(number of guides and classes, number of indexed phrases)."""
        return len(self._docs), len(self._phrases)
