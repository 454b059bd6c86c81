"""Handoff requests of the period and how long citizens waited for a staff member's reply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.report.model import Citizen, Stamped, WaitStats
from flows.hours import OfficeHours
from flows.ports import OPEN_STATUSES, Handoff


def nearest_rank(values: Sequence[float], percent: int) -> float | None:
    """The smallest value with at least `percent`% of values at or below it: sorted, rank
    ceil(percent * N / 100). Always an observed wait, never an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, -(-percent * len(ordered) // 100)) - 1]


@dataclass
class HandoffRequest:
    cid: int | None
    at: dt.datetime
    open: bool
    wait_s: float | None = None
    cancelled: bool = False
    waiting: bool = False


def handoff_requests(
    stamped: list[Stamped],
    handoffs: Sequence[Handoff],
    known: Mapping[int, Citizen],
    hours: OfficeHours,
    inside: tuple[dt.datetime, dt.datetime],
) -> list[HandoffRequest]:
    """Handoffs requested in the period: from "handoff" events (kept after erasure), plus table
    rows without an event. Replies and cancellations after the period still count."""
    requests: dict[int, HandoffRequest] = {}
    for cid, e in stamped:
        hid, flag = e.data.get("handoff"), e.data.get("open")
        if e.kind == "handoff" and isinstance(hid, int) and inside[0] <= e.at < inside[1]:
            is_open = flag if isinstance(flag, bool) else hours.is_open(e.at)
            requests.setdefault(hid, HandoffRequest(cid, e.at, is_open))
    rows = {h.id: h for h in handoffs}
    for h in handoffs:
        if h.id not in requests and inside[0] <= h.created_at < inside[1]:
            cid = h.conversation_id if h.conversation_id in known else None
            requests[h.id] = HandoffRequest(cid, h.created_at, hours.is_open(h.created_at))
    for _, e in stamped:
        hid = e.data.get("handoff")
        r = requests.get(hid) if isinstance(hid, int) else None
        if r is None or e.at < r.at:
            continue
        if e.kind == "staff_first_response" and r.wait_s is None:
            wait = e.data.get("wait_s")
            r.wait_s = (
                float(wait) if isinstance(wait, int | float) else (e.at - r.at).total_seconds()
            )
        elif e.kind == "handoff_cancelled":
            r.cancelled = True
    for hid, r in requests.items():
        row = rows.get(hid)
        if row is None:
            continue
        if r.wait_s is None and row.first_response_at is not None:
            r.wait_s = (row.first_response_at - row.created_at).total_seconds()
        r.cancelled |= row.status == "cancelled"
        r.waiting = row.status in OPEN_STATUSES
    return list(requests.values())


def wait_stats(requests: Sequence[HandoffRequest]) -> WaitStats:
    waits = [r.wait_s for r in requests if r.wait_s is not None]
    return WaitStats(len(requests), len(waits), nearest_rank(waits, 50), nearest_rank(waits, 90))
