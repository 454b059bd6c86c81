"""In-process storage for tests, the simulator and quick runs.

It behaves exactly like SqliteStorage (same contract tests): models go in and out through a JSON
round trip, so callers get independent copies and see the same normalisation (tuples become
lists, datetimes inside `data` become strings) they would get from the database.

The few rules both stores share (aware times, reference codes, duplicate-guard retention) live
here, so SqliteStorage imports them rather than restating them.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel

from bot.storage.timecode import aware as aware  # re-exported: the stores share it
from flows.models import DEFAULT_COMMUNE, ConversationKey
from flows.ports import (
    OPEN_STATUSES,
    Conversation,
    ConversationRepo,
    DedupRepo,
    DeskLinkRepo,
    Event,
    EventRepo,
    FeedbackItem,
    FeedbackRepo,
    FeedbackStatus,
    Handoff,
    HandoffRepo,
    InboxEntryTaken,
    InboxItem,
    InboxRepo,
    KeyValueRepo,
    LeaseRepo,
    OutboxItem,
    OutboxRepo,
    Outgoing,
    Rating,
    RatingRepo,
    ReportRepo,
    Storage,
    TranscriptLine,
    Turn,
)

SEEN_TTL = dt.timedelta(days=7)
"""How long a platform message id is remembered; platforms redeliver within minutes, not days."""
PRUNE_INTERVAL = dt.timedelta(hours=1)
"""first_seen prunes old ids at most this often, so the guard stays a cheap insert."""

M = TypeVar("M", bound=BaseModel)


def check_turn(turn: Turn) -> None:
    aware(turn.seen_at, "seen_at")
    for line in turn.transcript:
        aware(line.at, "transcript time")
    for event in turn.events:
        aware(event.at, "event time")
    for handoff in turn.handoffs:
        check_handoff(handoff)


def check_handoff(handoff: Handoff) -> None:
    aware(handoff.created_at, "created_at")
    for name in ("claimed_at", "first_response_at", "ended_at", "reminded_at"):
        moment = getattr(handoff, name)
        if moment is not None:
            aware(moment, name)


def feedback_ref(year: int, seq: int) -> str:
    """The code a citizen quotes when asking about their feedback."""
    return f"PA-{year}-{seq:06d}"


PERSONAL_EVENT_KEYS = ("text", "query")
"""Event fields holding what a citizen typed (masked, but still theirs); erased on deletion."""
PERSONAL_BY_KIND = {"rating_reason": ("reason",)}
ERASED_FEEDBACK = {"conversation_id": None, "content": "", "name": None, "phone": None}


def anonymised(event: Event) -> Event:
    """The event without the citizen's words: kind, time and the counted fields stay."""
    drop = {*PERSONAL_EVENT_KEYS, *PERSONAL_BY_KIND.get(event.kind, ())}
    if not drop & event.data.keys():
        return event
    return event.model_copy(update={"data": {k: v for k, v in event.data.items() if k not in drop}})


def prune_due(last_prune: dt.datetime | None, now: dt.datetime) -> bool:
    return last_prune is None or now - last_prune >= PRUNE_INTERVAL


def _copy(model: M) -> M:
    return type(model).model_validate_json(model.model_dump_json())


def _is_open(handoff: Handoff) -> bool:
    return handoff.status in OPEN_STATUSES


@dataclass
class _Ids:
    """Id counters shared by every commune of one memory database: ids are never reused, as
    with SQLite AUTOINCREMENT, and unique across communes, as in one database."""

    conversations: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    events: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    handoffs: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    feedback: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    ratings: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    inbox: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    outbox: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    # conversations erased in any commune: what hangs off them elsewhere (console notes) goes too
    erased: set[int] = field(default_factory=set)


