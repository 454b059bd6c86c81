"""`python -m knowledge bench`: accuracy, latency and memory, ours against a plain baseline.

The baseline is what a first attempt usually is: rapidfuzz WRatio over every phrase, lowercase
only. Both are measured on the same questions, with the bundled guides and with the bundled
guides plus N generated ones (a province-wide library), in one run.
"""

from __future__ import annotations

import gc
import random
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

from rapidfuzz import fuzz, process

from knowledge.evaluate import Report, evaluate, read_questions
from knowledge.library import load_library
from knowledge.matcher import Match, Matcher, MatchResult
from knowledge.normalize import tokens
from knowledge.schema import Guide, Lexicon

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
QUESTIONS = DATA / "questions.tsv"
HOLDOUT = DATA / "questions_holdout.tsv"  # written independently, never used for tuning
_TEMPLATES = (
    "{t}",
    "thủ tục {t}",
    "làm {t} cần giấy tờ gì",
    "{t} mất bao lâu",
    "đăng ký {t} ở đâu",
    "lệ phí {t} bao nhiêu",
    "nộp hồ sơ {t} trực tuyến",
    "hướng dẫn {t}",
    "xin {t} cần mang gì",
    "cho hỏi {t} làm thế nào",
    "lam {t} o dau",
)


def generated_guides(real: Sequence[Guide], count: int, seed: int = 7) -> list[Guide]:
    """`count` synthetic guides whose phrases share vocabulary and templates with the real ones."""
    rng = random.Random(seed)
    pool = sorted(
        {
            t.plain
            for g in real
            for text in (g.summary, g.who, *g.steps.in_person)
            for t in tokens(text)
        }
        | {w for g in real for p in g.phrases for w in p.lower().split()}
    )
    words = [w for w in pool if w.isalpha() and len(w) >= 2]
    made = []
    for index in range(count):
        template = real[index % len(real)]
        topic = " ".join(rng.sample(words, rng.randint(2, 3)))
        phrases = [t.format(t=topic) for t in _TEMPLATES]
        phrases += [f"{p} {topic}" for p in rng.sample(template.aliases or [template.title], 1)]
        made.append(
            template.model_copy(
                update={
                    "id": f"gen-{index:04d}",
                    "title": topic.capitalize(),
                    "aliases": phrases[:3],
                    "examples": phrases[3:],
                    "faq": [],
                }
            )
        )
    return made


class Baseline:
    """rapidfuzz WRatio over all phrases, lowercase only; thresholds like a first attempt."""

    def __init__(self, guides: Sequence[Guide], lexicon: Lexicon) -> None:
        self.phrases: list[str] = []
        self.owner: list[Guide] = []
        for guide in guides:
            for phrase in [*guide.phrases, *(f.q for f in guide.faq)]:
                self.phrases.append(phrase.lower())
                self.owner.append(guide)
        self.handoff = [p.lower() for p in lexicon.handoff]

    def match(self, text: str) -> MatchResult:
        query = text.lower()
        found = process.extract(query, self.phrases, scorer=fuzz.WRatio, limit=20)
        seen: dict[str, Match] = {}
        for _, score, index in found:
            guide = self.owner[index]
            if guide.id not in seen:
                seen[guide.id] = Match(guide.id, guide.title, score / 100)
        matches = tuple(list(seen.values())[:5])
        hand = process.extractOne(query, self.handoff, scorer=fuzz.WRatio)
        if hand and hand[1] >= 90 and (not matches or hand[1] / 100 >= matches[0].score):
            return MatchResult(text, "handoff", matches)
        if not matches or matches[0].score < 0.6:
            return MatchResult(text, "none", matches)
        return MatchResult(text, "guide" if matches[0].score >= 0.8 else "clarify", matches)


def _latency(match: Callable[[str], object], queries: Sequence[str]) -> tuple[float, float]:
    samples = []
    for query in queries:
        start = time.perf_counter()
        match(query)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return statistics.median(samples), p99


def _build(factory: Callable[[], object]) -> tuple[object, float, float]:
    """Build time untraced (tracemalloc slows Python down several times), then peak memory."""
    gc.collect()
    start = time.perf_counter()
    built = factory()
    seconds = time.perf_counter() - start
    del built
    gc.collect()
    tracemalloc.start()
    built = factory()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return built, seconds, peak / 2**20


def _print_report(name: str, report: Report) -> None:
    print(f"  {name}:")
    for line in report.lines():
        print(f"    {line}")


def run_bench(guides: int = 2000, queries: int = 2000) -> int:
    library = load_library()
    real = list(library.guides.values())
    lexicon = library.kb.lexicon
    items = read_questions(QUESTIONS)
    texts = [item.text for item in items]
    rng = random.Random(11)
    print(f"questions: {len(items)} from {QUESTIONS.name}; guides bundled: {len(real)}")

    ours = library.matcher
    base_small = Baseline(real, lexicon)
    print("\n== accuracy, bundled guides")
    _print_report("ours", evaluate(items, ours.match))
    _print_report("baseline (WRatio, lowercase)", evaluate(items, base_small.match))
    if HOLDOUT.exists():
        held = read_questions(HOLDOUT)
        print(f"\n== accuracy, held-out set ({len(held)} questions, never used for tuning)")
        _print_report("ours", evaluate(held, ours.match))
        _print_report("baseline (WRatio, lowercase)", evaluate(held, base_small.match))

    timed = [rng.choice(texts) for _ in range(queries)]
    p50, p99 = _latency(ours.match, timed)
    b50, b99 = _latency(base_small.match, timed[: max(200, queries // 5)])
    print("\n== latency, bundled guides (ms)")
    print(f"  ours      p50 {p50:7.3f}  p99 {p99:7.3f}")
    print(f"  baseline  p50 {b50:7.3f}  p99 {b99:7.3f}")

    big = real + generated_guides(real, guides)
    matcher, build_s, build_mb = _build(lambda: Matcher(big, lexicon))
    assert isinstance(matcher, Matcher)
    baseline, base_s, base_mb = _build(lambda: Baseline(big, lexicon))
    assert isinstance(baseline, Baseline)
    generated_questions = [
        f"{rng.choice(('lam', 'thủ tục', 'cho hỏi', 'xin'))} {g.title.lower()} {rng.choice(('o dau', 'bao lâu', 'cần gì'))}"
        for g in big[len(real) :][: queries // 4]
    ]
    mixed = timed + generated_questions
    rng.shuffle(mixed)
    print(f"\n== {len(big)} guides ({guides} generated), {matcher.size[1]} phrases indexed")
    print(
        f"  index build: ours {build_s:.2f} s, {build_mb:.1f} MiB peak traced; "
        f"baseline {base_s:.2f} s, {base_mb:.1f} MiB"
    )
    _print_report("ours", evaluate(items, matcher.match))
    _print_report("baseline", evaluate(items, baseline.match))
    p50, p99 = _latency(matcher.match, mixed)
    b50, b99 = _latency(baseline.match, mixed[: max(100, len(mixed) // 10)])
    print(f"  latency ours      p50 {p50:7.3f} ms  p99 {p99:7.3f} ms  ({len(mixed)} queries)")
    print(f"  latency baseline  p50 {b50:7.3f} ms  p99 {b99:7.3f} ms")
    print(f"  speed-up at p99: {b99 / p99:5.1f}x, at p50: {b50 / p50:5.1f}x")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process: {rss:.0f} MiB")
    target = p99 < 5.0 and b99 / p99 >= 10
    print(
        f"targets (p99 < 5 ms at {len(big)} guides, >= 10x baseline): {'met' if target else 'NOT met'}"
    )
    return 0
