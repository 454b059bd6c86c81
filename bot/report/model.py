"""What the service report holds: its figures as dataclasses, the labels they are shown with,
and the reporting period's bounds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from flows.ports import VN_TZ, Event

TOP = 10
DELETED = "không rõ (đã xóa dữ liệu)"
OUTCOMES = ("answered", "clarified", "elsewhere", "fallback", "handed_off", "other")
OUTCOME_LABELS = {
    "answered": "Trợ lý trả lời",
    "clarified": "Đưa gợi ý để làm rõ",
    "elsewhere": "Việc của nơi khác, ngoài phạm vi",
    "fallback": "Chưa hiểu câu hỏi",
    "handed_off": "Chuyển cán bộ",
    "other": "Khác",
}
FEEDBACK_STATUSES = {"new": "Mới tiếp nhận", "in_progress": "Đang xử lý", "answered": "Đã trả lời"}
CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "console": "Thử nghiệm (console)"}
WHO = {"bot": "Trợ lý (hướng dẫn thủ tục)", "staff": "Cán bộ hỗ trợ"}


class Citizen(NamedTuple):
    channel: str
    user_id: str


Stamped = tuple[int | None, Event]


@dataclass(frozen=True)
class ChannelRow:
    channel: str
    conversations: int | None  # None: cannot be counted (the citizen erased their data)
    citizens: int | None
    questions: int


@dataclass(frozen=True)
class WaitStats:
    requested: int
    answered: int
    p50_s: float | None
    p90_s: float | None

    @property
    def unanswered(self) -> int:
        return self.requested - self.answered


@dataclass(frozen=True)
class Counted:
    key: str  # guide id, or the example question of a group
    label: str
    count: int


@dataclass(frozen=True)
class Week:
    label: str  # ISO week, e.g. 2026-W09
    monday: dt.date
    counts: dict[str, int]  # outcome -> questions


@dataclass(frozen=True)
class ServiceReport:
    start: dt.date
    end: dt.date
    unit: str
    channels: list[ChannelRow]
    conversations: int  # only those still stored: erased ones cannot be told apart
    citizens: int
    detached_events: int
    questions: int
    outcomes: dict[str, int]
    asked_conversations: int
    contained_conversations: int
    direct_answers: int
    clarifications: int
    clarify_rejected: int
    fallbacks_stage1: int
    fallbacks_stage2: int
    handoffs: int
    handoff_conversations: int
    waits_open: WaitStats
    waits_closed: WaitStats
    waits_all: WaitStats
    unanswered_cancelled: int
    unanswered_waiting: int
    top_guides: list[Counted]
    unanswered_queries: int
    unanswered_groups: list[Counted]
    ratings: dict[tuple[str, bool], int]  # ("bot" | "staff", helpful) -> count
    feedback_total: int
    feedback_status: dict[str, int]
    weeks: list[Week]

    @property
    def containment(self) -> float | None:
        return ratio(self.contained_conversations, self.asked_conversations)

    @property
    def direct_share(self) -> float | None:
        return ratio(self.direct_answers, self.questions)

    @property
    def handoff_share(self) -> float | None:
        return ratio(self.handoff_conversations, self.conversations)


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end + 1 day 00:00) Vietnam time: all of the last day, and consecutive
    periods never overlap (the same half-open rule as Storage.events)."""
    since = dt.datetime.combine(start, dt.time(), VN_TZ)
    return since, dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), VN_TZ)
