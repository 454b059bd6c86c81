"""The sender: delivers the durable outbox, in order per queue, concurrently across queues.

Turns write what they send into the outbox in their own transaction (flows.engine); this task
takes due entries with a claim (a lease, so an entry whose sender died is taken again), hands
each to its transport (a citizen's channel, or the staff desk) and records the outcome:

- sent: the entry is removed. Telegram and Zalo have no idempotency key, so a crash between the
  platform accepting a message and its removal sends it again on restart. To keep that window
  as small as a client can, each accepted part is first noted in a send journal (`accepted()`,
  one synchronous append to a file, no wait for the database's write lock), by the transport's
  HTTP layer on a send thread (`SendThread`, `completing()`) the moment the answer arrives; a
  restart applies the journal before taking entries, so only a kill between the platform's
  answer and that append (or with the request still out) can still duplicate a message;
- retry: due again after an exponential backoff (1 s, 2 s, 4 s ... capped), the rest of its
  queue waits behind it so a citizen never gets answers out of order;
- failed (refused for good, or too many attempts): removed, and in the same transaction staff
  are told which message did not reach whom and why. Desk posts are never given up on for a
  transient error: without the desk there is nobody to tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from bot.crashpoints import crash_point, send_timing
from flows.models import ConversationKey, StaffNotice
from flows.ports import Clock, Delivery, Event, OutboxItem, Outgoing, StaffDesk, Storage

log = logging.getLogger(__name__)
T = TypeVar("T")
Status = Literal["sent", "retry", "failed"]
DEFAULT_BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0)
MAX_CITIZEN_ATTEMPTS = 40  # about 2.5 hours of retries before staff are told
LEASE = dt.timedelta(minutes=2)  # longer than any single send, rate-limit waits included


@dataclass(frozen=True)
class Outcome:
    status: Status
    reason: str = ""
    progress: int = 0  # parts of a split message delivered so far (never sent again)
    # at least this long before the next attempt: after an answer that never came, the
    # platform may still be delivering; a quick retry would add a copy for every attempt
    wait: float = 0.0


class Transport(Protocol):
    async def attempt(self, item: OutboxItem) -> Outcome: ...


DONE = -1  # journal mark: the whole entry was delivered

# The delivery running in this task (each delivery is its own task, so its own context): how
# a transport reports a part the platform accepted without a parameter on every send helper.
_noting: contextvars.ContextVar[Callable[[int], None] | None] = contextvars.ContextVar(
    "outbox_noting", default=None
)


def accepted(parts: int) -> None:
    """Called by a transport right after the platform accepted a message: `parts` of the
    current outbox entry are now delivered (never sent again, even after a crash)."""
    note = _noting.get()
    if note is not None:
        note(parts)


# The parts of the current entry that the platform request under way completes (set by a
# transport around one request, read by its HTTP layer the moment the answer arrives).
_completes: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "outbox_completes", default=None
)


@contextlib.contextmanager
def completing(parts: int) -> Iterator[None]:
    """Around one platform request: if it is accepted it completes `parts` of the entry. The
    HTTP layer calls `request_accepted()` as soon as the answer says so, before any parsing or
    waiting for the event loop; the transport's own `accepted()` afterwards is then a no-op."""
    token = _completes.set(parts)
    try:
        yield
    finally:
        _completes.reset(token)


def request_accepted() -> None:
    """Called by an HTTP layer the moment the platform answered a request made inside
    `completing()` with success."""
    parts = _completes.get()
    if parts is not None:
        accepted(parts)


