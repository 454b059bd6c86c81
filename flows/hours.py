"""Office hours from office.yaml: is the desk open now, and when does it next open?

Used to tell a citizen who asks for a person outside working hours when someone will answer,
and to schedule reminders to staff at the next opening.
"""

from __future__ import annotations

import datetime as dt

from knowledge.library import VN_TZ
from knowledge.placeholders import DAY_NAMES
from knowledge.schema import WEEKDAYS, Office, Session


class OfficeHours:
    def __init__(self, office: Office) -> None:
        self._office = office
        self._holidays = {h.date: h.name for h in office.holidays}

    def _sessions(self, day: dt.date) -> list[Session]:
        if day in self._holidays:
            return []
        return list(self._office.hours.get(WEEKDAYS[day.weekday()], []))

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(VN_TZ)
        return any(s.contains(local.time()) for s in self._sessions(local.date()))

    def next_opening(self, moment: dt.datetime) -> dt.datetime | None:
        """The next session start strictly after `moment` (None if no session in 60 days)."""
        local = moment.astimezone(VN_TZ)
        for offset in range(0, 61):
            day = local.date() + dt.timedelta(days=offset)
            for session in self._sessions(day):
                hour, minute = map(int, session.start.split(":"))
                start = dt.datetime.combine(day, dt.time(hour, minute), VN_TZ)
                if start > local:
                    return start
        return None

    def holiday(self, day: dt.date) -> str | None:
        return self._holidays.get(day)


def describe_moment(moment: dt.datetime, now: dt.datetime) -> str:
    """'7:30 sáng mai (Thứ Hai, 07/12)' style, plain words for citizens."""
    local, today = moment.astimezone(VN_TZ), now.astimezone(VN_TZ).date()
    days = (local.date() - today).days
    when = {0: "hôm nay", 1: "ngày mai"}.get(days)
    clock = f"{local.hour}:{local.minute:02d}"
    part = "sáng" if local.hour < 12 else "chiều"
    date_text = f"{DAY_NAMES[WEEKDAYS[local.weekday()]]}, {local:%d/%m}"
    if when:
        return f"{clock} {part} {when} ({date_text})"
    return f"{clock} {part} {date_text}"
