"""Processing one channel's durable inbox: claim stored updates, handle each in its own task,
in order per conversation and concurrently across conversations.

Shared by the channels that store updates before acknowledging them (Zalo, the web chat): the
update is in the database before the platform is answered, and this worker takes it from there
(including updates left over from before a restart). A failing update is tried again after its
lease; one that keeps failing is skipped so it cannot block the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from flows.locks import KeyedLocks
from flows.ports import Clock, InboxItem, Storage

log = logging.getLogger(__name__)
LEASE = dt.timedelta(seconds=30)  # an update whose processing failed is tried again after this
MAX_ATTEMPTS = 10
BATCH = 200  # updates taken by one claim

Handle = Callable[[Any, InboxItem], Awaitable[None]]
"""Handles one update: its parsed JSON payload and the stored item (for its receipt)."""


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
    ) -> None:
        """`lock_key`: the conversation an update belongs to (its updates run one at a time);
        `what`: how logs name an update ("Zalo event") — never its content."""
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
        for item in items:
            # not one in hand, nor one that ended while the claim was under way (the claim read
            # it before its turn committed): an update is handled once
            if item.id not in self._inflight and item.id not in ended:
                self._inflight[item.id] = asyncio.create_task(self._process(item))
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

    async def _process(self, item: InboxItem) -> None:
        final = False  # handled (or given up): a claim under way must not start it again
        try:
            payload = json.loads(item.payload)
            async with self._slots, self._locks.hold(self._lock_key(payload)):
                await self._handle(payload, item)
            final = True
        except Exception:
            if item.attempts < MAX_ATTEMPTS:
                log.exception("%s %s failed; it will be tried again", self._what, item.id)
            else:
                log.exception("%s %s kept failing; skipped", self._what, item.id)
                await self._storage.inbox.done(item.id, self._clock.now())
                final = True
        finally:
            self._inflight.pop(item.id, None)
            if final:
                for ended in self._claims:
                    ended.add(item.id)

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
            self._wake.set()

    async def stop(self) -> None:
        if self._worker is not None:
            self._stopping = True
            self._worker.cancel()  # Python 3.11's wait_for can swallow a cancel: wait, bounded
            await asyncio.wait([self._worker], timeout=5)
            self._worker = None
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=5)
