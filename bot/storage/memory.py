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
from collections.abc import Iterator
from typing import TypeVar

from pydantic import BaseModel

from flows.models import ConversationKey
from flows.ports import (
    OPEN_STATUSES,
    Conversation,
    Event,
    FeedbackItem,
    FeedbackStatus,
    Handoff,
    InboxItem,
    OutboxItem,
    Outgoing,
    Rating,
    Storage,
    TranscriptLine,
    Turn,
)

SEEN_TTL = dt.timedelta(days=7)
"""How long a platform message id is remembered; platforms redeliver within minutes, not days."""
PRUNE_INTERVAL = dt.timedelta(hours=1)
"""first_seen prunes old ids at most this often, so the guard stays a cheap insert."""

M = TypeVar("M", bound=BaseModel)


def aware(moment: dt.datetime, what: str = "time") -> dt.datetime:
    """Refuse naive datetimes: stored times must compare correctly across offsets."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got {moment.isoformat()}")
    return moment


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


class MemoryStorage(Storage):
    """Every method runs without awaiting, so each one is atomic under asyncio."""

    def __init__(self) -> None:
        self._conversations: dict[int, Conversation] = {}
        self._by_key: dict[ConversationKey, int] = {}
        self._transcripts: dict[int, list[TranscriptLine]] = {}
        # (time, insertion id, conversation id, event): sorted by the first two on read
        self._events: list[tuple[dt.datetime, int, int | None, Event]] = []
        self._handoffs: dict[int, Handoff] = {}
        self._feedback: dict[int, FeedbackItem] = {}
        self._feedback_seq: dict[int, int] = {}
        self._ratings: dict[int, Rating] = {}
        self._seen: dict[tuple[str, str], dt.datetime] = {}
        self._last_prune: dt.datetime | None = None
        # ids are never reused, as with SQLite AUTOINCREMENT
        self._conversation_ids: Iterator[int] = itertools.count(1)
        self._event_ids: Iterator[int] = itertools.count(1)
        self._handoff_ids: Iterator[int] = itertools.count(1)
        self._feedback_ids: Iterator[int] = itertools.count(1)
        self._rating_ids: Iterator[int] = itertools.count(1)
        # inbox: id -> (item, processed, claimed until); keys seen per channel
        self._inbox: dict[int, tuple[InboxItem, bool, dt.datetime | None]] = {}
        self._inbox_keys: set[tuple[str, str]] = set()
        self._inbox_ids: Iterator[int] = itertools.count(1)
        # outbox: id -> (item, due, claimed until)
        self._outbox: dict[int, tuple[OutboxItem, dt.datetime, dt.datetime | None]] = {}
        self._outbox_ids: Iterator[int] = itertools.count(1)

    def _require(self, conversation_id: int) -> Conversation:
        found = self._conversations.get(conversation_id)
        if found is None:
            raise LookupError(f"no conversation {conversation_id}")
        return found

    async def conversation(
        self, key: ConversationKey, now: dt.datetime, display_name: str = ""
    ) -> Conversation:
        aware(now)
        conversation_id = self._by_key.get(key)
        if conversation_id is None:
            conversation_id = next(self._conversation_ids)
            self._conversations[conversation_id] = _copy(
                Conversation(
                    id=conversation_id,
                    key=key,
                    display_name=display_name,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            self._by_key[key] = conversation_id
            self._transcripts[conversation_id] = []
        return _copy(self._conversations[conversation_id])

    async def find_conversation(self, conversation_id: int) -> Conversation | None:
        found = self._conversations.get(conversation_id)
        return None if found is None else _copy(found)

    async def find_by_key(self, key: ConversationKey) -> Conversation | None:
        conversation_id = self._by_key.get(key)
        return None if conversation_id is None else await self.find_conversation(conversation_id)

    async def commit(self, turn: Turn) -> None:
        """A display name of None or "" keeps the known one."""
        check_turn(turn)
        current = self._require(turn.conversation_id)
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
        staged = dict(self._handoffs)
        for handoff in handoffs:
            self._check_save(handoff, staged, create=True)
            staged[handoff.id] = handoff
        self._handoffs = staged
        self._enqueue(turn.outgoing, turn.seen_at)
        if turn.receipt is not None:
            self._inbound_done(turn.receipt)
        self._conversations[turn.conversation_id] = updated
        self._transcripts[turn.conversation_id].extend(lines)
        for event in events:
            self._events.append((event.at, next(self._event_ids), turn.conversation_id, event))

    async def recent_transcript(self, conversation_id: int, limit: int) -> list[TranscriptLine]:
        if limit <= 0:
            return []
        lines = self._transcripts.get(conversation_id, [])
        return [_copy(line) for line in lines[-limit:]]

    async def log_event(self, conversation_id: int | None, event: Event) -> None:
        aware(event.at, "event time")
        if conversation_id is not None:
            self._require(conversation_id)
        stored = _copy(event)
        self._events.append((stored.at, next(self._event_ids), conversation_id, stored))

    async def events(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[tuple[int | None, Event]]:
        """Events with since <= at < until, so consecutive report periods never overlap."""
        if since is not None:
            aware(since, "since")
        if until is not None:
            aware(until, "until")
        chosen = [
            item
            for item in self._events
            if (since is None or item[0] >= since) and (until is None or item[0] < until)
        ]
        chosen.sort(key=lambda item: (item[0], item[1]))
        return [(conversation_id, _copy(event)) for _, _, conversation_id, event in chosen]

    def _open_handoff_of(self, conversation_id: int) -> Handoff | None:
        for handoff in self._handoffs.values():
            if handoff.conversation_id == conversation_id and _is_open(handoff):
                return handoff
        return None

    async def open_handoff(
        self, conversation_id: int, now: dt.datetime, guide_id: str | None, reason: str
    ) -> Handoff:
        aware(now)
        self._require(conversation_id)
        existing = self._open_handoff_of(conversation_id)
        if existing is None:
            existing = _copy(
                Handoff(
                    id=next(self._handoff_ids),
                    conversation_id=conversation_id,
                    status="waiting",
                    guide_id=guide_id,
                    reason=reason,
                    created_at=now,
                )
            )
            self._handoffs[existing.id] = existing
        return _copy(existing)

    async def current_handoff(self, conversation_id: int) -> Handoff | None:
        found = self._open_handoff_of(conversation_id)
        return None if found is None else _copy(found)

    async def save_handoff(self, handoff: Handoff) -> None:
        """Raises LookupError for an unknown handoff, ValueError when reopening it would give
        its conversation a second open handoff."""
        check_handoff(handoff)
        self._check_save(handoff, self._handoffs, create=False)
        self._handoffs[handoff.id] = _copy(handoff)

    def _check_save(self, handoff: Handoff, handoffs: dict[int, Handoff], create: bool) -> None:
        existing = handoffs.get(handoff.id)
        if (existing is None and not create) or (
            existing is not None and existing.conversation_id != handoff.conversation_id
        ):
            raise LookupError(f"no handoff {handoff.id} for conversation {handoff.conversation_id}")
        if existing is None:
            self._require(handoff.conversation_id)
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

    async def open_handoffs(self) -> list[Handoff]:
        queue = [h for h in self._handoffs.values() if _is_open(h)]
        queue.sort(key=lambda h: (h.created_at, h.id))
        return [_copy(h) for h in queue]

    async def add_feedback(
        self,
        conversation_id: int | None,
        content: str,
        now: dt.datetime,
        name: str | None = None,
        phone: str | None = None,
    ) -> FeedbackItem:
        """The reference code's year is the year of `now` in its own offset (local time)."""
        aware(now)
        if conversation_id is not None:
            self._require(conversation_id)
        seq = self._feedback_seq.get(now.year, 0) + 1
        item = _copy(
            FeedbackItem(
                id=next(self._feedback_ids),
                ref=feedback_ref(now.year, seq),
                conversation_id=conversation_id,
                content=content,
                name=name,
                phone=phone,
                created_at=now,
            )
        )
        self._feedback_seq[now.year] = seq
        self._feedback[item.id] = item
        return _copy(item)

    async def feedback_items(self) -> list[FeedbackItem]:
        """Oldest first."""
        return [_copy(item) for _, item in sorted(self._feedback.items())]

    async def set_feedback_status(self, ref: str, status: FeedbackStatus) -> FeedbackItem | None:
        for key, item in self._feedback.items():
            if item.ref == ref.strip().upper():
                self._feedback[key] = item.model_copy(update={"status": status})
                return _copy(self._feedback[key])
        return None

    async def add_rating(
        self, conversation_id: int | None, guide_id: str | None, helpful: bool, now: dt.datetime
    ) -> Rating:
        aware(now)
        if conversation_id is not None:
            self._require(conversation_id)
        rating = _copy(
            Rating(
                id=next(self._rating_ids),
                conversation_id=conversation_id,
                guide_id=guide_id,
                helpful=helpful,
                created_at=now,
            )
        )
        self._ratings[rating.id] = rating
        return _copy(rating)

    async def set_rating_reason(self, rating_id: int, reason: str) -> None:
        rating = self._ratings.get(rating_id)
        if rating is None:
            raise LookupError(f"no rating {rating_id}")
        self._ratings[rating_id] = rating.model_copy(update={"reason": reason})

    async def ratings(self) -> list[Rating]:
        """Oldest first."""
        return [_copy(rating) for _, rating in sorted(self._ratings.items())]

    async def delete_conversation(self, conversation_id: int) -> None:
        """Deleting an unknown (or already deleted) conversation does nothing."""
        conversation = self._conversations.pop(conversation_id, None)
        if conversation is None:
            return
        del self._by_key[conversation.key]
        del self._transcripts[conversation_id]
        self._events = [
            (at, i, None, anonymised(e)) if owner == conversation_id else (at, i, owner, e)
            for at, i, owner, e in self._events
        ]
        self._handoffs = {
            i: h for i, h in self._handoffs.items() if h.conversation_id != conversation_id
        }
        self._ratings = {
            i: r for i, r in self._ratings.items() if r.conversation_id != conversation_id
        }
        for item_id, item in self._feedback.items():
            if item.conversation_id == conversation_id:
                self._feedback[item_id] = item.model_copy(update=ERASED_FEEDBACK)
        prefix = f"{conversation.key.user_id}/"
        self._seen = {
            k: at
            for k, at in self._seen.items()
            if not (k[0] == conversation.key.channel and k[1].startswith(prefix))
        }

    async def purge_older_than(self, cutoff: dt.datetime) -> int:
        aware(cutoff)
        old = [
            c.id
            for c in self._conversations.values()
            if c.last_seen_at < cutoff and self._open_handoff_of(c.id) is None
        ]
        for conversation_id in old:
            await self.delete_conversation(conversation_id)
        self._events = [
            (at, i, owner, anonymised(event) if at < cutoff else event)
            for at, i, owner, event in self._events
        ]
        for item_id, item in self._feedback.items():
            if item.created_at < cutoff:
                self._feedback[item_id] = item.model_copy(update=ERASED_FEEDBACK)
        for rating_id, rating in self._ratings.items():
            if rating.created_at < cutoff:
                self._ratings[rating_id] = rating.model_copy(update={"reason": None})
        return len(old)

    async def first_seen(self, channel: str, message_id: str, now: dt.datetime) -> bool:
        """Ids older than SEEN_TTL are forgotten (pruned at most once per PRUNE_INTERVAL)."""
        aware(now)
        if prune_due(self._last_prune, now):
            cutoff = now - SEEN_TTL
            self._seen = {k: at for k, at in self._seen.items() if at >= cutoff}
            self._last_prune = now
        if (channel, message_id) in self._seen:
            return False
        self._seen[(channel, message_id)] = now
        return True

    # --- inbox -----------------------------------------------------------------------------

    async def receive(self, channel: str, event_key: str, payload: str, now: dt.datetime) -> bool:
        aware(now)
        if (channel, event_key) in self._inbox_keys:
            return False
        self._inbox_keys.add((channel, event_key))
        item_id = next(self._inbox_ids)
        item = InboxItem(id=item_id, channel=channel, event_key=event_key, payload=payload)
        self._inbox[item_id] = (item, False, None)
        return True

    async def claim_inbound(
        self, channel: str, now: dt.datetime, lease: dt.timedelta, limit: int = 100
    ) -> list[InboxItem]:
        claimed: list[InboxItem] = []
        for item_id, (item, done, until) in sorted(self._inbox.items()):
            if len(claimed) >= limit:
                break
            if item.channel != channel or done or (until is not None and until > now):
                continue
            item = item.model_copy(update={"attempts": item.attempts + 1})
            self._inbox[item_id] = (item, False, now + lease)
            claimed.append(_copy(item))
        return claimed

    def _inbound_done(self, item_id: int) -> None:
        found = self._inbox.get(item_id)
        if found is not None:
            self._inbox[item_id] = (found[0].model_copy(update={"payload": ""}), True, None)

    async def inbound_done(self, item_id: int, now: dt.datetime) -> None:
        aware(now)
        self._inbound_done(item_id)

    async def pending_inbound(self, channel: str | None = None) -> int:
        return sum(
            1
            for item, done, _ in self._inbox.values()
            if not done and (channel is None or item.channel == channel)
        )

    # --- outbox ----------------------------------------------------------------------------

    async def reserve_handoff_id(self) -> int:
        return next(self._handoff_ids)

    def _enqueue(self, items: list[Outgoing], now: dt.datetime) -> None:
        for outgoing in items:
            item_id = next(self._outbox_ids)
            item = OutboxItem(id=item_id, outgoing=_copy(outgoing), created_at=now)
            self._outbox[item_id] = (item, now, None)

    async def enqueue(
        self, items: list[Outgoing], now: dt.datetime, receipt: int | None = None
    ) -> None:
        aware(now)
        self._enqueue(items, now)
        if receipt is not None:
            self._inbound_done(receipt)

    async def claim_outgoing(
        self, now: dt.datetime, lease: dt.timedelta, limit: int = 50
    ) -> list[OutboxItem]:
        heads: dict[str, int] = {}
        for item_id, (item, _, _) in sorted(self._outbox.items()):
            heads.setdefault(item.outgoing.queue, item_id)
        claimed: list[OutboxItem] = []
        for item_id in sorted(heads.values()):
            item, due, until = self._outbox[item_id]
            if len(claimed) >= limit:
                break
            if due > now or (until is not None and until > now):
                continue
            self._outbox[item_id] = (item, due, now + lease)
            claimed.append(_copy(item))
        return claimed

    async def outgoing_sent(self, item_id: int) -> None:
        self._outbox.pop(item_id, None)

    async def outgoing_retry(
        self, item_id: int, due: dt.datetime, reason: str, progress: int
    ) -> None:
        aware(due)
        found = self._outbox.get(item_id)
        if found is not None:
            item = found[0].model_copy(
                update={"attempts": found[0].attempts + 1, "progress": progress}
            )
            self._outbox[item_id] = (item, due, None)

    async def outgoing_failed(
        self, item_id: int, now: dt.datetime, report: list[Outgoing], event: Event | None
    ) -> None:
        aware(now)
        found = self._outbox.pop(item_id, None)
        self._enqueue(report, now)
        owner = found[0].outgoing.conversation_id if found is not None else None
        if event is not None and owner is not None and owner in self._conversations:
            self._events.append((event.at, next(self._event_ids), owner, _copy(event)))

    async def release_claims(self) -> None:
        self._outbox = {i: (item, due, None) for i, (item, due, _) in self._outbox.items()}
        self._inbox = {i: (item, done, None) for i, (item, done, _) in self._inbox.items()}

    async def pending_outgoing(self) -> int:
        return len(self._outbox)
