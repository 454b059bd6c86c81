"""Find the guide a citizen means, or decide to ask, hand off, chat, point elsewhere, or admit
not knowing.

Pipeline: the Vietnamese normaliser and the lexicon rewrite the message (diacritics, teencode,
synonyms, typos against the indexed vocabulary); a trained model (`knowledge.model`: TF-IDF
n-grams + linear SVMs) scores every class; the lexical index (`knowledge.lexical`, the first
matcher) adds its evidence; the decision is calibrated on those scores. Classes are the guide
ids and explicit special classes with real examples: a person (handoff), out of scope, small
talk (greetings, thanks), and pointers to well-known procedures of other agencies.

The matcher is built once per knowledge base over every dated version of every guide, off the
request path (at load or reload); the library of a day asks it with the ids serving that day.
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from knowledge.clauses import asks_for_both, request_part, strip_padding, two_request_splits
from knowledge.lexical import LexicalIndex
from knowledge.model import ModelConfig, TrainedModel
from knowledge.normalize import Token, fold
from knowledge.results import HANDOFF, OUT_OF_SCOPE, Intent, Match, MatchResult
from knowledge.schema import Guide, Lexicon

__all__ = ["HANDOFF", "OUT_OF_SCOPE", "Match", "MatchResult", "Matcher", "MatcherConfig"]

# Guides (by model score) that also get lexical evidence. At 2,000 guides 25, 40 and 80 make
# the same decisions on every development set; 40 costs ~28% less CPU per question than 80.
LEXICAL_CANDIDATES = 40
TOP_CLASSES = 12  # classes ranked per query: enough for 5 matches plus the special classes
CHITCHAT = "__chitchat__:"
POINTER = "__pointer__:"
_THANKS_SIGNS = frozenset("👍👌🙏❤♥💕🥰😊🤝✅")


def _is_thanks_sign(text: str) -> bool:
    """Only signs that say "thanks / ok" ("👍", "🙏🙏"); other pictographs and "???" are not."""
    signs = [ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Mn", "Cf")]
    return bool(signs) and all(ch in _THANKS_SIGNS for ch in signs)


@dataclass(frozen=True)
class MatcherConfig:
    """Decision thresholds on the combined score (SVM decision value + lexical evidence),
    calibrated on tests/data/questions.tsv and checked on the held-out set (`knowledge bench`)."""

    lexical_weight: float = 0.8
    guide_threshold: float = -0.35
    margin: float = 0.35
    clarify_threshold: float = -0.7
    clarify_window: float = 0.3
    special_threshold: float = -0.5
    pointer_threshold: float = 0.3
    guide_over_pointer: float = 0.3
    second_threshold: float = -0.12
    request_weight: float = 0.0
    request_words: int = 4
    list_words: int = 10
    two_splits: int = 2
    two_margin: float = 0.5
    chitchat_words: int = 8
    # A short message that names only what the best guide's names (title, aliases) share with
    # a sibling's, and none of its own ("trợ cấp hằng tháng": three allowances' titles), must
    # lead by this much to be answered; otherwise it asks between them.
    vague_margin: float = 0.6
    vague_words: int = 6
    max_matches: int = 5
    model: ModelConfig = field(default_factory=ModelConfig)


class Matcher:
    """Immutable after construction; safe to share between conversations and between days."""

    def __init__(
        self, guides: Sequence[Guide], lexicon: Lexicon, config: MatcherConfig | None = None
    ) -> None:
        self.config = cfg = config or MatcherConfig()
        extra: list[tuple[str, str, list[str]]] = [
            (f"{CHITCHAT}{kind}", kind, list(phrases)) for kind, phrases in lexicon.chitchat.items()
        ]
        extra += [
            (f"{POINTER}{key}", p.title, list(p.phrases)) for key, p in lexicon.pointers.items()
        ]
        self.lexical = LexicalIndex(guides, lexicon, extra=extra, deferred=True)
        self.titles: dict[str, str] = {}
        self._phrases: dict[str, list[str]] = {}
        names: dict[str, list[str]] = {}
        for guide in guides:
            self.titles[guide.id] = guide.title
            names.setdefault(guide.id, []).extend((guide.title, *guide.aliases))
            known = self._phrases.setdefault(guide.id, [])
            known += [p for p in (*guide.phrases, *(f.q for f in guide.faq)) if p not in known]
        texts: list[str] = []
        labels: list[str] = []

        def add(label: str, phrases: Sequence[str]) -> None:
            for phrase in phrases:
                normal = " ".join(t.plain for t in self.lexical.indexed_tokens(phrase))
                if normal:
                    texts.append(normal)
                    labels.append(label)

        for guide_id, phrases in self._phrases.items():
            add(guide_id, phrases)
        add(HANDOFF, lexicon.handoff)
        add(OUT_OF_SCOPE, lexicon.out_of_scope)
        for class_id, _, texts_of_class in extra:
            add(class_id, texts_of_class)
        self.model = TrainedModel(texts, labels, cfg.model, meanwhile=self.lexical.finish)
        self.lexical.finish()  # (already done, unless the model raised)
        # guide -> (the content words of all its names, of each name)
        self._names: dict[str, tuple[frozenset[str], tuple[frozenset[str], ...]]] = {}
        for guide_id, own in names.items():
            sets = {self._content(self.lexical.indexed_tokens(n)) for n in own} - {frozenset()}
            self._names[guide_id] = (frozenset().union(*sets), tuple(sets))
        self._is_guide = np.array([not c.startswith("__") for c in self.model.classes])
        self._n_phrases = len(texts)
        self._masks: dict[int, tuple[Collection[str], np.ndarray]] = {}
        # lexical document -> model class, so lexical evidence is added as one vector operation
        docs = {d: i for i, d in enumerate(self.lexical.doc_ids())}
        self._class_doc = np.array([docs.get(c, -1) for c in self.model.classes])
        self._special = np.flatnonzero(~self._is_guide & (self._class_doc >= 0))
        self._guide_rows = np.flatnonzero(self._is_guide & (self._class_doc >= 0))

    def _content(self, tokens: Sequence[Token]) -> frozenset[str]:
        return frozenset(t.plain for t in tokens if t.plain and not self.lexical.is_stopword(t))

    def _content_words(self, text: str) -> int:
        return sum(not self.lexical.is_stopword(t) for t in self.lexical.normalise(text))

    def normalise(self, text: str) -> str:
        return " ".join(t.plain for t in self.lexical.normalise(text))

    # --- scoring -------------------------------------------------------------------------

    def _values(self, text: str, allowed: Collection[str] | None) -> np.ndarray:
        """Combined score (SVM decision value + lexical evidence) of every class, -inf for the
        guides not serving today. Vector operations over all classes, lexical evidence only
        for the special classes and the model's best guides (2,000 guides stay fast)."""
        cfg = self.config
        words, corrected = self.lexical.query_tokens(text)  # normalised once for both parts
        values = self.model.scores_of([t.plain for t in words if t.plain])
        if allowed is not None:
            values[~self._mask(allowed)] = -np.inf
        guides = self._guide_rows
        if len(guides) > LEXICAL_CANDIDATES:
            top = np.argpartition(-values[guides], LEXICAL_CANDIDATES - 1)
            guides = guides[top[:LEXICAL_CANDIDATES]]
        chosen = np.concatenate([self._special, guides])
        lexical = self.lexical.doc_scores_of(words, corrected, self._class_doc[chosen])
        values[chosen] += cfg.lexical_weight * lexical
        return values

    def _ranked(self, values: np.ndarray) -> list[tuple[float, str]]:
        """(combined score, class id) of the best classes, best first."""
        keep = min(TOP_CLASSES, len(values))
        best = np.argpartition(-values, keep - 1)[:keep]
        classes = self.model.classes
        out = [
            (value, classes[i])
            for value, i in zip(values[best].tolist(), best.tolist(), strict=True)
            if math.isfinite(value)
        ]
        out.sort(reverse=True)
        return out

    def _scored(self, text: str, allowed: Collection[str] | None) -> list[tuple[float, str]]:
        """The best classes for a message. A long story is scored whole and on the clauses that
        carry its request, weighed together: the request says which procedure, the story only
        why (its words often name a sibling)."""
        body = strip_padding(text) if len(text.split()) > self.config.chitchat_words else text
        values = self._values(body, allowed)
        weight = self.config.request_weight
        request = request_part(body) if weight > 0 else None
        if request is not None and self._content_words(request) >= self.config.request_words:
            values = (1.0 - weight) * values + weight * self._values(request, allowed)
        return self._ranked(values)

    def _mask(self, allowed: Collection[str]) -> np.ndarray:
        """Which classes may answer: the special ones and the guides serving that day."""
        key = id(allowed)
        cached = self._masks.get(key)
        if cached is not None and cached[0] is allowed:
            return cached[1]
        mask: np.ndarray = ~self._is_guide | np.array([c in allowed for c in self.model.classes])
        if len(self._masks) > 8:
            self._masks.clear()
        self._masks[key] = (allowed, mask)
        return mask

    def match(
        self, text: str, top: int | None = None, allowed: Collection[str] | None = None
    ) -> MatchResult:
        cfg = self.config
        limit = min(top or cfg.max_matches, cfg.max_matches)
        if not fold(text):
            if _is_thanks_sign(text):  # "👍", "🙏": an acknowledgement, answered politely
                return MatchResult(text, "chitchat", (), chitchat="thanks")
            return MatchResult(text, "none", ())
        scored = self._scored(text, allowed)
        result = self._decide(text, scored, limit)
        if result.intent in ("guide", "clarify"):
            both = self._two_procedures(text, scored, allowed, limit)
            if both is not None:
                result = both
        return self._shown(result)

    def confidence(self, score: float) -> float:
        """The combined score mapped into (0, 1): 0.5 at the answering threshold."""
        return 1.0 / (1.0 + math.exp(-2.5 * (score - self.config.guide_threshold)))

    def _guides(self, scored: list[tuple[float, str]], limit: int) -> list[Match]:
        return [
            Match(cid, self.titles[cid], score) for score, cid in scored if not cid.startswith("__")
        ][:limit]

    def _shown(self, result: MatchResult) -> MatchResult:
        matches = tuple(
            Match(m.id, m.title, round(self.confidence(m.score), 4)) for m in result.matches
        )
        return dataclasses.replace(result, matches=matches)

    def _decide(self, text: str, scored: list[tuple[float, str]], limit: int) -> MatchResult:
        cfg = self.config
        guides = self._guides(scored, limit)
        if not scored:
            return MatchResult(text, "none", ())
        top_score, top_id = scored[0]
        if top_id.startswith("__"):
            if top_id == HANDOFF and top_score >= cfg.special_threshold:
                return MatchResult(text, "handoff", tuple(guides))
            if top_id.startswith(CHITCHAT) and len(fold(text).split()) <= cfg.chitchat_words:
                return MatchResult(
                    text, "chitchat", tuple(guides), chitchat=top_id.removeprefix(CHITCHAT)
                )
            if top_id.startswith(POINTER) and guides and guides[0].score >= cfg.guide_over_pointer:
                # "chứng thực bản sao bằng lái xe": the other agency's paper is only the object
                # of a procedure we do have, which the message names clearly
                return self._decide(
                    text, [s for s in scored if not s[1].startswith(POINTER)], limit
                )
            if top_id.startswith(POINTER) and top_score >= cfg.pointer_threshold:
                return MatchResult(
                    text, "none", tuple(guides), pointer=top_id.removeprefix(POINTER)
                )
            return MatchResult(text, "none", tuple(guides))
        if not guides:
            return MatchResult(text, "none", ())
        best = guides[0].score
        runner_up = guides[1].score if len(guides) > 1 else cfg.clarify_threshold - 1
        intent: Intent = "none"
        if best >= cfg.guide_threshold and best - runner_up >= cfg.margin:
            intent = "guide"
            vague = self._vague(text, guides) if best - runner_up < cfg.vague_margin else []
            if vague:
                return MatchResult(text, "clarify", (guides[0], *vague))
        elif best >= cfg.clarify_threshold:
            intent = "clarify"
            close = [m for m in guides if best - m.score <= cfg.clarify_window][:4]
            guides = close if len(close) >= 2 else guides[:2]
        return MatchResult(text, intent, tuple(guides))

    def _vague(self, text: str, guides: list[Match]) -> list[Match]:
        """The siblings (up to three) whose names hold every content word of a short message
        that names none of the best guide's names but only words those share: it does not say
        which of them it means. Empty when the message is specific."""
        words = self._content(self.lexical.normalise(text))
        if not words or len(words) > self.config.vague_words:
            return []
        every, each = self._names.get(guides[0].id, (frozenset(), ()))
        if not words <= every or any(name <= words for name in each):
            return []
        return [m for m in guides[1:4] if words <= self._names.get(m.id, (frozenset(), ()))[0]]

    def _two_procedures(
        self,
        text: str,
        scored: list[tuple[float, str]],
        allowed: Collection[str] | None,
        limit: int,
    ) -> MatchResult | None:
        """Both procedures when the message cuts into two requests that each name a different
        one confidently and the whole message supports both ("khai tử và xin hỗ trợ mai táng",
        "đăng ký kết hôn rồi chuyển hộ khẩu", two questions). Each tried cut re-scores its two
        halves, so only the whole's runner-up being plausible lets it try, and at most
        `two_splits` cuts are tried (the p99 tail of a province library)."""
        cfg = self.config
        whole = {cid: score for score, cid in scored[:6] if not cid.startswith("__")}
        whole = dict(list(whole.items())[:4])
        if sum(score >= cfg.second_threshold for score in whole.values()) < 2:
            return None  # the whole message clearly supports at most one: no second to add
        if asks_for_both(text):  # "..., hướng dẫn cả hai": the two it supports best
            two = [Match(cid, self.titles[cid], score) for cid, score in list(whole.items())[:2]]
            if two[1].score >= cfg.second_threshold:
                return MatchResult(text, "clarify", tuple(two), multi=True)
        for left, right in two_request_splits(text, cfg.list_words, cfg.two_splits):
            if self._content_words(left) < 2 or self._content_words(right) < 2:
                continue
            found: list[Match] = []
            own: list[dict[str, float]] = []
            for part in (left, right):
                part_scored = self._scored(part, allowed)
                result = self._decide(part, part_scored, limit)
                best = result.best
                if (
                    result.intent != "guide"
                    or best is None
                    or whole.get(best.id, -9.0) < cfg.second_threshold
                    or best.id in [m.id for m in found]
                ):
                    break
                found.append(Match(best.id, best.title, whole[best.id]))
                own.append({cid: score for score, cid in part_scored})
            if len(found) == 2 and all(
                scores[mine.id] - scores.get(other.id, -9.0) >= cfg.two_margin
                for scores, mine, other in zip(own, found, found[::-1], strict=True)
            ):
                # each part names its own procedure, not one the other part also fits ("tôi
                # cưới vợ người Lào, muốn đăng ký kết hôn" is one marriage, told in two clauses)
                found.sort(key=lambda m: -m.score)  # the one the whole supports more first
                return MatchResult(text, "clarify", tuple(found[:limit]), multi=True)
        return None

    # --- introspection -------------------------------------------------------------------

    def match_phrases(self, guide_id: str) -> list[str]:
        return list(self._phrases.get(guide_id, []))

    @property
    def size(self) -> tuple[int, int]:
        """(number of guides and classes, number of training phrases)."""
        return len(self.model.classes), self._n_phrases