@dataclass
class _Data:
    """One commune's rows. Every repository method runs without awaiting, so each one is
    atomic under asyncio."""

    ids: _Ids
    commune: str
    conversations: dict[int, Conversation] = field(default_factory=dict)
    by_key: dict[ConversationKey, int] = field(default_factory=dict)
    transcripts: dict[int, list[TranscriptLine]] = field(default_factory=dict)
    # (time, insertion id, conversation id, event): sorted by the first two on read
    events: list[tuple[dt.datetime, int, int | None, Event]] = field(default_factory=list)
    handoffs: dict[int, Handoff] = field(default_factory=dict)
    feedback: dict[int, FeedbackItem] = field(default_factory=dict)
    feedback_seq: dict[int, int] = field(default_factory=dict)
    ratings: dict[int, Rating] = field(default_factory=dict)
    seen: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)
    last_prune: dt.datetime | None = None
    # inbox: id -> (item, processed, claimed until); keys seen per channel
    inbox: dict[int, tuple[InboxItem, bool, dt.datetime | None]] = field(default_factory=dict)
    inbox_keys: set[tuple[str, str]] = field(default_factory=set)
    # outbox: id -> (item, due, claimed until)
    outbox: dict[int, tuple[OutboxItem, dt.datetime, dt.datetime | None]] = field(
        default_factory=dict
    )
    kv: dict[str, str] = field(default_factory=dict)
    topics: dict[int, tuple[int, int]] = field(default_factory=dict)
    desk_messages: dict[tuple[int, int], int] = field(default_factory=dict)

    def require(self, conversation_id: int) -> Conversation:
        found = self.conversations.get(conversation_id)
        if found is None:
            raise LookupError(f"no conversation {conversation_id}")
        return found

    def open_handoff_of(self, conversation_id: int) -> Handoff | None:
        for handoff in self.handoffs.values():
            if handoff.conversation_id == conversation_id and _is_open(handoff):
                return handoff
        return None

    def check_save(self, handoff: Handoff, handoffs: dict[int, Handoff], create: bool) -> None:
        existing = handoffs.get(handoff.id)
        if (existing is None and not create) or (
            existing is not None and existing.conversation_id != handoff.conversation_id
        ):
            raise LookupError(f"no handoff {handoff.id} for conversation {handoff.conversation_id}")
        if existing is None:
            self.require(handoff.conversation_id)
        other = next(
            (
                h
                for h in handoffs.values()
                if h.conversation_id == handoff.conversation_id and _is_open(h)
            ),
            None,
        )
        if _is_open(handoff) and other is not None and other.id != handoff.id:
            raise ValueError(
                f"conversation {handoff.conversation_id} already has open handoff {other.id}"
            )

    def enqueue(self, items: list[Outgoing], now: dt.datetime) -> None:
        for outgoing in items:
            item_id = next(self.ids.outbox)
            item = OutboxItem(id=item_id, outgoing=_copy(outgoing), created_at=now)
            self.outbox[item_id] = (item, now, None)

    def check_receipt(self, item_id: int) -> None:
        """A turn's entry processed already (taken over and answered by another worker)."""
        found = self.inbox.get(item_id)
        if found is not None and found[1]:
            raise InboxEntryTaken(f"inbox entry {item_id} was processed already")

    def inbound_done(self, item_id: int) -> None:
        found = self.inbox.get(item_id)
        if found is not None:
            self.inbox[item_id] = (found[0].model_copy(update={"payload": ""}), True, None)

    def erase(self, conversation_id: int) -> None:
        conversation = self.conversations.pop(conversation_id, None)
        if conversation is None:
            return
        del self.by_key[conversation.key]
        del self.transcripts[conversation_id]
        self.ids.erased.add(conversation_id)
        self.events = [
            (at, i, None, anonymised(e)) if owner == conversation_id else (at, i, owner, e)
            for at, i, owner, e in self.events
        ]
        self.handoffs = {
            i: h for i, h in self.handoffs.items() if h.conversation_id != conversation_id
        }
        self.ratings = {
            i: r for i, r in self.ratings.items() if r.conversation_id != conversation_id
        }
        for item_id, item in self.feedback.items():
            if item.conversation_id == conversation_id:
                self.feedback[item_id] = item.model_copy(update=ERASED_FEEDBACK)
        prefix = f"{conversation.key.user_id}/"
        self.seen = {
            k: at
            for k, at in self.seen.items()
            if not (k[0] == conversation.key.channel and k[1].startswith(prefix))
        }
        queues = {str(conversation.key), f"desk:{conversation.key}"}
        self.outbox = {i: o for i, o in self.outbox.items() if o[0].outgoing.queue not in queues}
        self.topics.pop(conversation_id, None)
        self.desk_messages = {k: c for k, c in self.desk_messages.items() if c != conversation_id}


class _Repo:
    def __init__(self, data: _Data) -> None:
        self._d = data


