"""Reading what compute_report needs from the SqliteStorage."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from bot.report.model import Citizen, Stamped, period_bounds
from bot.storage import SqliteStorage
from flows.ports import Event, FeedbackItem, Handoff, Rating

_FOLLOW_UPS = ("staff_first_response", "handoff_cancelled")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class ReportData:
    events: list[Stamped]
    handoffs: list[Handoff]
    conversations: dict[int, Citizen]
    feedback: list[FeedbackItem]
    ratings: list[Rating]


def _us(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


async def load_data(storage: SqliteStorage, start: dt.date, end: dt.date) -> ReportData:
    """Read what compute_report needs. Replies to handoffs may come after the period, so their
    events are read up to now; everything else is bounded by the period."""
    since, until = period_bounds(start, end)
    events = await storage.events(since, until)
    later = await storage.query(
        "SELECT conversation_id, kind, data, at FROM events WHERE at_us >= ? AND kind IN (?, ?)"
        " ORDER BY at_us, id",
        (_us(until), *_FOLLOW_UPS),
    )
    events += [
        (
            row["conversation_id"],
            Event(kind=row["kind"], at=row["at"], data=json.loads(row["data"])),
        )
        for row in later
    ]
    rows = await storage.query(
        "SELECT * FROM handoffs WHERE created_us >= ? AND created_us < ?", (_us(since), _us(until))
    )
    people = await storage.query("SELECT id, channel, user_id FROM conversations")
    return ReportData(
        events=events,
        handoffs=[Handoff.model_validate(dict(row)) for row in rows],
        conversations={row["id"]: Citizen(row["channel"], row["user_id"]) for row in people},
        feedback=await storage.feedback_items(),
        ratings=await storage.ratings(),
    )
