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
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from knowledge.clauses import (
    after_done,
    asks_for_both,
    near_clause,
    needs_paper,
    request_cuts,
    request_part,
    strip_padding,
    tells_done,
)
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
# "chồng em là người Hàn" (the lexicon makes it "người nước ngoài"): a foreigner is involved
FOREIGN_PERSON = re.compile(r"\b(?:nguoi|quoc tich) nuoc ngoai\b")
_FOREIGN = "nuoc ngoai"
_THANKS_SIGNS = frozenset("👍👌🙏❤♥💕🥰😊🤝✅")


def _is_thanks_sign(text: str) -> bool:
    """Only signs that say "thanks / ok" ("👍", "🙏🙏"); other pictographs and "???" are not."""
    signs = [ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Mn", "Cf")]
    return bool(signs) and all(ch in _THANKS_SIGNS for ch in signs)


def _own(parts: list[tuple[str, list[tuple[float, str]]]]) -> list[dict[str, float]]:
    """Each part's ranking as class id -> score."""
    return [{cid: value for value, cid in part_scored} for _, part_scored in parts]


def _score(scores: dict[str, float], cid: str) -> float:
    """A class's score in a part's ranking; one not listed scores at most the lowest listed."""
    return scores.get(cid, min(scores.values(), default=-9.0))


def _promoted(text: str, whole: MatchResult, chosen: Match) -> MatchResult:
    """The whole message's matches with `chosen` first, answered: a part of the message (the
    question after the story, the procedure before the paper it needs) decided it. It scores
    at least the whole's first, so the order shown and every lead read from it agree."""
    first = whole.matches[0].score if whole.matches else chosen.score
    lifted = dataclasses.replace(chosen, score=max(chosen.score, first))
    return MatchResult(text, "guide", (lifted, *(m for m in whole.matches if m.id != chosen.id)))


def _name_in(title: str, other: str) -> bool:
    """Whether the name of `title` (its words before a comma or bracket, three or more) is
    said in `other` ("Đăng ký khai sinh" in "Liên thông đăng ký khai sinh – ..."; not in
    "Đăng ký lại khai sinh": a lost paper re-registered is another procedure)."""
    name = " ".join(fold(re.split(r"[,;(]", title, maxsplit=1)[0]).split())
    words = " ".join(re.sub(r"[^\w\s]", " ", fold(other)).split())
    head, combined, tail = words.partition(" ket hop ")
    if combined:  # "Đăng ký khai sinh kết hợp nhận cha, mẹ, con" says "đăng ký nhận cha, ..."
        words += " | " + " ".join(head.split()[:2] + tail.split())
    return len(name.split()) >= 3 and f" {name} " in f" {words} "


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
    # ... unless the pointer leads it by this much ("công chứng hợp đồng ... ở văn phòng công
    # chứng nào": the notary's, though «Chứng thực hợp đồng» scores too)
    pointer_lead: float = 0.15
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
    two_floor: float = -0.5
    story_switch: float = 1.0


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
        # the foreign-element guides, and for each other guide those whose names hold all of its
        # name's words ("Đăng ký khai tử" -> "Đăng ký khai tử có yếu tố nước ngoài")
        words = {guide_id: set(fold(title).split()) for guide_id, title in self.titles.items()}
        self.foreign = frozenset(g for g, title in self.titles.items() if _FOREIGN in fold(title))
        self.foreign_variants: dict[str, frozenset[str]] = {}
        for guide_id in self.titles.keys() - self.foreign:
            found = frozenset(v for v in self.foreign if words[guide_id] <= words[v])
            if found:
                self.foreign_variants[guide_id] = found
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
        self,
        text: str,
        top: int | None = None,
        allowed: Collection[str] | None = None,
        outside: bool = True,
    ) -> MatchResult:
        cfg = self.config
        shown = min(top or cfg.max_matches, cfg.max_matches)
        # decided on every listed match, whatever `top`: the answer must not depend on how
        # many are shown ("X xong, giờ Y" promotes a guide that may rank below the first few)
        limit = cfg.max_matches
        if not fold(text):
            if _is_thanks_sign(text):  # "👍", "🙏": an acknowledgement, answered politely
                return MatchResult(text, "chitchat", (), chitchat="thanks")
            return MatchResult(text, "none", ())
        scored = self._scored(text, allowed)
        if not outside:
            scored = [s for s in scored if s[1] != OUT_OF_SCOPE]
        result = self._decide(text, scored, limit)
        if result.intent in ("guide", "clarify"):
            both = self._two_procedures(text, scored, allowed, limit)
            if both is not None:
                result = both
        if result.intent == "clarify" and not result.multi:
            result = self._story_request(text, result, allowed, limit) or result
        if result.intent in ("guide", "clarify") and not result.multi:
            result = self._paper_needed(text, result, allowed, limit) or result
        if result.intent == "guide" and not result.multi:
            result = self._asked_after_done(text, result, allowed, limit) or result
        if result.intent == "clarify" and not result.multi:
            result = self._foreign_told(text, result) or result
        return self._shown(dataclasses.replace(result, matches=result.matches[:shown]))

    def _foreign_told(self, text: str, result: MatchResult) -> MatchResult | None:
        """ "Which of these?" between a procedure and its foreign-element variant, asked by a
        message that tells a foreigner is involved ("bố chồng em người Hàn Quốc ... vừa mất,
        giờ khai tử thế nào"): the fact decides, the variant answers."""
        if len(result.matches) < 2:
            return None  # asked among the offered choices, one is left
        first, second = result.matches[0], result.matches[1]
        variant, plain = (first, second) if first.id in self.foreign else (second, first)
        if variant.id not in self.foreign_variants.get(plain.id, ()):
            return None  # not one procedure and its variant
        if not FOREIGN_PERSON.search(self.normalise(text)):
            return None
        rest = tuple(m for m in result.matches if m.id != variant.id)
        return MatchResult(text, "guide", (variant, *rest))

    def _paper_needed(
        self, text: str, whole: MatchResult, allowed: Collection[str] | None, limit: int
    ) -> MatchResult | None:
        """ "Làm hộ nghèo có cần giấy xác nhận khuyết tật không": the procedure named before
        the paper it may need, when it decides one alone; the paper's name (often another
        procedure's) says nothing about which. One more scoring, for that form only."""
        what = needs_paper(text)
        if what is None or self._content_words(what) < 2:
            return None
        decided = self._decide(what, self._scored(what, allowed), limit)
        best = decided.best
        offered = {m.id for m in whole.matches}
        if decided.intent != "guide" or best is None or best.id not in offered:
            return None  # (the whole message must support it too: "nhờ người khác mang ...")
        if whole.intent == "guide" and whole.best is not None and whole.best.id == best.id:
            return None
        return _promoted(text, whole, best)

    def _asked_after_done(
        self, text: str, whole: MatchResult, allowed: Collection[str] | None, limit: int
    ) -> MatchResult | None:
        """ "Em vừa sửa tên trên giấy khai sinh xong, giờ căn cước phải làm lại không": a step
        told as done is the story, the question after it is the request. The done step's words
        name its own procedure, which the citizen has finished; the question decides, when it
        names another of the close guides clearly on its own."""
        done = after_done(text)
        if done is None or not done.ends or self._content_words(done.rest) < 2:
            return None
        scored = self._scored(done.rest, allowed)
        decided = self._decide(done.rest, scored, limit)
        if decided.pointer is not None and done.failed:
            # "hòa giải không thành thì kiện ra tòa thế nào": the step taken is ours, what
            # comes next another agency's
            return dataclasses.replace(whole, intent="none", pointer=decided.pointer)
        best = decided.best
        offered = {m.id: m for m in whole.matches}
        if decided.intent != "guide" or best is None or best.id not in offered:
            return None
        first = whole.matches[0].id
        own = {cid: value for value, cid in scored}
        if best.id == first or best.score - _score(own, first) < self.config.story_switch:
            return None
        return _promoted(text, whole, offered[best.id])

    def _story_request(
        self, text: str, whole: MatchResult, allowed: Collection[str] | None, limit: int
    ) -> MatchResult | None:
        """A long story the whole message leaves between close guides, answered on the
        clauses that ask when those decide one of them ("... mảnh đất giờ chia cho em. Bước
        tiếp theo để sổ đỏ đứng tên em là gì"): the story says why, the request which. One
        more scoring, for long messages left in doubt only."""
        body = strip_padding(text) if len(text.split()) > self.config.chitchat_words else text
        request = request_part(body)
        if request is None or self._content_words(request) < self.config.request_words:
            return None
        scored = self._scored(request, allowed)
        decided = self._decide(request, scored, limit)
        best = decided.best
        if decided.intent != "guide" or best is None:
            return None
        offered = {m.id: m for m in whole.matches}
        if best.id not in offered:
            return None
        first = whole.matches[0].id
        if best.id != first:
            # away from the whole's first only when the request leaves it far behind
            own = {cid: value for value, cid in scored}
            if best.score - _score(own, first) < self.config.story_switch:
                return None
        return _promoted(text, whole, offered[best.id])

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
            if (
                top_id.startswith(POINTER)
                and guides
                and guides[0].score >= cfg.guide_over_pointer
                and top_score - guides[0].score < cfg.pointer_lead
            ):
                # "chứng thực bản sao bằng lái xe": the other agency's paper is only the object
                # of a procedure we do have, which the message names clearly
                return self._decide(
                    text, [s for s in scored if not s[1].startswith(POINTER)], limit
                )
            if top_id.startswith(POINTER) and top_score >= cfg.pointer_threshold:
                return MatchResult(
                    text, "none", tuple(guides), pointer=top_id.removeprefix(POINTER)
                )
            if top_id == OUT_OF_SCOPE:
                lead = top_score - guides[0].score if guides else top_score - cfg.clarify_threshold
                return MatchResult(text, "none", tuple(guides), outside=lead)
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
        one and the whole message supports both ("khai tử và xin hỗ trợ mai táng", "đăng ký
        kết hôn rồi chuyển hộ khẩu", two questions). One part must name its procedure
        confidently; after a joining word the other may name its own only clearly among the
        guides (a short part, "mở tiệm bán tạp hóa", is rarely confident alone). Each tried
        cut re-scores its parts, so only a plausible runner-up of the whole lets it try, and
        at most `two_splits` cuts (one when the runner-up is weak) are tried: the p99 tail of
        a province library."""
        cfg = self.config
        whole = {cid: score for score, cid in scored[:6] if not cid.startswith("__")}
        whole = dict(list(whole.items())[:4])
        supported = sorted(whole.values(), reverse=True)
        if len(supported) < 2 or supported[1] < cfg.two_floor:
            return None  # the whole message supports at most one: no second to add
        if asks_for_both(text):  # "..., hướng dẫn cả hai": the two it supports best
            two = [Match(cid, self.titles[cid], score) for cid, score in list(whole.items())[:2]]
            if two[1].score >= cfg.second_threshold:
                return MatchResult(text, "clarify", tuple(two), multi=True)
        weak = supported[1] < cfg.second_threshold
        near_tried = False
        lead_only = cfg.two_floor < cfg.second_threshold  # (two_floor >= it: both must decide)
        for left, right, joined in request_cuts(text, cfg.list_words, cfg.two_splits):
            if weak and not joined:
                continue
            if self._content_words(left) < 2 or self._content_words(right) < 2:
                continue
            if tells_done(near_clause(left, True)):
                continue  # "anh em đã ký văn bản phân chia xong, ...": the story, then its request
            if weak:
                # the runner-up can only come from a part that leads among guides: the
                # clauses next to the joining word are scored, once
                first, second = self._near(left, True), self._near(right, False)
                pair = None
                if first is not None and second is not None:
                    pair = self._pair(
                        [(c, self._scored(c, allowed)) for c in (first, second)], whole
                    )
            else:
                parts = [(part, self._scored(part, allowed)) for part in (left, right)]
                picks = [self._sure(part, part_scored, whole) for part, part_scored in parts]
                pair = self._both_sure(parts, picks, whole)
                if pair is None and joined and not near_tried and lead_only:
                    near_tried = True  # (one more scoring at most per message)
                    near = [self._near(left, True), self._near(right, False)]
                    pair = self._weak_beside_sure(parts, picks, near, whole, allowed)
            if pair is not None:
                pair.sort(key=lambda m: -m.score)  # the one the whole supports more first
                return MatchResult(text, "clarify", tuple(pair[:limit]), multi=True)
            if weak:
                break
        return None

    def _near(self, part: str, left: bool) -> str | None:
        """The clause of a part next to the joining word (the part itself when that clause
        is too short to name anything); None when it tells a step already taken."""
        near = near_clause(part, left)
        near = near if self._content_words(near) >= 2 else part
        return None if tells_done(near) else near

    def _sure(
        self, part: str, part_scored: list[tuple[float, str]], whole: dict[str, float]
    ) -> str | None:
        """The guide a part decides, when the whole message supports it too."""
        best = self._decide(part, part_scored, self.config.max_matches)
        if best.intent != "guide" or best.best is None:
            return None
        return (
            best.best.id if whole.get(best.best.id, -9.0) >= self.config.second_threshold else None
        )

    def _both_sure(
        self,
        parts: list[tuple[str, list[tuple[float, str]]]],
        picks: list[str | None],
        whole: dict[str, float],
    ) -> list[Match] | None:
        """Both parts decide a guide (`picks`: what each decides), each its own: not one the
        other part also fits ("tôi cưới vợ người Lào, muốn đăng ký kết hôn" is one marriage,
        told in two clauses)."""
        first, second = picks
        if first is None or second is None or first == second:
            return None
        if self._one_procedure(first, second):
            return None
        own = _own(parts)
        named = (first, second)
        if all(
            _score(own[side], named[side]) - _score(own[side], named[1 - side])
            >= self.config.two_margin
            for side in (0, 1)
        ):
            return [Match(cid, self.titles[cid], whole[cid]) for cid in (first, second)]
        return None

    def _weak_beside_sure(
        self,
        parts: list[tuple[str, list[tuple[float, str]]]],
        picks: list[str | None],
        near: list[str | None],
        whole: dict[str, float],
        allowed: Collection[str] | None,
    ) -> list[Match] | None:
        """One part decides a guide; the other part's clause next to the joining word names
        another ("mẹ đơn thân nuôi con, muốn xin công nhận hộ nghèo và xin trợ cấp nuôi con":
        the story pulls both parts to the allowance, the clause names the poor household).
        Of two parts deciding the same guide, the one it convinces less is the other."""
        own = _own(parts)
        if picks[0] is None and picks[1] is None:
            return None
        side = 0 if picks[1] is None else 1 if picks[0] is None else 0
        if picks[0] is not None and picks[0] == picks[1]:
            side = 0 if _score(own[0], picks[0]) >= _score(own[1], picks[0]) else 1
        elif picks[0] is not None and picks[1] is not None:
            # two different guides, one part also fitting the other's: that part is the
            # other, when its own clause says more ("..., muốn xin xét hộ cận nghèo")
            named = (picks[0], picks[1])
            leads = [
                _score(own[i], named[i]) - _score(own[i], named[1 - i]) >= self.config.two_margin
                for i in (0, 1)
            ]
            if leads[0] == leads[1]:
                return None
            side = 0 if leads[0] else 1
        other = 1 - side
        part, part_scored = parts[other]
        clause = near[other]
        if clause is None:
            return None  # "mua đất xong ký hợp đồng rồi, ...": a step taken, not a request
        if clause != part:
            part_scored = self._scored(clause, allowed)
        return self._pair([parts[side], (clause, part_scored)], whole, sure_side=side)

    def _pair(
        self,
        parts: list[tuple[str, list[tuple[float, str]]]],
        whole: dict[str, float],
        sure_side: int | None = None,
    ) -> list[Match] | None:
        """Two guides when one part decides a guide (the whole's best, unless `sure_side`
        says which part already did) and the other names another clearly among the guides,
        scoring it higher than the first part does (its own words name it, not the story
        both parts share). Never a guide and its combined or repeated form."""
        cfg = self.config
        own = _own(parts)
        sides = (0, 1) if sure_side is None else (sure_side,)
        for side in sides:
            part, part_scored = parts[side]
            sure = self._sure(part, part_scored, whole)
            if sure is None:
                continue
            other = 1 - side
            second = self._clear_guide(parts[other][1], sure, whole)
            if (
                second is not None
                and not self._one_procedure(sure, second)
                and whole.get(second, -9.0) >= cfg.two_floor
                and _score(own[other], second) - _score(own[side], second) >= cfg.two_margin
            ):
                return [Match(cid, self.titles[cid], whole[cid]) for cid in (sure, second)]
        return None

    def _one_procedure(self, first: str, second: str) -> bool:
        """Whether one guide's title holds the other's name: the combined or repeated form of
        it ("Liên thông đăng ký khai sinh – đăng ký thường trú – ..." holds "Đăng ký thường
        trú", "Đăng ký lại khai tử" holds "Đăng ký khai tử"). A message naming both asks for
        that one procedure, not for two."""
        a, b = (self.titles[first], self.titles[second])
        return _name_in(a, b) or _name_in(b, a)

    def _clear_guide(
        self, part_scored: list[tuple[float, str]], sure: str, whole: dict[str, float]
    ) -> str | None:
        """The guide a clause names beside `sure`, the other part's: its best guide when that
        is not `sure`, scores at least the answering threshold and leads the next by the
        answering margin, or is the only one of its close guides the whole message supports
        ("xin trợ cấp hàng tháng luôn" after a disability story). None when the clause asks
        for a person or another agency more than for any guide."""
        cfg = self.config
        guides: list[tuple[float, str]] = []
        for value, cid in part_scored:
            if cid.startswith("__"):
                if not guides and (cid == HANDOFF or cid.startswith(POINTER)):
                    return None  # "... và gặp cán bộ", "... và ly hôn": not a guide of ours
                continue
            guides.append((value, cid))
        if not guides or guides[0][1] == sure or guides[0][0] < cfg.guide_threshold:
            return None
        runner_up = guides[1][0] if len(guides) > 1 else -9.0
        if guides[0][0] - runner_up >= cfg.margin:
            return guides[0][1]
        close = [c for v, c in guides if guides[0][0] - v <= cfg.clarify_window]
        backed = [c for c in close if whole.get(c, -9.0) >= cfg.second_threshold]
        return backed[0] if len(backed) == 1 and backed[0] != sure else None

    # --- introspection -------------------------------------------------------------------

    def match_phrases(self, guide_id: str) -> list[str]:
        return list(self._phrases.get(guide_id, []))

    @property
    def size(self) -> tuple[int, int]:
        """(number of guides and classes, number of training phrases)."""
        return len(self.model.classes), self._n_phrases