class SendJournal:
    """What the platform accepted but the database may not hold yet, in an append-only file.

    A line `<entry id> <parts>` (or `<entry id> -1`: all of it) is written with one `write(2)`
    the moment a send returns: it survives `kill -9` (the kernel holds it; a power loss may drop
    the last lines, as SQLite's synchronous=NORMAL may drop the last commits). Entry ids are
    never reused (AUTOINCREMENT / identity), so applying an old line again is harmless."""

    COMPACT_BYTES = 64 * 1024

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._fd: int | None = None
        self._open: dict[int, int] = {}  # noted, not yet recorded in the database
        self._size = 0
        # notes come from the send thread (the moment a response arrives), the rest from the
        # event loop: one lock, held for a write(2) at most
        self._lock = threading.Lock()

    def replay(self) -> dict[int, int]:
        """Entries noted by an earlier run: id -> parts delivered (DONE: all)."""
        found: dict[int, int] = {}
        try:
            text = self._path.read_text("ascii", errors="replace")
        except FileNotFoundError:
            return found
        for line in text.splitlines():
            fields = line.split()
            if len(fields) != 2 or not all(f.lstrip("-").isdigit() for f in fields):
                continue  # a line torn by the crash
            item_id, parts = int(fields[0]), int(fields[1])
            previous = found.get(item_id, 0)
            found[item_id] = DONE if DONE in (parts, previous) else max(parts, previous)
        return found

    def reset(self) -> None:
        """Start an empty journal (after its lines were applied to the database)."""
        with self._lock:
            self._reset()

    def _reset(self) -> None:
        self._close()
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        self._open.clear()
        self._size = 0

    def note(self, item_id: int, parts: int) -> None:
        line = f"{item_id} {parts}\n".encode()
        with self._lock:
            if self._fd is None:
                self._reset()
            assert self._fd is not None
            self._open[item_id] = parts
            try:
                os.write(self._fd, line)
            except OSError as exc:  # a full disk: the database still records it, a bit later
                log.warning("could not write the send journal: %s", exc.strerror)
                return
            self._size += len(line)

    def done(self, item_id: int) -> bool:
        """Delivered in full but not recorded yet (the database write failed)."""
        with self._lock:
            return self._open.get(item_id) == DONE

    def recorded(self, item_id: int) -> None:
        """The database holds the outcome now; the line may go at the next compaction."""
        with self._lock:
            self._open.pop(item_id, None)
            if self._size > self.COMPACT_BYTES:
                self._compact()

    def _compact(self) -> None:
        """Rewrite the journal with the lines still needed (a rename: never half of either)."""
        tmp = self._path.with_name(self._path.name + ".tmp")
        lines = "".join(f"{i} {p}\n" for i, p in self._open.items()).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, lines)
        finally:
            os.close(fd)
        os.replace(tmp, self._path)
        self._close()
        self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND)
        self._size = len(lines)

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class SendThread:
    """An event loop of its own in a dedicated thread, for a transport's platform calls.

    Why: a kill between the platform taking a message and the journal noting it re-sends it.
    On the main event loop an answer waits in its socket until the running turn yields (the
    matcher, database commits: milliseconds under load); here the thread only waits on its
    sockets, so the answer is noted within the GIL's switch interval of arriving. That interval
    is lowered to `switch_interval` (process-wide; 5 ms by default in CPython) while a send
    thread runs. Coroutines given to `run` must use only objects made for this loop."""

    def __init__(self, name: str, switch_interval: float = 0.0005) -> None:
        self._name = name
        self._switch = switch_interval
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The thread's loop, started on first use."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
                if sys.getswitchinterval() > self._switch:
                    sys.setswitchinterval(self._switch)
            return self._loop

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the thread's loop and wait for it here (a cancel here cancels it)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def stop(self, cleanup: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        """Run `cleanup` (closing the thread's clients) on its loop, then end the thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        if cleanup is not None:
            with contextlib.suppress(Exception):
                await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(cleanup(), loop))
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.get_running_loop().run_in_executor(None, thread.join, 5)
        if not thread.is_alive():
            loop.close()


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
        journal: SendJournal | None = None,
    ) -> None:
        """`sole_process`: no other process serves this database, so claims left at start-up
        are this process's own from before a restart (with a shared PostgreSQL they may be a
        live neighbour's: they are left to expire). `journal`: this sender's own send journal
        (one per sender and database); without one the duplicate window is the wait for the
        database's write lock."""
        self._sole = sole_process
        self._journal = journal
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
        self._claims: list[set[int]] = []  # per claim under way: entries that ended meanwhile
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.delivered = 0
        self.failed = 0

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        """What the last run sent but did not record is recorded now; entries claimed by a
        previous run of this process are free again."""
        if self._journal is not None:
            await self._apply(self._journal.replay())
            self._journal.reset()
        if self._sole:
            await self._storage.outbox.release_claims()
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
        if self._journal is not None and not self._inflight:
            self._journal.close()

    async def finish(self, timeout: float) -> None:
        """Stop claiming, let the round under way start what it claimed (so no claim is left
        to its lease), and wait up to `timeout` for every request in flight to get its answer
        and its outcome recorded: the exit of a sender process whose parent died."""
        self._stopping = True
        self.wake()
        if self._task is not None:
            done, _ = await asyncio.wait([self._task], timeout=min(timeout, 30.0))
            if not done:
                self._task.cancel()
                await asyncio.wait([self._task], timeout=5)
            self._task = None
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=timeout)
        for task in list(self._inflight.values()):
            task.cancel()
        if self._journal is not None and not self._inflight:
            self._journal.close()

    async def _apply(self, noted: dict[int, int]) -> None:
        now = self._clock.now()
        for item_id, parts in sorted(noted.items()):
            if parts == DONE:
                await self._storage.outbox.sent(item_id)
            else:  # a split message cut short: the rest goes, never the delivered parts
                await self._storage.outbox.retry(item_id, now, "interrupted", parts)
        if noted:
            log.info("recorded %d deliveries a previous run had not recorded", len(noted))

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
        ended: set[int] = set()
        self._claims.append(ended)
        try:
            items = await self._storage.outbox.claim(self._clock.now(), self._lease, room)
        finally:
            self._claims.remove(ended)
        for item in items:
            if item.id in self._inflight or item.id in ended:
                # a slow delivery outlived its lease: still ours, or it ended while the claim
                # was under way (the claim read it before its outcome was written): never twice
                continue
            if self._journal is not None and self._journal.done(item.id):
                task = self._record_only(item)  # delivered; only the database write failed
            else:
                task = self._deliver(item)
            self._inflight[item.id] = asyncio.create_task(task)
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
        journal = self._journal
        noted = [item.progress]

        def note(parts: int) -> None:
            if parts != DONE and parts <= noted[0]:
                return  # already noted (by the HTTP layer, a moment earlier)
            noted[0] = max(noted[0], parts)
            if journal is not None:
                journal.note(item.id, parts)

        _noting.set(note)
        final = False
        try:
            outcome = await self._attempt(item)
            if outcome.status != "sent" and noted[0] > outcome.progress:
                # what the platform accepted is never sent again, whatever the transport says
                outcome = Outcome(outcome.status, outcome.reason, noted[0], outcome.wait)
            if outcome.status == "sent" and journal is not None:
                journal.note(item.id, DONE)  # before any wait: the shortest window we can have
            returned = time.monotonic()
            await self._record(item, outcome)
            if outcome.status == "sent":
                send_timing(returned, time.monotonic())  # the window without a journal
            final = outcome.status != "retry"
            if journal is not None:
                journal.recorded(item.id)
        except Exception:
            log.exception("recording an outbox delivery failed (entry %s)", item.id)
        finally:
            self._ended(item.id, final)

    async def _record_only(self, item: OutboxItem) -> None:
        final = False
        try:
            await self._record(item, Outcome("sent"))
            final = True
            if self._journal is not None:
                self._journal.recorded(item.id)
        except Exception:
            log.exception("recording an outbox delivery failed (entry %s)", item.id)
        finally:
            self._ended(item.id, final)

    def _ended(self, item_id: int, final: bool) -> None:
        """`final`: sent or failed for good, so a claim that read it before that outcome
        committed must not start it again; an entry left to retry may be taken again."""
        self._inflight.pop(item_id, None)
        if final:
            for ended in self._claims:
                ended.add(item_id)
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
            delay = max(self._backoff[min(item.attempts, len(self._backoff) - 1)], outcome.wait)
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
            # imported here: flows.handoff brings the guide library (seconds of imports),
            # which the sender process never needs otherwise
            from flows.handoff import undelivered_notice

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
        from flows.handoff import display_name

        found = await self._storage.conversations.by_key(key)
        if found is None:
            return f"Người dân {key.user_id[-4:]}"
        return display_name(found)
