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


class Outgoing(BaseModel):
    """One message a turn sends: to a citizen (`reply` to `key`) or to the desk (`notice`).

    Written to the durable outbox in the turn's own transaction and delivered afterwards, so a
    crash never loses what the turn decided to say, and never says it without the state.
    """

    model_config = ConfigDict(frozen=True)

    key: ConversationKey | None = None
    reply: Reply | None = None
    notice: StaffNotice | None = None
    edit: str | None = None  # platform id of the message a `replace` reply may edit
    conversation_id: int | None = None  # for the "unreachable" event when it cannot be sent
    # Answers to staff commands go back where they were asked: a desk thread (topic) id, and
    # for a picture (the report chart) its PNG bytes in base64.
    thread: str | None = None
    photo: str | None = None
    # "<chat>:<message>" of a desk message (a staff member's file) the citizen gets a copy of;
    # `reply` then holds its caption, for the transcript and an "undelivered" notice.
    copy_of: str | None = None

    @property
    def queue(self) -> str:
        """Messages of one queue are delivered in order; different queues independently."""
        if self.notice is not None:
            return f"desk:{self.notice.key or '-'}"
        return str(self.key)

    @property
    def target(self) -> str:
        """Which transport delivers it: 'desk' or the citizen's channel."""
        return "desk" if self.notice is not None else (self.key.channel if self.key else "-")


class OutboxItem(BaseModel):
    """A claimed outbox entry. `progress`: parts of a split message already delivered."""

    id: int
    outgoing: Outgoing
    attempts: int = 0
    progress: int = 0
    created_at: dt.datetime


class InboxItem(BaseModel):
    """A stored platform update (raw JSON text), claimed for processing."""

    id: int
    channel: str
    event_key: str
    payload: str
    attempts: int = 0


class Turn(BaseModel):
    """Writes caused by one inbound message, committed atomically in one transaction: the
    conversation state, transcript, events, handoff changes, the messages it sends (outbox) and
    the inbox entry it came from (marked done)."""

    conversation_id: int
    state: ConversationState
    seen_at: dt.datetime
    display_name: str | None = None
    transcript: list[TranscriptLine] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    handoffs: list[Handoff] = Field(default_factory=list)
    outgoing: list[Outgoing] = Field(default_factory=list)
    receipt: int | None = None


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

    # --- durable inbox: updates stored before the platform is told they arrived ----------------

    @abc.abstractmethod
    async def receive(self, channel: str, event_key: str, payload: str, now: dt.datetime) -> bool:
        """Store an update; False if this key was stored before (a redelivery). Raises when it
        cannot be stored: the caller must then not acknowledge it."""

    @abc.abstractmethod
    async def claim_inbound(
        self, channel: str, now: dt.datetime, lease: dt.timedelta, limit: int = 100
    ) -> list[InboxItem]:
        """Unprocessed updates not claimed by someone else, oldest first, claimed for `lease`."""

    @abc.abstractmethod
    async def inbound_done(self, item_id: int, now: dt.datetime) -> None:
        """Mark processed without a turn (updates that change nothing); a turn does it with
        `Turn.receipt`. The payload is dropped, the key kept against redeliveries."""

    @abc.abstractmethod
    async def pending_inbound(self, channel: str | None = None) -> int:
        """How many stored updates are not processed yet."""

    # --- durable outbox: what turns send, delivered afterwards ----------------------------

    @abc.abstractmethod
    async def reserve_handoff_id(self) -> int:
        """A fresh handoff id, so a turn can create its handoff inside its own commit."""

    @abc.abstractmethod
    async def enqueue(
        self, items: list[Outgoing], now: dt.datetime, receipt: int | None = None
    ) -> None:
        """Queue messages that belong to no turn (desk notes, answers to staff commands), in
        one transaction that also marks inbox entry `receipt` done: a crash never loses the
        answer to a processed update, nor answers it twice."""

    @abc.abstractmethod
    async def claim_outgoing(
        self, now: dt.datetime, lease: dt.timedelta, limit: int = 50
    ) -> list[OutboxItem]:
        """The oldest due entry of each queue whose earlier entries are all delivered, claimed
        for `lease` (an entry claimed by a sender that died is taken again after it)."""

    @abc.abstractmethod
    async def outgoing_sent(self, item_id: int) -> None: ...

    @abc.abstractmethod
    async def outgoing_retry(
        self, item_id: int, due: dt.datetime, reason: str, progress: int
    ) -> None: ...

    @abc.abstractmethod
    async def outgoing_failed(
        self, item_id: int, now: dt.datetime, report: list[Outgoing], event: Event | None
    ) -> None:
        """Give up on an entry; in the same transaction queue `report` (tell staff) and log
        `event` for the entry's conversation."""

    @abc.abstractmethod
    async def release_claims(self) -> None:
        """Forget every claim (start-up of the only process serving this database)."""

    @abc.abstractmethod
    async def pending_outgoing(self) -> int: ...


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


class Delivery(abc.ABC):
    """The sender that delivers the durable outbox after commits (bot.delivery)."""

    @abc.abstractmethod
    def wake(self) -> None:
        """New entries were committed: deliver them soon."""


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
