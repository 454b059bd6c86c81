"""Periodic jobs. Weekly: the list of guides due for review goes to the staff group (the first
working moment of the week), so stale guidance is noticed without asking. Daily: the retention
purge, so conversations are not kept longer than RETENTION_MONTHS."""

from __future__ import annotations

import calendar
import datetime as dt
import logging

from flows.hours import OfficeHours
from flows.models import Reply, StaffNotice
from flows.ports import Clock, StaffDesk, Storage
from knowledge.holder import LibraryHolder
from knowledge.maintenance import stale_guides

KEY = "housekeeping.stale_week"
PURGE_KEY = "housekeeping.purge_day"
log = logging.getLogger(__name__)


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` calendar months earlier (the month's last day if shorter)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last))


class RetentionPurge:
    """Once a day: erase conversations last seen more than `months` ago and strip citizen text
    from older events and feedback. The report's counts stay (events are kept, without text)."""

    def __init__(self, storage: Storage, clock: Clock, months: int) -> None:
        self._storage = storage
        self._clock = clock
        self._months = months

    async def run(self) -> bool:
        now = self._clock.now()
        stamp = now.date().isoformat()
        if await self._storage.kv.get(PURGE_KEY) == stamp:
            return False
        erased = await self._storage.conversations.purge_older_than(
            months_before(now, self._months)
        )
        await self._storage.kv.set(PURGE_KEY, stamp, now)
        log.info("retention: %d conversations older than %d months erased", erased, self._months)
        return True


class WeeklyStaleReport:
    def __init__(
        self, holder: LibraryHolder, storage: Storage, desk: StaffDesk, clock: Clock
    ) -> None:
        self._holder = holder
        self._storage = storage
        self._desk = desk
        self._clock = clock

    async def run(self) -> bool:
        """Post this week's list if the office is open and it was not posted yet."""
        now = self._clock.now()
        kb = self._holder.knowledge
        if not OfficeHours(kb.office).is_open(now):
            return False
        year, week, _ = now.isocalendar()
        stamp = f"{year}-W{week:02d}"
        if await self._storage.kv.get(KEY) == stamp:
            return False
        items = stale_guides(kb, now.date())
        if items:
            lines = [f"• {i.title} ({i.id}): {i.reason}" for i in items[:25]]
            text = "Hướng dẫn cần rà soát trong tuần này:\n" + "\n".join(lines)
        else:
            text = "Tuần này không có hướng dẫn nào quá hạn rà soát."
        await self._desk.post(StaffNotice(key=None, reply=Reply(text=text), at=now))
        await self._storage.kv.set(KEY, stamp, now)
        return True
