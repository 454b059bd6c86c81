"""Keeps the Library that serves today: rebuilt when the date changes or files are reloaded.

A reload that does not validate keeps the previous library serving, so an editor's typo never
takes the bot down or empties an answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from knowledge.library import Library
from knowledge.loader import KnowledgeBase, Problem, load_knowledge
from knowledge.matcher import MatcherConfig


class LibraryHolder:
    def __init__(
        self,
        root: Path,
        today: Callable[[], dt.date],
        config: MatcherConfig | None = None,
    ) -> None:
        self._root = root
        self._today = today
        self._config = config
        self._kb: KnowledgeBase | None = None
        self._library: Library | None = None

    @property
    def root(self) -> Path:
        return self._root

    @property
    def knowledge(self) -> KnowledgeBase:
        self.current()
        assert self._kb is not None
        return self._kb

    def load(self) -> tuple[bool, list[Problem]]:
        """(Re)read the files. On errors keep what was serving. Returns (loaded, problems)."""
        result = load_knowledge(self._root)
        if result.knowledge is None or result.errors:
            return False, result.errors or result.problems
        self._kb = result.knowledge
        self._library = None
        return True, result.problems

    def current(self) -> Library:
        if self._kb is None:
            _, problems = self.load()
            if self._kb is None:
                from knowledge.library import KnowledgeError

                raise KnowledgeError(problems)
        day = self._today()
        if self._library is None or self._library.day != day:
            self._library = Library(self._kb, day, self._config)
        return self._library
