"""Reading what compute_report needs from a commune's storage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.report.model import Citizen, Stamped, period_bounds
from flows.ports import FeedbackItem, Handoff, Rating, Storage

_FOLLOW_UPS = ("staff_first_response", "handoff_cancelled")


@dataclass(frozen=True)
class ReportData:
    events: list[Stamped]
    handoffs: list[Handoff]
    conversations: dict[int, Citizen]
    feedback: list[FeedbackItem]
    ratings: list[Rating]


async def load_data(storage: Storage, start: dt.date, end: dt.date) -> ReportData:
    """Read what compute_report needs. Replies to handoffs may come after the period, so their
    events are read up to now; everything else is bounded by the period."""
    since, until = period_bounds(start, end)
    events = await storage.events.between(since, until)
    events += await storage.reports.events_of_kinds(_FOLLOW_UPS, until)
    people = await storage.reports.citizens()
    return ReportData(
        events=events,
        handoffs=await storage.reports.handoffs_created(since, until),
        conversations={cid: Citizen(key.channel, key.user_id) for cid, key in people.items()},
        feedback=await storage.feedback.items(),
        ratings=await storage.ratings.all(),
    )
