"""One notice to several desks: the Telegram group and a web inbox both see every handoff.

The first desk is the outbox transport of record: its outcome decides whether the entry is sent,
retried or failed. The others get the notice once, on the first attempt (a retry of the first
desk never posts twice elsewhere); a failure there is logged and does not hold the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.delivery import Outcome
from flows.models import StaffNotice
from flows.ports import OutboxItem, StaffDesk

log = logging.getLogger(__name__)


class FanOutDesk(StaffDesk):
    def __init__(self, primary: StaffDesk, others: Sequence[StaffDesk]) -> None:
        self._primary = primary
        self._others = list(others)

    async def post(self, notice: StaffNotice) -> None:
        await self._primary.post(notice)
        await self._copies(notice)

    async def attempt(self, item: OutboxItem) -> Outcome:
        notice = item.outgoing.notice
        attempt = getattr(self._primary, "attempt", None)  # a Transport (bot.delivery)
        if attempt is not None:
            outcome: Outcome = await attempt(item)
        else:
            if notice is not None:
                await self._primary.post(notice)
            outcome = Outcome("sent")
        if notice is not None and item.attempts == 0:
            await self._copies(notice)
        return outcome

    async def _copies(self, notice: StaffNotice) -> None:
        for desk in self._others:
            try:
                await desk.post(notice)
            except Exception:
                # the notice may hold a citizen's words: name the kind only
                log.exception("a second desk could not take a %s notice", notice.kind)
