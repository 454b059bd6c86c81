"""Accuracy of a matcher on a labelled question set (`label<TAB>question` lines).

Labels are guide ids (`a|b` accepts either), `none` for out-of-scope and `handoff` for requests
for a person. Shared by the accuracy test and the benchmark so both measure the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.matcher import MatchResult

NONE = "none"
HANDOFF = "handoff"


@dataclass(frozen=True)
class Labelled:
    labels: frozenset[str]
    text: str
    line: int

    @property
    def kind(self) -> str:
        if self.labels == {NONE}:
            return NONE
        if self.labels == {HANDOFF}:
            return HANDOFF
        return "guide"


def read_questions(path: Path) -> list[Labelled]:
    items = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        label, _, text = raw.partition("\t")
        items.append(Labelled(frozenset(label.strip().split("|")), text.strip(), number))
    return items


@dataclass
class Report:
    in_scope: int = 0
    top1: int = 0
    confident_wrong: int = 0
    clarified: int = 0
    out_of_scope: int = 0
    oos_rejected: int = 0
    oos_answered: int = 0
    handoff: int = 0
    handoff_found: int = 0
    failures: list[tuple[Labelled, MatchResult]] = field(default_factory=list)

    @property
    def top1_accuracy(self) -> float:
        return self.top1 / self.in_scope if self.in_scope else 0.0

    @property
    def confident_wrong_rate(self) -> float:
        return self.confident_wrong / self.in_scope if self.in_scope else 0.0

    @property
    def oos_rejection(self) -> float:
        return self.oos_rejected / self.out_of_scope if self.out_of_scope else 1.0

    @property
    def handoff_recall(self) -> float:
        return self.handoff_found / self.handoff if self.handoff else 1.0

    def lines(self) -> list[str]:
        return [
            f"top-1 accuracy        {self.top1_accuracy:7.2%}  ({self.top1}/{self.in_scope} in scope)",
            f"confident wrong       {self.confident_wrong_rate:7.2%}  ({self.confident_wrong})",
            f"clarified (in scope)  {self.clarified / max(self.in_scope, 1):7.2%}  ({self.clarified})",
            f"out-of-scope rejected {self.oos_rejection:7.2%}  "
            f"({self.oos_rejected}/{self.out_of_scope}; answered with a guide: {self.oos_answered})",
            f"handoff recognised    {self.handoff_recall:7.2%}  ({self.handoff_found}/{self.handoff})",
        ]


def evaluate(items: Iterable[Labelled], match: Callable[[str], MatchResult]) -> Report:
    report = Report()
    for item in items:
        result = match(item.text)
        best = result.best.id if result.best else None
        ok: bool
        if item.kind == NONE:
            report.out_of_scope += 1
            ok = result.intent in ("none", "handoff")
            report.oos_rejected += ok
            report.oos_answered += result.intent == "guide"
        elif item.kind == HANDOFF:
            report.handoff += 1
            ok = result.intent == "handoff"
            report.handoff_found += ok
        else:
            report.in_scope += 1
            answered = result.intent in ("guide", "clarify")
            ok = answered and best in item.labels
            report.top1 += ok
            report.clarified += ok and result.intent == "clarify"
            report.confident_wrong += result.intent == "guide" and best not in item.labels
        if not ok:
            report.failures.append((item, result))
    return report