class MemoryConversations(_Repo, ConversationRepo):
    async def get_or_create(
        self, key: ConversationKey, now: dt.datetime, display_name: str = ""
    ) -> Conversation:
        aware(now)
        d = self._d
        key = key.model_copy(update={"commune": d.commune})
        conversation_id = d.by_key.get(key)
        if conversation_id is None:
            conversation_id = next(d.ids.conversations)
            d.conversations[conversation_id] = _copy(
                Conversation(
                    id=conversation_id,
                    key=key,
                    display_name=display_name,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            d.by_key[key] = conversation_id
            d.transcripts[conversation_id] = []
        return _copy(d.conversations[conversation_id])

    async def find(self, conversation_id: int) -> Conversation | None:
        found = self._d.conversations.get(conversation_id)
        return None if found is None else _copy(found)

    async def by_key(self, key: ConversationKey) -> Conversation | None:
        conversation_id = self._d.by_key.get(key.model_copy(update={"commune": self._d.commune}))
        return None if conversation_id is None else await self.find(conversation_id)

    async def transcript(self, conversation_id: int, limit: int) -> list[TranscriptLine]:
        if limit <= 0:
            return []
        lines = self._d.transcripts.get(conversation_id, [])
        return [_copy(line) for line in lines[-limit:]]

    async def delete(self, conversation_id: int) -> None:
        """Deleting an unknown (or already deleted) conversation does nothing."""
        self._d.erase(conversation_id)

    async def purge_older_than(self, cutoff: dt.datetime) -> int:
        aware(cutoff)
        d = self._d
        old = [
            c.id
            for c in d.conversations.values()
            if c.last_seen_at < cutoff and d.open_handoff_of(c.id) is None
        ]
        for conversation_id in old:
            d.erase(conversation_id)
        d.events = [
            (at, i, owner, anonymised(event) if at < cutoff else event)
            for at, i, owner, event in d.events
        ]
        for item_id, item in d.feedback.items():
            if item.created_at < cutoff:
                d.feedback[item_id] = item.model_copy(update=ERASED_FEEDBACK)
        for rating_id, rating in d.ratings.items():
            if rating.created_at < cutoff:
                d.ratings[rating_id] = rating.model_copy(update={"reason": None})
        d.inbox = {i: entry for i, entry in d.inbox.items() if not entry[1]}
        return len(old)


class MemoryEvents(_Repo, EventRepo):
    async def log(self, conversation_id: int | None, event: Event) -> None:
        aware(event.at, "event time")
        if conversation_id is not None:
            self._d.require(conversation_id)
        stored = _copy(event)
        self._d.events.append((stored.at, next(self._d.ids.events), conversation_id, stored))

    async def between(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[tuple[int | None, Event]]:
        """Events with since <= at < until, so consecutive report periods never overlap."""
        if since is not None:
            aware(since, "since")
        if until is not None:
            aware(until, "until")
        chosen = [
            item
            for item in self._d.events
            if (since is None or item[0] >= since) and (until is None or item[0] < until)
        ]
        chosen.sort(key=lambda item: (item[0], item[1]))
        return [(conversation_id, _copy(event)) for _, _, conversation_id, event in chosen]


class MemoryHandoffs(_Repo, HandoffRepo):
    async def open(
        self, conversation_id: int, now: dt.datetime, guide_id: str | None, reason: str
    ) -> Handoff:
        aware(now)
        d = self._d
        d.require(conversation_id)
        existing = d.open_handoff_of(conversation_id)
        if existing is None:
            existing = _copy(
                Handoff(
                    id=next(d.ids.handoffs),
                    conversation_id=conversation_id,
                    status="waiting",
                    guide_id=guide_id,
                    reason=reason,
                    created_at=now,
                )
            )
            d.handoffs[existing.id] = existing
        return _copy(existing)

    async def current(self, conversation_id: int) -> Handoff | None:
        found = self._d.open_handoff_of(conversation_id)
        return None if found is None else _copy(found)

    async def save(self, handoff: Handoff) -> None:
        check_handoff(handoff)
        self._d.check_save(handoff, self._d.handoffs, create=False)
        self._d.handoffs[handoff.id] = _copy(handoff)

    async def queue(self) -> list[Handoff]:
        queue = [h for h in self._d.handoffs.values() if _is_open(h)]
        queue.sort(key=lambda h: (h.created_at, h.id))
        return [_copy(h) for h in queue]

    async def reserve_id(self) -> int:
        return next(self._d.ids.handoffs)


class MemoryFeedback(_Repo, FeedbackRepo):
    async def add(
        self,
        conversation_id: int | None,
        content: str,
        now: dt.datetime,
        name: str | None = None,
        phone: str | None = None,
    ) -> FeedbackItem:
        """The reference code's year is the year of `now` in its own offset (local time)."""
        aware(now)
        d = self._d
        if conversation_id is not None:
            d.require(conversation_id)
        seq = d.feedback_seq.get(now.year, 0) + 1
        item = _copy(
            FeedbackItem(
                id=next(d.ids.feedback),
                ref=feedback_ref(now.year, seq),
                conversation_id=conversation_id,
                content=content,
                name=name,
                phone=phone,
                created_at=now,
            )
        )
        d.feedback_seq[now.year] = seq
        d.feedback[item.id] = item
        return _copy(item)

    async def items(self) -> list[FeedbackItem]:
        return [_copy(item) for _, item in sorted(self._d.feedback.items())]

    async def set_status(self, ref: str, status: FeedbackStatus) -> FeedbackItem | None:
        for key, item in self._d.feedback.items():
            if item.ref == ref.strip().upper():
                self._d.feedback[key] = item.model_copy(update={"status": status})
                return _copy(self._d.feedback[key])
        return None


class MemoryRatings(_Repo, RatingRepo):
    async def add(
        self, conversation_id: int | None, guide_id: str | None, helpful: bool, now: dt.datetime
    ) -> Rating:
        aware(now)
        if conversation_id is not None:
            self._d.require(conversation_id)
        rating = _copy(
            Rating(
                id=next(self._d.ids.ratings),
                conversation_id=conversation_id,
                guide_id=guide_id,
                helpful=helpful,
                created_at=now,
            )
        )
        self._d.ratings[rating.id] = rating
        return _copy(rating)

    async def set_reason(self, rating_id: int, reason: str) -> None:
        rating = self._d.ratings.get(rating_id)
        if rating is None:
            raise LookupError(f"no rating {rating_id}")
        self._d.ratings[rating_id] = rating.model_copy(update={"reason": reason})

    async def all(self) -> list[Rating]:
        return [_copy(rating) for _, rating in sorted(self._d.ratings.items())]


class MemoryDedup(_Repo, DedupRepo):
    async def first_seen(self, channel: str, message_id: str, now: dt.datetime) -> bool:
        """Ids older than SEEN_TTL are forgotten (pruned at most once per PRUNE_INTERVAL)."""
        aware(now)
        d = self._d
        if prune_due(d.last_prune, now):
            cutoff = now - SEEN_TTL
            d.seen = {k: at for k, at in d.seen.items() if at >= cutoff}
            d.last_prune = now
        if (channel, message_id) in d.seen:
            return False
        d.seen[(channel, message_id)] = now
        return True


class MemoryKeyValue(_Repo, KeyValueRepo):
    async def get(self, key: str) -> str | None:
        return self._d.kv.get(key)

    async def set(self, key: str, value: str, now: dt.datetime) -> None:
        aware(now)
        self._d.kv[key] = value


class MemoryInbox(_Repo, InboxRepo):
    async def receive(self, channel: str, event_key: str, payload: str, now: dt.datetime) -> bool:
        aware(now)
        d = self._d
        if (channel, event_key) in d.inbox_keys:
            return False
        d.inbox_keys.add((channel, event_key))
        item_id = next(d.ids.inbox)
        item = InboxItem(id=item_id, channel=channel, event_key=event_key, payload=payload)
        d.inbox[item_id] = (item, False, None)
        return True

    async def claim(
        self, channel: str, now: dt.datetime, lease: dt.timedelta, limit: int = 100
    ) -> list[InboxItem]:
        claimed: list[InboxItem] = []
        for item_id, (item, done, until) in sorted(self._d.inbox.items()):
            if len(claimed) >= limit:
                break
            if item.channel != channel or done or (until is not None and until > now):
                continue
            if until is not None:  # an earlier round ended unprocessed: failed, or its holder died
                item = item.model_copy(update={"attempts": item.attempts + 1})
            self._d.inbox[item_id] = (item, False, now + lease)
            claimed.append(item.model_copy(update={"claimed_until": now + lease}))
        return claimed

    async def renew(
        self, items: Sequence[InboxItem], now: dt.datetime, lease: dt.timedelta
    ) -> list[InboxItem]:
        kept: list[InboxItem] = []
        for held in items:
            found = self._d.inbox.get(held.id)
            if found is None or found[1] or found[2] != held.claimed_until:
                continue
            self._d.inbox[held.id] = (found[0], False, now + lease)
            kept.append(held.model_copy(update={"claimed_until": now + lease}))
        return kept

    async def failed(self, item: InboxItem, now: dt.datetime, retry_after: dt.timedelta) -> None:
        found = self._d.inbox.get(item.id)
        if found is None or found[1] or found[2] != item.claimed_until:
            return
        self._d.inbox[item.id] = (found[0], False, now + retry_after)  # counted when claimed

    async def done(self, item_id: int, now: dt.datetime) -> None:
        aware(now)
        self._d.inbound_done(item_id)

    async def pending(self, channel: str | None = None) -> int:
        return sum(
            1
            for item, done, _ in self._d.inbox.values()
            if not done and (channel is None or item.channel == channel)
        )

    async def release_claims(self) -> None:
        released: dict[int, tuple[InboxItem, bool, dt.datetime | None]] = {}
        for item_id, (item, done, until) in self._d.inbox.items():
            if until is not None and not done:  # its holder died: one attempt
                item = item.model_copy(update={"attempts": item.attempts + 1})
            released[item_id] = (item, done, None)
        self._d.inbox = released


class MemoryOutbox(_Repo, OutboxRepo):
    async def enqueue(
        self, items: list[Outgoing], now: dt.datetime, receipt: int | None = None
    ) -> None:
        aware(now)
        if receipt is not None:
            self._d.check_receipt(receipt)
        self._d.enqueue(items, now)
        if receipt is not None:
            self._d.inbound_done(receipt)

    async def claim(
        self, now: dt.datetime, lease: dt.timedelta, limit: int = 50
    ) -> list[OutboxItem]:
        outbox = self._d.outbox
        heads: dict[str, int] = {}
        for item_id, (item, _, _) in sorted(outbox.items()):
            heads.setdefault(item.outgoing.queue, item_id)
        claimed: list[OutboxItem] = []
        for item_id in sorted(heads.values()):
            item, due, until = outbox[item_id]
            if len(claimed) >= limit:
                break
            if due > now or (until is not None and until > now):
                continue
            outbox[item_id] = (item, due, now + lease)
            claimed.append(_copy(item))
        return claimed

    async def sent(self, item_id: int) -> None:
        self._d.outbox.pop(item_id, None)

    async def retry(self, item_id: int, due: dt.datetime, reason: str, progress: int) -> None:
        aware(due)
        found = self._d.outbox.get(item_id)
        if found is not None:
            item = found[0].model_copy(
                update={"attempts": found[0].attempts + 1, "progress": progress}
            )
            self._d.outbox[item_id] = (item, due, None)

    async def failed(
        self, item_id: int, now: dt.datetime, report: list[Outgoing], event: Event | None
    ) -> None:
        aware(now)
        d = self._d
        found = d.outbox.pop(item_id, None)
        d.enqueue(report, now)
        owner = found[0].outgoing.conversation_id if found is not None else None
        if event is not None and owner is not None and owner in d.conversations:
            d.events.append((event.at, next(d.ids.events), owner, _copy(event)))

    async def pending(self) -> int:
        return len(self._d.outbox)

    async def release_claims(self) -> None:
        self._d.outbox = {i: (item, due, None) for i, (item, due, _) in self._d.outbox.items()}


class MemoryDeskLinks(_Repo, DeskLinkRepo):
    async def topic(self, conversation_id: int) -> tuple[int, int] | None:
        return self._d.topics.get(conversation_id)

    async def set_topic(
        self, conversation_id: int, chat_id: int, thread_id: int, now: dt.datetime
    ) -> None:
        self._d.topics[conversation_id] = (chat_id, thread_id)

    async def drop_topic(self, conversation_id: int) -> None:
        self._d.topics.pop(conversation_id, None)

    async def conversation_for_thread(self, chat_id: int, thread_id: int) -> int | None:
        return next((c for c, t in self._d.topics.items() if t == (chat_id, thread_id)), None)

    async def link_message(self, chat_id: int, message_id: int, conversation_id: int) -> None:
        self._d.desk_messages[(chat_id, message_id)] = conversation_id

    async def conversation_for_message(self, chat_id: int, message_id: int) -> int | None:
        return self._d.desk_messages.get((chat_id, message_id))


class MemoryReports(_Repo, ReportRepo):
    async def events_of_kinds(
        self, kinds: Sequence[str], since: dt.datetime
    ) -> list[tuple[int | None, Event]]:
        aware(since, "since")
        chosen = [item for item in self._d.events if item[0] >= since and item[3].kind in kinds]
        chosen.sort(key=lambda item: (item[0], item[1]))
        return [(owner, _copy(event)) for _, _, owner, event in chosen]

    async def handoffs_created(self, since: dt.datetime, until: dt.datetime) -> list[Handoff]:
        chosen = [h for h in self._d.handoffs.values() if since <= h.created_at < until]
        chosen.sort(key=lambda h: (h.created_at, h.id))
        return [_copy(h) for h in chosen]

    async def citizens(self) -> dict[int, ConversationKey]:
        return {i: c.key for i, c in self._d.conversations.items()}


class MemoryLeases(LeaseRepo):
    """Leases are process-wide (they name a bot or a job, not a commune's rows)."""

    def __init__(self, leases: dict[str, tuple[str, dt.datetime]]) -> None:
        self._leases = leases

    async def acquire(self, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        aware(now)
        found = self._leases.get(name)
        if found is not None and found[0] != holder and found[1] > now:
            return False
        self._leases[name] = (holder, now + ttl)
        return True

    async def renew(self, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        found = self._leases.get(name)
        if found is None or found[0] != holder or found[1] <= now:
            return False
        self._leases[name] = (holder, now + ttl)
        return True

    async def release(self, name: str, holder: str) -> None:
        found = self._leases.get(name)
        if found is not None and found[0] == holder:
            del self._leases[name]


class MemoryStorage(Storage):
    """One commune's view of a memory database (a fresh database when built alone)."""

    def __init__(
        self,
        *,
        data: _Data | None = None,
        leases: dict[str, tuple[str, dt.datetime]] | None = None,
    ) -> None:
        d = data if data is not None else _Data(ids=_Ids(), commune=DEFAULT_COMMUNE)
        self._d = d
        self.erased: set[int] = d.ids.erased  # ids of conversations erased in the database
        self.commune = d.commune
        self.conversations = MemoryConversations(d)
        self.events = MemoryEvents(d)
        self.handoffs = MemoryHandoffs(d)
        self.feedback = MemoryFeedback(d)
        self.ratings = MemoryRatings(d)
        self.dedup = MemoryDedup(d)
        self.kv = MemoryKeyValue(d)
        self.inbox = MemoryInbox(d)
        self.outbox = MemoryOutbox(d)
        self.desk_links = MemoryDeskLinks(d)
        self.reports = MemoryReports(d)
        self.leases = MemoryLeases(leases if leases is not None else {})

    async def commit(self, turn: Turn) -> None:
        """A display name of None or "" keeps the known one."""
        check_turn(turn)
        d = self._d
        current = d.require(turn.conversation_id)
        # copy everything first: a serialisation error must leave the store untouched
        updated = _copy(
            current.model_copy(
                update={
                    "state": turn.state,
                    "last_seen_at": turn.seen_at,
                    "display_name": turn.display_name or current.display_name,
                }
            )
        )
        lines = [_copy(line) for line in turn.transcript]
        events = [_copy(event) for event in turn.events]
        handoffs = [_copy(h) for h in turn.handoffs]
        if turn.receipt is not None:
            d.check_receipt(turn.receipt)
        staged = dict(d.handoffs)
        for handoff in handoffs:
            d.check_save(handoff, staged, create=True)
            staged[handoff.id] = handoff
        d.handoffs = staged
        d.enqueue(turn.outgoing, turn.seen_at)
        if turn.receipt is not None:
            d.inbound_done(turn.receipt)
        d.conversations[turn.conversation_id] = updated
        d.transcripts[turn.conversation_id].extend(lines)
        for event in events:
            d.events.append((event.at, next(d.ids.events), turn.conversation_id, event))


class MemoryDatabase:
    """Several communes in one process memory: each sees only its own rows."""

    def __init__(self) -> None:
        self._ids = _Ids()
        self._communes: dict[str, _Data] = {}
        self._leases: dict[str, tuple[str, dt.datetime]] = {}

    async def open(self) -> None:
        """Nothing to prepare."""

    async def close(self) -> None:
        """Nothing to release."""

    def for_commune(self, commune: str) -> Storage:
        data = self._communes.get(commune)
        if data is None:
            data = self._communes[commune] = _Data(ids=self._ids, commune=commune)
        return MemoryStorage(data=data, leases=self._leases)
