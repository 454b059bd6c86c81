"""The editor's and dashboard's only reads from the bot's storage, in one adapter.

12a is splitting the storage into repositories; keeping every call here means one place to
change. The pages depend on the `EditorData` interface, not on a storage class.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable

from bot.report.figures import compute_report
from bot.report.load import load_data
from bot.report.model import ServiceReport
from flows.ports import Storage
from knowledge.loader import KnowledgeBase
from knowledge.maintenance import UNMATCHED_EVENTS


class EditorData(abc.ABC):
    @abc.abstractmethod
    async def unanswered(self, commune: str, since: dt.datetime) -> list[str]:
        """Questions the assistant could not answer since `since` (masked as stored)."""

    @abc.abstractmethod
    async def report(
        self, commune: str, kb: KnowledgeBase, start: dt.date, end: dt.date
    ) -> ServiceReport:
        """The service report for the period, both ends inclusive."""


class StoreEditorData(EditorData):
    """Over each commune's view of the bot's database (`stores`: None for an unknown one)."""

    def __init__(self, stores: Callable[[str], Storage | None]) -> None:
        self._stores = stores

    def _of(self, commune: str) -> Storage:
        store = self._stores(commune)
        if store is None:
            raise LookupError(commune)
        return store

    async def unanswered(self, commune: str, since: dt.datetime) -> list[str]:
        return [
            str(event.data.get("query") or event.data.get("reason") or "")
            for _, event in await self._of(commune).events.between(since, None)
            if event.kind in UNMATCHED_EVENTS
        ]

    async def report(
        self, commune: str, kb: KnowledgeBase, start: dt.date, end: dt.date
    ) -> ServiceReport:
        from bot.report.cli import guide_titles

        data = await load_data(self._of(commune), start, end)
        return compute_report(
            data.events,
            data.handoffs,
            data.conversations,
            data.feedback,
            data.ratings,
            kb.office,
            guide_titles(kb, end),
            start,
            end,
        )
