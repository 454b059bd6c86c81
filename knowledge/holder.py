"""Keeps the Library that serves today: rebuilt when the date changes or files are reloaded.

The matcher is trained when files are (re)loaded, over every dated version; a new day only
filters which guides it may answer with, so nothing is trained on the request path.

A reload that does not validate keeps the previous library serving, so an editor's typo never
takes the bot down or empties an answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from knowledge.library import Library, build_matcher
from knowledge.loader import KnowledgeBase, Problem, load_knowledge
from knowledge.matcher import Matcher, MatcherConfig


class LibraryHolder:
    def __init__(
        self,
        root: Path,
        today: Callable[[], dt.date],
        config: MatcherConfig | None = None,
        overrides: Path | None = None,
        commune: str | None = None,
    ) -> None:
        self._root = root
        self._overrides = overrides
        self._commune = commune
        self._today = today
        self._config = config
        self._kb: KnowledgeBase | None = None
        self._library: Library | None = None
        self._matcher: Matcher | None = None
        self._fingerprint = self.fingerprint()
        self.last_problems: list[Problem] = []

    @property
    def root(self) -> Path:
        return self._root

    @property
    def commune(self) -> str | None:
        """The commune served from a province library (None: a single commune's own library)."""
        return self._commune

    @property
    def overrides(self) -> Path | None:
        """The commune's overrides folder layered over `root` (the province), if any."""
        return self._overrides

    @property
    def knowledge(self) -> KnowledgeBase:
        self.current()
        assert self._kb is not None
        return self._kb

    def fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        """Names, sizes and modification times of every YAML file: cheap to poll."""
        items = []
        roots = [self._root] if self._overrides is None else [self._root, self._overrides]
        for path in sorted({p for root in roots for p in root.rglob("*.yaml")}):
            try:
                stat = path.stat()
            except OSError:
                continue
            items.append((str(path), stat.st_size, stat.st_mtime_ns))
        return tuple(items)

    def reload_if_changed(self) -> tuple[bool, list[Problem]] | None:
        """Reload when a file was edited, added or removed; None when nothing changed."""
        current = self.fingerprint()
        if current == self._fingerprint:
            return None
        self._fingerprint = current
        return self.load()

    def load(self) -> tuple[bool, list[Problem]]:
        """(Re)read the files. On errors keep what was serving. Returns (loaded, problems)."""
        self._fingerprint = self.fingerprint()
        result = load_knowledge(self._root, self._overrides, self._commune)
        if result.knowledge is None or result.errors:
            self.last_problems = result.errors or result.problems
            return False, self.last_problems
        # Train here, on load or reload, never on a citizen's message (nor after midnight).
        self._matcher = build_matcher(result.knowledge, self._config)
        self._kb = result.knowledge
        self._library = None
        self.last_problems = result.problems
        return True, result.problems

    def current(self) -> Library:
        if self._kb is None:
            _, problems = self.load()
            if self._kb is None:
                from knowledge.library import KnowledgeError

                raise KnowledgeError(problems)
        day = self._today()
        if self._library is None or self._library.day != day:
            self._library = Library(self._kb, day, self._config, self._matcher)
        return self._library


class SharedLibraries:
    """One holder per distinct set of layers, so communes that serve the same guides share one
    built library and matcher (a build takes seconds and tens of MB): the province library
    alone is built once for every commune without overrides; a commune with an overrides
    folder gets its own."""

    def __init__(self) -> None:
        self._holders: dict[tuple[Path, Path | None, str | None], LibraryHolder] = {}
        self.builds = 0

    def holder(
        self,
        root: Path,
        today: Callable[[], dt.date],
        overrides: Path | None = None,
        commune: str | None = None,
    ) -> LibraryHolder:
        """The holder for these layers (`today` and the commune name only matter for a new one;
        the commune names the layer in problems only when it has overrides)."""
        key = (
            root.resolve(),
            overrides.resolve() if overrides else None,
            commune if overrides else None,
        )
        found = self._holders.get(key)
        if found is None:
            found = self._holders[key] = LibraryHolder(
                root, today, overrides=overrides, commune=commune
            )
            self.builds += 1
        return found
