"""The small interfaces the conversation core needs, passed in through constructors.

Storage, staff desk, citizen outbox and clock each have several implementations (SQLite and
memory storage; console, simulation and Telegram desks; real and manual clocks). The core only
knows these classes; every implementation runs the same contract tests.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flows.callbacks import Flow
from flows.models import Button, ConversationKey, Reply, StaffNotice
from flows.models import Direction as Direction
from flows.models import HandoffStatus as HandoffStatus
from knowledge.timezone import VN_TZ as VN_TZ  # re-exported: the core and channels use it

FeedbackStatus = Literal["new", "in_progress", "answered"]
OPEN_STATUSES: tuple[HandoffStatus, ...] = ("waiting", "claimed")


class ConversationState(BaseModel):
    """Everything needed to continue a conversation after a restart. Written at every step."""

    mode: Literal["bot", "waiting", "staff"] = "bot"
    flow: Flow | None = None
    guide_id: str | None = None
    step: int = 0
    data: dict[str, Any] = Field(default_factory=dict)
    buttons: list[Button] = Field(default_factory=list)
    pages: list[str] = Field(default_factory=list)
    misses: int = 0
    # the citizen told that someone abroad or foreign is involved ("lấy chồng Đài Loan"): the
    # guide the fact was told about ("*" before one is answered); a later "giấy kết hôn" near it
    # is the foreign-element registration (router._abroad)
    abroad: str | None = None
    # the guides this conversation has been about, latest last (router._recalled)
    recent: list[str] = Field(default_factory=list)
    introduced: bool = False  # told that this is an automated assistant (flows.turn.introduce)

    @field_validator("abroad", mode="before")
    @classmethod
    def _told_about(cls, value: object) -> object:
        """A state saved while the fact was a yes/no flag carries no guide: keep it unscoped."""
        return "*" if value is True else None if value is False else value

    @field_validator("flow", mode="before")
    @classmethod
    def _known_flow(cls, value: object) -> object:
        """A state saved by a version with a flow since removed restarts outside any form."""
        return value if value is None or value in set(Flow) else None


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
    # id of a file a staff member sent from the web inbox (stored by the storage layer);
    # `reply` then holds «📎 name», for the transcript and an "undelivered" notice.
    attachment: int | None = None

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
    # rounds that ended without processing it: failures, and claims that ran out (the holder
    # died or stalled: an update that kills its process is counted too). A first claim and
    # renewals do not count; each round is counted when the update is claimed again.
    attempts: int = 0
    claimed_until: dt.datetime | None = None  # this claim's lease: also who holds it


class InboxEntryTaken(LookupError):
    """The inbox entry of a turn was already processed (by another worker that took it over
    after its lease ran out): the turn is not committed, so the update is answered once."""


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


class ConversationRepo(abc.ABC):
    """Conversations, their transcripts, and erasure of what came from a citizen."""

    @abc.abstractmethod
    async def get_or_create(
        self, key: ConversationKey, now: dt.datetime, display_name: str = ""
    ) -> Conversation:
        """The conversation for `key`, created (with a fresh state) if it does not exist."""

    @abc.abstractmethod
    async def find(self, conversation_id: int) -> Conversation | None: ...

    @abc.abstractmethod
    async def by_key(self, key: ConversationKey) -> Conversation | None: ...

    @abc.abstractmethod
    async def transcript(self, conversation_id: int, limit: int) -> list[TranscriptLine]:
        """The last `limit` lines, oldest first."""

    @abc.abstractmethod
    async def delete(self, conversation_id: int) -> None:
        """Erase everything that came from the citizen: conversation, transcript, handoffs,
        ratings, the text and contact of their feedback, the texts in their events, the ids of
        their messages. What reports count stays: events (detached, without text) and feedback
        rows (without content). Deleted content must not stay readable in the store's files."""

    @abc.abstractmethod
    async def purge_older_than(self, cutoff: dt.datetime) -> int:
        """Retention: erase conversations last seen before `cutoff` (as delete; not one with an
        open handoff), and strip citizen text from older events, feedback and ratings. Counts
        for reports stay. Keys of processed inbox updates received before `cutoff` may go too,
        never newer ones (a processed update can still be delivered again). Returns how many
        conversations were erased."""


