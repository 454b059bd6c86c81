"""The sender: delivers the durable outbox, in order per queue, concurrently across queues.

Turns write what they send into the outbox in their own transaction (flows.engine); this task
takes due entries with a claim (a lease, so an entry whose sender died is taken again), hands
each to its transport (a citizen's channel, or the staff desk) and records the outcome:

- sent: the entry is removed (the duplicate window is the time between the platform accepting
  a message and this removal: a crash inside it sends the message again on restart);
- retry: due again after an exponential backoff (1 s, 2 s, 4 s ... capped), the rest of its
  queue waits behind it so a citizen never gets answers out of order;
- failed (refused for good, or too many attempts): removed, and in the same transaction staff
  are told which message did not reach whom and why. Desk posts are never given up on for a
  transient error: without the desk there is nobody to tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.crashpoints import crash_point
from flows.handoff import display_name, undelivered_notice
from flows.models import ConversationKey, StaffNotice
from flows.ports import Clock, Delivery, Event, OutboxItem, Outgoing, StaffDesk, Storage

log = logging.getLogger(__name__)
Status = Literal["sent", "retry", "failed"]
DEFAULT_BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0)
MAX_CITIZEN_ATTEMPTS = 40  # about 2.5 hours of retries before staff are told
LEASE = dt.timedelta(minutes=2)  # longer than any single send, rate-limit waits included


@dataclass(frozen=True)
class Outcome:
    status: Status
    reason: str = ""
    progress: int = 0  # parts of a split message delivered so far (never sent again)


class Transport(Protocol):
    async def attempt(self, item: OutboxItem) -> Outcome: ...


class QueuedDesk(StaffDesk):
    """A StaffDesk for work outside turns (weekly reports...): notices go through the outbox."""

    def __init__(self, storage: Storage, delivery: Delivery, clock: Clock) -> None:
        self._storage = storage
        self._delivery = delivery
        self._clock = clock

    async def post(self, notice: StaffNotice) -> None:
        await self._storage.outbox.enqueue([Outgoing(notice=notice)], self._clock.now())
        self._delivery.wake()


class OutboxSender(Delivery):
    def __init__(
        self,
        storage: Storage,
        transports: dict[str, Transport],
        clock: Clock,
        *,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        max_attempts: int = MAX_CITIZEN_ATTEMPTS,
        concurrency: int = 32,
        poll_seconds: float = 1.0,
        lease: dt.timedelta = LEASE,
        sole_process: bool = True,
    ) -> None:
        """`sole_process`: no other process serves this database, so claims left at start-up
        are this process's own from before a restart (with a shared PostgreSQL they may be a
        live neighbour's: they are left to expire)."""
        self._sole = sole_process
        self._storage = storage
        self._transports = transports
        self._clock = clock
        self._backoff = tuple(backoff) or (0.0,)
        self._max_attempts = max_attempts
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._lease = lease
        self._wake = asyncio.Event()
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.delivered = 0
        self.failed = 0

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        """Entries claimed by a previous run of this process are free again."""
        if self._sole:
            await self._storage.outbox.release_claims()
            await self._storage.inbox.release_claims()
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        self.wake()

    async def stop(self) -> None:
        """Stop taking entries; let the deliveries in flight finish (briefly)."""
        if self._task is not None:
            self._stopping = True
            self._task.cancel()  # Python 3.11's wait_for can swallow a cancel: wait, bounded
            await asyncio.wait([self._task], timeout=5)
            self._task = None
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=5)
        for task in list(self._inflight.values()):
            task.cancel()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                full = await self._round()
            except Exception:
                log.exception("taking outbox entries failed; trying again")
                full = False
            if not full:  # all that was due is taken: claim again when woken (a claim writes)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)
                self._wake.clear()

    async def round(self) -> int:
        """Claim what is due and start delivering it; returns how many were started."""
        before = len(self._inflight)
        await self._round()
        return len(self._inflight) - before

    async def _round(self) -> bool:
        """Claim and start; True if the claim was full (more may be due right now)."""
        room = self._concurrency - len(self._inflight)
        if room <= 0:
            return False  # a delivery ending wakes the loop
        items = await self._storage.outbox.claim(self._clock.now(), self._lease, room)
        for item in items:
            if item.id in self._inflight:
                continue  # a slow delivery outlived its lease: still ours, do not send twice
            self._inflight[item.id] = asyncio.create_task(self._deliver(item))
        return len(items) >= room

    async def drain(self, timeout: float = 10.0) -> None:
        """Deliver until nothing is due or in flight (tests, simulation, shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            started = await self.round()
            if self._inflight:
                await asyncio.wait(list(self._inflight.values()), timeout=deadline - loop.time())
            elif not started:
                return

    async def _deliver(self, item: OutboxItem) -> None:
        try:
            outcome = await self._attempt(item)
            await self._record(item, outcome)
        except Exception:
            log.exception("recording an outbox delivery failed (entry %s)", item.id)
        finally:
            self._inflight.pop(item.id, None)
            self.wake()  # the next entry of this queue is now at its head

    async def _attempt(self, item: OutboxItem) -> Outcome:
        transport = self._transports.get(item.outgoing.target)
        if transport is None:
            return Outcome("failed", f"no channel {item.outgoing.target!r} configured")
        kind = item.outgoing.notice.kind if item.outgoing.notice is not None else "reply"
        crash_point(f"send-before:{kind}")
        try:
            outcome = await transport.attempt(item)
            if outcome.status == "sent":
                crash_point(f"send-after:{kind}")
            elif outcome.status == "retry":
                crash_point(f"send-retry:{kind}")
            return outcome
        except Exception as exc:  # a bug or an unexpected error: retry, never drop
            log.exception("delivering outbox entry %s failed", item.id)
            return Outcome("retry", type(exc).__name__, item.progress)

    async def _record(self, item: OutboxItem, outcome: Outcome) -> None:
        now = self._clock.now()
        to_desk = item.outgoing.notice is not None
        kind = item.outgoing.notice.kind if item.outgoing.notice is not None else "reply"
        if outcome.status == "sent":
            await self._storage.outbox.sent(item.id)
            self.delivered += 1
            return
        if outcome.status == "retry" and (to_desk or item.attempts + 1 < self._max_attempts):
            delay = self._backoff[min(item.attempts, len(self._backoff) - 1)]
            if item.attempts in (0, 5, 20) or item.attempts % 100 == 99:
                log.warning(
                    "outbox entry %s to %s not delivered yet (attempt %d): %s",
                    item.id,
                    item.outgoing.target,
                    item.attempts + 1,
                    outcome.reason,
                )
            await self._storage.outbox.retry(
                item.id, now + dt.timedelta(seconds=delay), outcome.reason, outcome.progress
            )
            crash_point(f"retry-recorded:{kind}")
            return
        self.failed += 1
        report: list[Outgoing] = []
        event = None
        outgoing = item.outgoing
        if outgoing.reply is not None and outgoing.key is not None:
            name = await self._name(outgoing.key)
            notice = undelivered_notice(
                outgoing.key, name, outgoing.reply.text, outcome.reason, now
            )
            report.append(Outgoing(notice=notice))
            event = Event(kind="unreachable", at=now, data={"reason": outcome.reason[:200]})
            log.info("a message to %s could not be delivered: %s", outgoing.key, outcome.reason)
        else:
            log.error("a staff desk post was refused for good: %s", outcome.reason)
        await self._storage.outbox.failed(item.id, now, report, event)

    async def _name(self, key: ConversationKey) -> str:
        found = await self._storage.conversations.by_key(key)
        if found is None:
            return f"Người dân {key.user_id[-4:]}"
        return display_name(found)
