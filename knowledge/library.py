"""The guides that serve on one day, with their matcher: what the conversation layer reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from knowledge.loader import DEFAULT_DIR, KnowledgeBase, Problem, load_knowledge
from knowledge.matcher import Matcher, MatcherConfig, MatchResult
from knowledge.placeholders import fill
from knowledge.schema import Guide
from knowledge.timezone import VN_TZ as VN_TZ

T = TypeVar("T")
MEMO_LIMIT = 4096


class KnowledgeError(Exception):
    """The knowledge directory does not validate; `problems` says where."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the knowledge directory")
        self.problems = problems


def build_matcher(kb: KnowledgeBase, config: MatcherConfig | None = None) -> Matcher:
    """Train over every dated version of every guide, so one model serves every day."""
    return Matcher(kb.guides, kb.lexicon, config)


class Library:
    """The guides serving on `day`. The matcher is shared between days; pass the one built at
    load time (see `LibraryHolder`) so a new day never trains a model on the request path."""

    def __init__(
        self,
        kb: KnowledgeBase,
        day: dt.date,
        config: MatcherConfig | None = None,
        matcher: Matcher | None = None,
    ) -> None:
        self.kb = kb
        self.day = day
        self.guides: dict[str, Guide] = {g.id: g for g in kb.active(day)}
        self.matcher = matcher or build_matcher(kb, config)
        self._allowed = frozenset(self.guides)
        self._memo: dict[Hashable, Any] = {}

    def guide(self, guide_id: str) -> Guide | None:
        return self.guides.get(guide_id)

    def match(self, text: str, top: int | None = None, outside: bool = True) -> MatchResult:
        return self.matcher.match(text, top, self._allowed, outside)

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """A text computed from this library's guides alone (a card rendered for a budget),
        made once: the library is immutable, and a reload or a new day builds a new one, so
        nothing kept here outlives what it was made from. Never for a citizen's words."""
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        made = make()
        if len(self._memo) >= MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = made
        return made

    def fill(self, text: str) -> str:
        return fill(text, self.kb.office)

    def by_field(self, field_id: str) -> list[Guide]:
        """In the order fields.yaml gives (the most asked first), then the rest by title."""
        order = next((f.guides for f in self.kb.fields.fields if f.id == field_id), [])
        rank = {gid: i for i, gid in enumerate(order)}
        found = [g for g in self.guides.values() if g.field == field_id]
        return sorted(found, key=lambda g: (rank.get(g.id, len(rank)), g.title))


def load_library(
    root: Path = DEFAULT_DIR, day: dt.date | None = None, config: MatcherConfig | None = None
) -> Library:
    """Load and validate; raise KnowledgeError listing every error (warnings are tolerated)."""
    result = load_knowledge(root)
    if result.knowledge is None or result.errors:
        raise KnowledgeError(result.errors)
    return Library(result.knowledge, day or today(), config)


def today() -> dt.date:
    """Today in Vietnam, whatever the server's zone."""
    return dt.datetime.now(VN_TZ).date()
