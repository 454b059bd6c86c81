"""Processing one channel's durable inbox: claim stored updates, handle each in its own task,
in order per conversation and concurrently across conversations.

Shared by the channels that store updates before acknowledging them (Zalo, the web chat): the
update is in the database before the platform is answered, and this worker takes it from there
(including updates left over from before a restart). A failing update is tried again after a
while; one that keeps failing is skipped so it cannot block the inbox. A claim that runs out
(its process died or stalled) counts like a failure, so an update whose handling kills the
process (a crash, memory exhausted) is skipped after so many restarts instead of crash-looping;
a claim that is renewed, however long, does not count.

Claims are leases, renewed while their updates are being processed, so a turn (or a queue of
turns of one conversation) longer than the lease is not taken over by another worker or
process. If one is taken over all the same (a process stalled longer than its lease), the
turn's transaction sees its inbox entry processed and commits nothing: answered once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from flows.locks import KeyedLocks
from flows.ports import Clock, InboxEntryTaken, InboxItem, InboxRepo, Storage

log = logging.getLogger(__name__)
LEASE = dt.timedelta(seconds=30)  # a claim not renewed (its process died) ends after this
RENEW_SECONDS = LEASE.total_seconds() / 3  # renewals a lease outlives: two missed ones
RETRY_AFTER = dt.timedelta(seconds=30)  # an update whose processing failed is tried again after
MAX_ATTEMPTS = 10  # failures (or claims that ran out) before an update is skipped
BATCH = 200  # updates taken by one claim


def worn_out(items: Sequence[InboxItem], limit: int) -> InboxItem | None:
    """The update of a claim to skip without handling it: the oldest one whose rounds ended
    `limit` times without processing it. Handling that kills the process never fails, so this
    is what stops a crash loop. Others at the limit are handled: they may only have waited
    behind it (claimed with it, their claims ran out at each of its crashes)."""
    return min((i for i in items if i.attempts >= limit), key=lambda i: i.id, default=None)


class Claims:
    """The inbox claims a worker holds while their updates are processed, renewed together
    (one statement) every `every_seconds` so that they outlive slow turns."""

    def __init__(
        self,
        inbox: InboxRepo,
        clock: Clock,
        what: str,
        lease: dt.timedelta = LEASE,
        every_seconds: float = RENEW_SECONDS,
    ) -> None:
        self._inbox = inbox
        self._clock = clock
        self._what = what
        self._lease = lease
        self._every = every_seconds
        self._held: dict[int, InboxItem] = {}
        self._task: asyncio.Task[None] | None = None

    def hold(self, item: InboxItem) -> None:
        self._held[item.id] = item

    def current(self, item: InboxItem) -> InboxItem:
        """`item` with its latest lease (what `failed` must name)."""
        return self._held.get(item.id, item)

    def release(self, item_id: int) -> None:
        self._held.pop(item_id, None)

    async def renew(self) -> int:
        """Extend every claim held; returns how many were lost (finished or taken over
        elsewhere: their turns will not commit)."""
        held = list(self._held.values())
        if not held:
            return 0
        kept = {i.id: i for i in await self._inbox.renew(held, self._clock.now(), self._lease)}
        lost = 0
        for item in held:
            if item.id not in self._held:
                continue  # ended while the renewal was under way
            if item.id in kept:
                self._held[item.id] = kept[item.id]
            else:
                lost += 1
                self._held.pop(item.id)
        if lost:
            log.warning("%d %s claim(s) ran out while being processed", lost, self._what)
        return lost

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.renew()
            except Exception:
                log.exception("renewing %s claims failed; trying again", self._what)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=5)
            self._task = None


Handle = Callable[[Any, InboxItem], Awaitable[None]]
"""Handles one update: its parsed JSON payload and the stored item (for its receipt)."""

GiveUp = Callable[[Any, InboxItem], Awaitable[None]]
"""Marks an update given up on done, telling its citizen (the channel knows who sent it)."""


class InboxWorker:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        channel: str,
        handle: Handle,
        lock_key: Callable[[Any], str],
        what: str,
        concurrency: int = 32,
        poll_seconds: float = 1.0,
        give_up: GiveUp | None = None,
    ) -> None:
        """`lock_key`: the conversation an update belongs to (its updates run one at a time);
        `what`: how logs name an update ("Zalo event") — never its content; `give_up`: what
        ends an update that is skipped (without it, it is only marked done)."""
        self._storage = storage
        self._clock = clock
        self._channel = channel
        self._handle = handle
        self._lock_key = lock_key
        self._what = what
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._claims: list[set[int]] = []  # per claim under way: updates that ended meanwhile
        self._locks: KeyedLocks[str] = KeyedLocks()
        self._slots = asyncio.Semaphore(concurrency)
        self._poll = poll_seconds
        self._give_up_with = give_up
        self.claims = Claims(storage.inbox, clock, what)

    def wake(self) -> None:
        """A new update was stored: look at the inbox now."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._worker is not None and not self._worker.done()

    async def process_pending(self) -> int:
        """Start handling stored updates not processed yet; returns how many were started."""
        return (await self._claim())[0]

    async def _claim(self) -> tuple[int, bool]:
        """(updates started, whether the claim was full: more may be waiting)."""
        ended: set[int] = set()
        self._claims.append(ended)
        try:
            items = await self._storage.inbox.claim(self._channel, self._clock.now(), LEASE, BATCH)
        finally:
            self._claims.remove(ended)
        started = 0
        worn = worn_out(items, MAX_ATTEMPTS)
        for item in items:
            # not one in hand, nor one that ended while the claim was under way (the claim read
            # it before its turn committed): an update is handled once
            if item.id not in self._inflight and item.id not in ended:
                self.claims.hold(item)
                self._inflight[item.id] = asyncio.create_task(self._process(item, item is worn))
                started += 1
        return started, len(items) >= BATCH

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every stored update is processed (tests)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            started = await self.process_pending()
            if self._inflight:
                await asyncio.wait(list(self._inflight.values()), timeout=deadline - loop.time())
            elif not started:
                return

    async def _process(self, item: InboxItem, worn: bool = False) -> None:
        final = False  # handled (or given up): a claim under way must not start it again
        try:
            if worn:  # not handled again: its handling may be what stops the process
                log.error(
                    "%s %s was claimed %d times and never finished; skipped",
                    self._what,
                    item.id,
                    item.attempts + 1,
                )
                await self._give_up(item)
                final = True
                return
            payload = json.loads(item.payload)
            async with self._slots, self._locks.hold(self._lock_key(payload)):
                await self._handle(payload, item)
            final = True
        except InboxEntryTaken:
            log.info("%s %s was answered by another worker", self._what, item.id)
            final = True
        except Exception:
            if item.attempts + 1 < MAX_ATTEMPTS:
                log.exception("%s %s failed; it will be tried again", self._what, item.id)
                await self._failed(item)
            else:
                log.exception("%s %s kept failing; skipped", self._what, item.id)
                await self._give_up(item)
                final = True
        finally:
            self.claims.release(item.id)
            self._inflight.pop(item.id, None)
            if final:
                for ended in self._claims:
                    ended.add(item.id)

    async def _give_up(self, item: InboxItem) -> None:
        """Skip an update for good: the channel tells its citizen (the message is not lost
        silently); if even that fails, it is only marked done, so it no longer blocks."""
        if self._give_up_with is not None:
            try:
                await self._give_up_with(json.loads(item.payload), item)
                return
            except Exception:
                log.exception("telling the sender of %s %s failed", self._what, item.id)
        await self._storage.inbox.done(item.id, self._clock.now())

    async def _failed(self, item: InboxItem) -> None:
        try:
            await self._storage.inbox.failed(
                self.claims.current(item), self._clock.now(), RETRY_AFTER
            )
        except Exception:  # not counted: it is tried again when its lease ends
            log.exception("recording the failure of %s %s failed", self._what, item.id)

    async def _run(self) -> None:
        """Claims only when woken (an update was stored) or every `poll_seconds` (updates of
        another process, retries): a claim costs a write, so none is made just in case."""
        while not self._stopping:
            try:
                _, full = await self._claim()
            except Exception:
                log.exception("reading the %s inbox failed; trying again", self._channel)
                full = False
            if not full:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)
                self._wake.clear()

    def start(self) -> None:
        """Begin processing (including updates left over from before a restart)."""
        if self._worker is None:
            self._stopping = False
            self._worker = asyncio.create_task(self._run())
            self.claims.start()
            self._wake.set()

    async def stop(self) -> None:
        if self._worker is not None:
            self._stopping = True
            self._worker.cancel()  # Python 3.11's wait_for can swallow a cancel: wait, bounded
            await asyncio.wait([self._worker], timeout=5)
            self._worker = None
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=5)
        await self.claims.stop()
