"""The small interfaces the conversation core needs, passed in through constructors.

Storage, staff desk, citizen outbox and clock each have several implementations (SQLite and
memory storage; console, simulation and Telegram desks; real and manual clocks). The core only
knows these classes; every implementation runs the same contract tests.
"""

from __future__ import annotations

import abc
import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flows.models import Button, ConversationKey, Reply, StaffNotice
from knowledge.library import VN_TZ as VN_TZ  # re-exported: the core and channels use it

Direction = Literal["in", "out", "staff"]
FeedbackStatus = Literal["new", "in_progress", "answered"]
HandoffStatus = Literal["waiting", "claimed", "returned", "closed", "cancelled"]
OPEN_STATUSES: tuple[HandoffStatus, ...] = ("waiting", "claimed")


class ConversationState(BaseModel):
    """Everything needed to continue a conversation after a restart. Written at every step."""

    mode: Literal["bot", "waiting", "staff"] = "bot"
    flow: str | None = None
    guide_id: str | None = None
    step: int = 0
    data: dict[str, Any] = Field(default_factory=dict)
    buttons: list[Button] = Field(default_factory=list)
    pages: list[str] = Field(default_factory=list)
    misses: int = 0
    introduced: bool = False  # told that this is an automated assistant (flows.turn.introduce)


class Conversation(BaseModel):
    id: int
    key: ConversationKey
    display_name: str = ""
    state: ConversationState = Field(default_factory=ConversationState)
    created_at: dt.datetime
    last_seen_at: dt.datetime


class TranscriptLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    direction: Direction
    text: str
    at: dt.datetime


class Event(BaseModel):
    """Analytics: kind is e.g. 'question', 'answer', 'clarify', 'fallback', 'handoff', 'rating'."""

    model_config = ConfigDict(frozen=True)

    kind: str
    at: dt.datetime
    data: dict[str, Any] = Field(default_factory=dict)


class Turn(BaseModel):
    """Writes caused by one inbound message, committed atomically in one transaction."""

    conversation_id: int
    state: ConversationState
    seen_at: dt.datetime
    display_name: str | None = None
    transcript: list[TranscriptLine] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)


class Handoff(BaseModel):
    id: int
    conversation_id: int
    status: HandoffStatus
    guide_id: str | None = None
    reason: str = ""
    created_at: dt.datetime
    claimed_at: dt.datetime | None = None
    claimed_by: str | None = None
    first_response_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    reminded_at: dt.datetime | None = None


class FeedbackItem(BaseModel):
    id: int
    ref: str  # reference code given to the citizen, e.g. "PA-2026-000042"
    conversation_id: int | None
    content: str
    name: str | None = None
    phone: str | None = None
    status: FeedbackStatus = "new"
    created_at: dt.datetime


class Rating(BaseModel):
    id: int
    conversation_id: int | None
    guide_id: str | None
    helpful: bool
    reason: str | None = None
    created_at: dt.datetime


class Storage(abc.ABC):
    """Persistence for conversations. Every method is atomic on its own."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare the store (create or migrate the schema)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    @abc.abstractmethod
    async def conversation(
        self, key: ConversationKey, now: dt.datetime, display_name: str = ""
    ) -> Conversation:
        """The conversation for `key`, created (with a fresh state) if it does not exist."""

    @abc.abstractmethod
    async def find_conversation(self, conversation_id: int) -> Conversation | None: ...

    @abc.abstractmethod
    async def find_by_key(self, key: ConversationKey) -> Conversation | None: ...

    @abc.abstractmethod
    async def commit(self, turn: Turn) -> None:
        """Save state, transcript lines and events of one turn, all or nothing."""

    @abc.abstractmethod
    async def recent_transcript(self, conversation_id: int, limit: int) -> list[TranscriptLine]:
        """The last `limit` lines, oldest first."""

    @abc.abstractmethod
    async def log_event(self, conversation_id: int | None, event: Event) -> None: ...

    @abc.abstractmethod
    async def events(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[tuple[int | None, Event]]:
        """(conversation id, event) in time order, for reports."""

    @abc.abstractmethod
    async def open_handoff(
        self, conversation_id: int, now: dt.datetime, guide_id: str | None, reason: str
    ) -> Handoff:
        """Create a waiting handoff, or return the one already open for this conversation."""

    @abc.abstractmethod
    async def current_handoff(self, conversation_id: int) -> Handoff | None:
        """The open (waiting or claimed) handoff of a conversation."""

    @abc.abstractmethod
    async def save_handoff(self, handoff: Handoff) -> None: ...

    @abc.abstractmethod
    async def open_handoffs(self) -> list[Handoff]:
        """Every waiting or claimed handoff, oldest first (the queue)."""

    @abc.abstractmethod
    async def add_feedback(
        self,
        conversation_id: int | None,
        content: str,
        now: dt.datetime,
        name: str | None = None,
        phone: str | None = None,
    ) -> FeedbackItem:
        """Store and assign a unique reference code."""

    @abc.abstractmethod
    async def feedback_items(self) -> list[FeedbackItem]: ...

    @abc.abstractmethod
    async def set_feedback_status(self, ref: str, status: FeedbackStatus) -> FeedbackItem | None:
        """Staff mark a feedback item in progress or answered; None if the code is unknown."""

    @abc.abstractmethod
    async def add_rating(
        self, conversation_id: int | None, guide_id: str | None, helpful: bool, now: dt.datetime
    ) -> Rating: ...

    @abc.abstractmethod
    async def set_rating_reason(self, rating_id: int, reason: str) -> None: ...

    @abc.abstractmethod
    async def ratings(self) -> list[Rating]: ...

    @abc.abstractmethod
    async def delete_conversation(self, conversation_id: int) -> None:
        """Erase everything that came from the citizen: conversation, transcript, handoffs,
        ratings, the text and contact of their feedback, the texts in their events, the ids of
        their messages. What reports count stays: events (detached, without text) and feedback
        rows (without content). Deleted content must not stay readable in the store's files."""

    @abc.abstractmethod
    async def purge_older_than(self, cutoff: dt.datetime) -> int:
        """Retention: erase conversations last seen before `cutoff` (as delete_conversation;
        not one with an open handoff), and strip citizen text from older events, feedback and
        ratings. Counts for reports stay. Returns how many conversations were erased."""

    @abc.abstractmethod
    async def first_seen(self, channel: str, message_id: str, now: dt.datetime) -> bool:
        """True the first time a platform message id is seen (duplicate delivery guard)."""


class StaffDesk(abc.ABC):
    """Where notices for desk staff go (a Telegram forum group, the console, the simulator)."""

    @abc.abstractmethod
    async def post(self, notice: StaffNotice) -> None: ...


class Outbox(abc.ABC):
    """Sends a reply to a citizen on their channel, outside of an inbound turn."""

    @abc.abstractmethod
    async def send(self, key: ConversationKey, reply: Reply) -> bool:
        """False when the citizen cannot be reached (blocked the bot, window closed...)."""

    def failure_reason(self, key: ConversationKey) -> str | None:
        """Why the last send to `key` failed, in words staff understand (None: unknown)."""
        return None


class Clock(abc.ABC):
    @abc.abstractmethod
    def now(self) -> dt.datetime:
        """An aware datetime."""


class SystemClock(Clock):
    def now(self) -> dt.datetime:
        return dt.datetime.now(VN_TZ)


class ManualClock(Clock):
    """A clock tests and the simulator move by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def set(self, moment: dt.datetime) -> None:
        self._now = moment

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta
