"""What editors need to keep guides current: stale reviews, ending versions, unmatched questions.

Used by the CLI and by editor commands in Telegram, so both give the same answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from knowledge.loader import KnowledgeBase
from knowledge.normalize import fold

# Events that mean "the assistant did not help": a miss, a rejected clarification, a 👎 reason,
# and a pointer to another agency (a procedure the library has no guide for).
UNMATCHED_EVENTS = ("fallback", "clarify_rejected", "rating_reason", "pointer", "outside")
SIMILAR = 75  # token-set similarity (0-100) for two questions to count as one row


@dataclass(frozen=True)
class StaleItem:
    id: str
    title: str
    reviewed_on: dt.date
    age_days: int
    reason: str


def stale_guides(
    kb: KnowledgeBase, today: dt.date, days: int | None = None, ending_within: int = 30
) -> list[StaleItem]:
    """Guides not reviewed for `days` (default from office.yaml), and versions ending soon."""
    limit = days if days is not None else kb.office.stale_after_days
    items = []
    for guide in kb.guides:
        age = (today - guide.reviewed_on).days
        if age > limit:
            items.append(
                StaleItem(guide.id, guide.title, guide.reviewed_on, age, f"chưa rà soát {age} ngày")
            )
        elif guide.effective_to and 0 <= (guide.effective_to - today).days <= ending_within:
            left = (guide.effective_to - today).days
            items.append(
                StaleItem(
                    guide.id,
                    guide.title,
                    guide.reviewed_on,
                    age,
                    f"hết hiệu lực sau {left} ngày ({guide.effective_to})",
                )
            )
    return sorted(items, key=lambda i: -i.age_days)


@dataclass
class QuestionGroup:
    representative: str
    count: int = 0
    examples: list[str] = field(default_factory=list)


def group_questions(questions: Iterable[str], max_examples: int = 3) -> list[QuestionGroup]:
    """Fifty ways of asking one thing become one row with a count, most frequent first."""
    groups: list[tuple[str, QuestionGroup]] = []
    for question in questions:
        key = fold(question)
        if not key:
            continue
        for folded, group in groups:
            if fuzz.token_set_ratio(key, folded) >= SIMILAR:
                group.count += 1
                if question not in group.examples and len(group.examples) < max_examples:
                    group.examples.append(question)
                break
        else:
            groups.append((key, QuestionGroup(question, 1, [question])))
    return sorted((g for _, g in groups), key=lambda g: -g.count)
