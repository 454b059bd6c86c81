"""Accuracy of a matcher on a labelled question set (`label<TAB>question` lines).

Labels are guide ids (`a|b` accepts either, `a+b` needs both offered), `none` for out-of-scope,
`handoff` for requests for a person and `chitchat` for greetings and thanks. The independent gate
set has a second column, the kind of question (`label<TAB>kind<TAB>question`). Shared by the accuracy test and the benchmark so both measure the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.matcher import MatchResult

NONE = "none"
HANDOFF = "handoff"
CHITCHAT = "chitchat"
SPECIAL = frozenset({NONE, HANDOFF, CHITCHAT})


@dataclass(frozen=True)
class Labelled:
    labels: frozenset[str]
    text: str
    line: int
    group: str = ""
    both: bool = False  # `a+b`: every label must be offered

    @property
    def kind(self) -> str:
        if self.labels == {NONE}:
            return NONE
        if self.labels == {HANDOFF}:
            return HANDOFF
        if self.labels == {CHITCHAT}:
            return CHITCHAT
        return "guide"


def read_questions(path: Path) -> list[Labelled]:
    items = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        fields = raw.split("\t")
        if len(fields) < 2:
            continue
        label, text = fields[0].strip(), fields[-1].strip()
        group = fields[1].strip() if len(fields) >= 3 else ""
        both = "+" in label
        labels = frozenset(label.split("+") if both else label.split("|"))
        items.append(Labelled(labels, text, number, group, both))
    return items


def half(items: list[Labelled], part: str | None) -> list[Labelled]:
    """A fixed half of a set in file order: "A" the 1st, 3rd, ... question, "B" the others
    (look at one half item by item, check on the other); None all."""
    if part is None:
        return items
    return items[0::2] if part == "A" else items[1::2]


def by_kind(items: Iterable[Labelled]) -> dict[str, list[Labelled]]:
    """The items of a set with a kind column, by kind (rambling, teencode, ...)."""
    kinds: dict[str, list[Labelled]] = {}
    for item in items:
        if item.group:
            kinds.setdefault(item.group, []).append(item)
    return dict(sorted(kinds.items()))


def measurable(items: Iterable[Labelled], known: Collection[str]) -> tuple[list[Labelled], int]:
    """The items whose guide labels all exist in this library, and how many were skipped (the
    gate set names guides that are still being written)."""
    kept, skipped = [], 0
    for item in items:
        if item.labels <= SPECIAL or all(label in known for label in item.labels):
            kept.append(item)
        elif item.both or not any(label in known for label in item.labels):
            skipped += 1
        else:  # `a|b` where only one exists: the one that exists is still right
            kept.append(
                Labelled(
                    frozenset(x for x in item.labels if x in known),
                    item.text,
                    item.line,
                    item.group,
                )
            )
    return kept, skipped


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
    chitchat: int = 0
    chitchat_found: int = 0
    skipped: int = 0
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
            f"top-1 answered direct {self.direct_accuracy:7.2%}  "
            f"({self.top1 - self.clarified}/{self.in_scope} in scope)",
            f"top-1 incl. clarify   {self.top1_accuracy:7.2%}  ({self.top1}/{self.in_scope})",
            f"confident wrong       {self.confident_wrong_rate:7.2%}  ({self.confident_wrong})",
            f"clarified (in scope)  {self.clarified / max(self.in_scope, 1):7.2%}  ({self.clarified})",
            f"out-of-scope rejected {self.oos_rejection:7.2%}  "
            f"({self.oos_rejected}/{self.out_of_scope}; answered with a guide: {self.oos_answered})",
            f"handoff recognised    {self.handoff_recall:7.2%}  ({self.handoff_found}/{self.handoff})",
            f"chitchat recognised   {self.chitchat_found / max(self.chitchat, 1):7.2%}  "
            f"({self.chitchat_found}/{self.chitchat})",
        ]

    def brief(self) -> str:
        """One short figure for a kind: direct / top-1 in scope (or found / asked for the
        special kinds), confident wrong and the item count."""
        if self.in_scope:
            return (
                f"{self.direct_accuracy:.0%}/{self.top1_accuracy:.0%}"
                f"{f' cw{self.confident_wrong}' if self.confident_wrong else ''}"
            )
        found = self.oos_rejected + self.handoff_found + self.chitchat_found
        asked = self.out_of_scope + self.handoff + self.chitchat
        answered = f" ans{self.oos_answered}" if self.oos_answered else ""
        return f"{found}/{asked}{answered}"

    @property
    def direct_accuracy(self) -> float:
        """Right guide answered at once (no "which of these?")."""
        return (self.top1 - self.clarified) / self.in_scope if self.in_scope else 0.0


def evaluate(items: Iterable[Labelled], match: Callable[[str], MatchResult]) -> Report:
    report = Report()
    for item in items:
        result = match(item.text)
        best = result.best.id if result.best else None
        ok: bool
        offered = [m.id for m in result.matches[:4]] if result.intent == "clarify" else [best]
        if item.kind == NONE:
            report.out_of_scope += 1
            ok = result.intent in ("none", "handoff", "chitchat")
            report.oos_rejected += ok
            report.oos_answered += result.intent == "guide"
        elif item.kind == HANDOFF:
            report.handoff += 1
            ok = result.intent == "handoff"
            report.handoff_found += ok
        elif item.kind == CHITCHAT:
            report.chitchat += 1
            ok = result.intent == "chitchat"
            report.chitchat_found += ok
        elif item.both:
            report.in_scope += 1
            ok = result.intent in ("guide", "clarify") and item.labels <= set(offered)
            report.top1 += ok
            report.confident_wrong += result.intent == "guide" and best not in item.labels
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
