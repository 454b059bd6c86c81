"""Desk and outbox for the two local channels (console and simulation): they print."""

from __future__ import annotations

from collections.abc import Callable

from bot.delivery import Outcome
from flows.models import ConversationKey, Reply, StaffNotice
from flows.notices import render
from flows.ports import Outbox, OutboxItem, StaffDesk

Sink = Callable[[str, ConversationKey | None, Reply], None]


class LocalDesk(StaffDesk):
    """Staff notices go to a sink as ('staff', key, reply)."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self.notices: list[StaffNotice] = []

    async def post(self, notice: StaffNotice) -> None:
        self.notices.append(notice)
        self._sink("staff", notice.key, render(notice))


class LocalOutbox(Outbox):
    """Replies to citizens outside a turn (staff answers) go to the same sink."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self.unreachable: set[ConversationKey] = set()

    async def send(self, key: ConversationKey, reply: Reply) -> bool:
        if key in self.unreachable:
            return False
        self._sink("citizen", key, reply)
        return True


class LogDesk(StaffDesk):
    """Used when no staff desk is configured: the log says a notice was due (not its text,
    which may hold what a citizen wrote), so nothing is silently lost."""

    async def post(self, notice: StaffNotice) -> None:
        import logging

        logging.getLogger(__name__).warning(
            "no staff desk configured; a %s notice for %s was not posted", notice.kind, notice.key
        )

    async def attempt(self, item: OutboxItem) -> Outcome:
        if item.outgoing.notice is not None:
            await self.post(item.outgoing.notice)
        return Outcome("sent")