class EventRepo(abc.ABC):
    """Analytics events (what the report counts)."""

    @abc.abstractmethod
    async def log(self, conversation_id: int | None, event: Event) -> None: ...

    @abc.abstractmethod
    async def between(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[tuple[int | None, Event]]:
        """(conversation id, event) with since <= at < until, in time order."""


class HandoffRepo(abc.ABC):
    """Conversations handed to desk staff."""

    @abc.abstractmethod
    async def open(
        self, conversation_id: int, now: dt.datetime, guide_id: str | None, reason: str
    ) -> Handoff:
        """Create a waiting handoff, or return the one already open for this conversation."""

    @abc.abstractmethod
    async def current(self, conversation_id: int) -> Handoff | None:
        """The open (waiting or claimed) handoff of a conversation."""

    @abc.abstractmethod
    async def save(self, handoff: Handoff) -> None:
        """Raises LookupError for an unknown handoff, ValueError when reopening it would give
        its conversation a second open handoff."""

    @abc.abstractmethod
    async def queue(self) -> list[Handoff]:
        """Every waiting or claimed handoff, oldest first."""

    @abc.abstractmethod
    async def reserve_id(self) -> int:
        """A fresh handoff id, so a turn can create its handoff inside its own commit."""


class FeedbackRepo(abc.ABC):
    """Citizens' feedback (phản ánh) with their reference codes."""

    @abc.abstractmethod
    async def add(
        self,
        conversation_id: int | None,
        content: str,
        now: dt.datetime,
        name: str | None = None,
        phone: str | None = None,
    ) -> FeedbackItem:
        """Store and assign a unique reference code (its year is the year of `now`)."""

    @abc.abstractmethod
    async def items(self) -> list[FeedbackItem]:
        """Oldest first."""

    @abc.abstractmethod
    async def set_status(self, ref: str, status: FeedbackStatus) -> FeedbackItem | None:
        """Staff mark a feedback item in progress or answered; None if the code is unknown."""


class RatingRepo(abc.ABC):
    """ "Was this helpful?" answers."""

    @abc.abstractmethod
    async def add(
        self, conversation_id: int | None, guide_id: str | None, helpful: bool, now: dt.datetime
    ) -> Rating: ...

    @abc.abstractmethod
    async def set_reason(self, rating_id: int, reason: str) -> None: ...

    @abc.abstractmethod
    async def all(self) -> list[Rating]:
        """Oldest first."""


class DedupRepo(abc.ABC):
    """Platform message ids already handled (duplicate delivery guard)."""

    @abc.abstractmethod
    async def first_seen(self, channel: str, message_id: str, now: dt.datetime) -> bool:
        """True the first time a platform message id is seen."""


class KeyValueRepo(abc.ABC):
    """Small named values channels and jobs keep across restarts (tokens, last run stamps)."""

    @abc.abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abc.abstractmethod
    async def set(self, key: str, value: str, now: dt.datetime) -> None: ...


class InboxRepo(abc.ABC):
    """Durable inbox: updates stored before the platform is told they arrived."""

    @abc.abstractmethod
    async def receive(self, channel: str, event_key: str, payload: str, now: dt.datetime) -> bool:
        """Store an update; False if this key was stored before (a redelivery). Raises when it
        cannot be stored: the caller must then not acknowledge it."""

    @abc.abstractmethod
    async def claim(
        self, channel: str, now: dt.datetime, lease: dt.timedelta, limit: int = 100
    ) -> list[InboxItem]:
        """Unprocessed updates not claimed by someone else, oldest first, claimed for `lease`.
        Each item's `claimed_until` identifies this claim (for `renew` and `failed`). Taking
        an update whose earlier claim ran out, or whose retry delay after a failure ended,
        counts one attempt (the round that ended without processing it)."""

    @abc.abstractmethod
    async def renew(
        self, items: Sequence[InboxItem], now: dt.datetime, lease: dt.timedelta
    ) -> list[InboxItem]:
        """Extend the claims still held (same `claimed_until`, not processed) to `now + lease`;
        returns those items with their new lease. Missing ones were finished or taken over."""

    @abc.abstractmethod
    async def failed(self, item: InboxItem, now: dt.datetime, retry_after: dt.timedelta) -> None:
        """Processing `item` failed: offer it again after `retry_after` (only if this claim
        still holds it); the attempt is counted when it is claimed again."""

    @abc.abstractmethod
    async def done(self, item_id: int, now: dt.datetime) -> None:
        """Mark processed without a turn (updates that change nothing); a turn does it with
        `Turn.receipt`, and raises InboxEntryTaken when the entry was processed already. The
        payload is dropped, the key kept against redeliveries."""

    @abc.abstractmethod
    async def pending(self, channel: str | None = None) -> int:
        """How many stored updates are not processed yet."""

    @abc.abstractmethod
    async def release_claims(self) -> None:
        """Forget every claim (start-up of the only process serving this database); each
        counts one attempt, as a claim taken over would (its holder died, or failed)."""


class OutboxRepo(abc.ABC):
    """Durable outbox: what turns send, delivered afterwards."""

    @abc.abstractmethod
    async def enqueue(
        self, items: list[Outgoing], now: dt.datetime, receipt: int | None = None
    ) -> None:
        """Queue messages that belong to no turn (desk notes, answers to staff commands), in
        one transaction that also marks inbox entry `receipt` done: a crash never loses the
        answer to a processed update, nor answers it twice."""

    @abc.abstractmethod
    async def claim(
        self, now: dt.datetime, lease: dt.timedelta, limit: int = 50
    ) -> list[OutboxItem]:
        """The oldest due entry of each queue whose earlier entries are all delivered, claimed
        for `lease` (an entry claimed by a sender that died is taken again after it)."""

    @abc.abstractmethod
    async def sent(self, item_id: int) -> None: ...

    @abc.abstractmethod
    async def retry(self, item_id: int, due: dt.datetime, reason: str, progress: int) -> None: ...

    @abc.abstractmethod
    async def failed(
        self, item_id: int, now: dt.datetime, report: list[Outgoing], event: Event | None
    ) -> None:
        """Give up on an entry; in the same transaction queue `report` (tell staff) and log
        `event` for the entry's conversation."""

    @abc.abstractmethod
    async def pending(self) -> int: ...

    @abc.abstractmethod
    async def release_claims(self) -> None:
        """Forget every claim (start-up of the only process serving this database); each
        counts one attempt, as a claim taken over would (its holder died, or failed)."""


class DeskLinkRepo(abc.ABC):
    """Staff-desk links: citizen <-> staff topic and desk message <-> conversation. Relay bots
    that routed staff replies by forward metadata lost messages when users hid their forwards
    or topics were deleted; we keep the links in the database."""

    @abc.abstractmethod
    async def topic(self, conversation_id: int) -> tuple[int, int] | None:
        """(chat id, thread id) of the conversation's staff topic."""

    @abc.abstractmethod
    async def set_topic(
        self, conversation_id: int, chat_id: int, thread_id: int, now: dt.datetime
    ) -> None: ...

    @abc.abstractmethod
    async def drop_topic(self, conversation_id: int) -> None: ...

    @abc.abstractmethod
    async def conversation_for_thread(self, chat_id: int, thread_id: int) -> int | None: ...

    @abc.abstractmethod
    async def link_message(self, chat_id: int, message_id: int, conversation_id: int) -> None: ...

    @abc.abstractmethod
    async def conversation_for_message(self, chat_id: int, message_id: int) -> int | None: ...


class ReportRepo(abc.ABC):
    """The read-only queries of the report and the knowledge CLI."""

    @abc.abstractmethod
    async def events_of_kinds(
        self, kinds: Sequence[str], since: dt.datetime
    ) -> list[tuple[int | None, Event]]:
        """Events of these kinds at or after `since`, in time order."""

    @abc.abstractmethod
    async def handoffs_created(self, since: dt.datetime, until: dt.datetime) -> list[Handoff]:
        """Handoffs created with since <= created_at < until, oldest first."""

    @abc.abstractmethod
    async def citizens(self) -> dict[int, ConversationKey]:
        """Conversation id -> key, for every stored conversation."""


class LeaseRepo(abc.ABC):
    """Named leases, so exactly one process runs a poller or a periodic job at a time. A lease
    not renewed before its expiry is free for another holder (its process died)."""

    @abc.abstractmethod
    async def acquire(self, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        """Take the lease if it is free or expired (or renew it if `holder` has it)."""

    @abc.abstractmethod
    async def renew(self, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        """Extend the lease; False if `holder` no longer has it."""

    @abc.abstractmethod
    async def release(self, name: str, holder: str) -> None:
        """Give the lease up (only if `holder` has it)."""


class Storage(abc.ABC):
    """Persistence, as focused repositories bundled under one unit of work: each repository
    method is atomic on its own, and `commit(turn)` writes everything one turn caused in one
    transaction (it crosses repositories, so it lives on the bundle)."""

    conversations: ConversationRepo
    events: EventRepo
    handoffs: HandoffRepo
    feedback: FeedbackRepo
    ratings: RatingRepo
    dedup: DedupRepo
    kv: KeyValueRepo
    inbox: InboxRepo
    outbox: OutboxRepo
    desk_links: DeskLinkRepo
    reports: ReportRepo
    leases: LeaseRepo

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare the store (create or migrate the schema)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    async def flush(self) -> None:  # noqa: B027 - optional hook
        """Wait until every turn handed to commit() (even by a cancelled caller) is written."""

    @abc.abstractmethod
    async def commit(self, turn: Turn) -> None:
        """Save state, transcript lines, events, handoffs, outgoing messages and the inbox
        receipt of one turn, all or nothing."""


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
