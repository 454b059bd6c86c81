"""Two inbox workers (two processes behind a proxy) on one database: an update is answered once,
however long its turn takes; failures and claims that ran out (a process that died) count
towards giving up on it, renewed claims do not.

Run on memory, SQLite and PostgreSQL; on the two databases each worker has its own connection
(its own `Database`), as two processes would. The clock is a manual one: the lease is measured
on it, never on the machine's speed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.inbox_worker import LEASE, MAX_ATTEMPTS, InboxWorker
from bot.storage import Database, open_database
from flows.models import DEFAULT_COMMUNE, ConversationKey, Reply
from flows.ports import VN_TZ, ConversationState, InboxItem, ManualClock, Outgoing, Storage, Turn
from tests.pg import fresh_postgres_database
from tests.storage.conftest import BACKENDS

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=VN_TZ)
CITIZEN = ConversationKey(channel="zalo", user_id="2002")


@pytest.fixture(params=BACKENDS)
async def stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two views of one database, as two processes have."""
    databases: list[Database] = []
    if request.param == "memory":
        memory = open_database(None)
        await memory.open()
        databases = [memory]
        views = (memory.for_commune(DEFAULT_COMMUNE), memory.for_commune(DEFAULT_COMMUNE))
    else:
        url = str(tmp_path / "b.db")
        if request.param == "postgres":
            url = await fresh_postgres_database(request.getfixturevalue("postgres_url"))
        databases = [open_database(url), open_database(url)]
        for database in databases:
            await database.open()
        views = (
            databases[0].for_commune(DEFAULT_COMMUNE),
            databases[1].for_commune(DEFAULT_COMMUNE),
        )
    yield views
    for database in databases:
        await database.close()


class Answering:
    """A worker's handler: one turn per update that answers the citizen (via the outbox, in
    the turn's transaction). `gate`, when set, holds every turn until it is opened."""

    def __init__(self, store: Storage) -> None:
        self.store = store
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()
        self.fail_next = 0

    async def __call__(self, payload: Any, item: InboxItem) -> None:
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next:
            self.fail_next -= 1
            raise OSError("database is locked")
        conv = await self.store.conversations.get_or_create(CITIZEN, T0)
        text = f"trả lời {payload['n']}"
        await self.store.commit(
            Turn(
                conversation_id=conv.id,
                state=ConversationState(),
                seen_at=T0,
                outgoing=[Outgoing(key=CITIZEN, reply=Reply(text=text), conversation_id=conv.id)],
                receipt=item.id,
            )
        )


def worker(store: Storage, clock: ManualClock, handle: Answering) -> InboxWorker:
    return InboxWorker(store, clock, "zalo", handle, lambda _: CITIZEN.user_id, "Zalo event")


async def answers(store: Storage) -> list[str]:
    items = await store.outbox.claim(T0 + dt.timedelta(days=1), LEASE, limit=100)
    return [i.outgoing.reply.text for i in items if i.outgoing.reply is not None]


async def test_a_turn_longer_than_the_lease_is_answered_once(
    stores: tuple[Storage, Storage],
) -> None:
    a_store, b_store = stores
    clock = ManualClock(T0)
    a, b = Answering(a_store), Answering(b_store)
    a.gate = asyncio.Event()
    first, second = worker(a_store, clock, a), worker(b_store, clock, b)
    await a_store.inbox.receive("zalo", "e1", '{"n": 1}', T0)
    assert await first.process_pending() == 1
    await asyncio.wait_for(a.started.wait(), 30)
    for _ in range(4):  # two minutes of a slow turn: the claim is renewed on the way
        clock.advance(LEASE / 2)
        assert await first.claims.renew() == 0
        assert await second.process_pending() == 0  # the other process does not take it
    a.gate.set()
    await first.drain(30)
    clock.advance(LEASE * 2)
    assert await second.process_pending() == 0
    assert await answers(a_store) == ["trả lời 1"]


async def test_an_update_taken_over_after_a_stall_is_answered_once(
    stores: tuple[Storage, Storage], caplog: pytest.LogCaptureFixture
) -> None:
    """The first process stalls longer than its lease (no renewal): the second takes the
    update over and answers it; the first one's turn then commits nothing."""
    a_store, b_store = stores
    clock = ManualClock(T0)
    a, b = Answering(a_store), Answering(b_store)
    a.gate = asyncio.Event()
    first, second = worker(a_store, clock, a), worker(b_store, clock, b)
    await a_store.inbox.receive("zalo", "e1", '{"n": 1}', T0)
    assert await first.process_pending() == 1
    await asyncio.wait_for(a.started.wait(), 30)
    clock.advance(LEASE + dt.timedelta(seconds=1))
    assert await second.process_pending() == 1
    await second.drain(30)
    assert await first.claims.renew() == 1  # the first process learns it lost the claim
    a.gate.set()
    with caplog.at_level(logging.INFO):
        await first.drain(30)
    assert await answers(a_store) == ["trả lời 1"]
    assert "answered by another worker" in caplog.text
    assert "failed" not in caplog.text  # not an error, and not tried again
    assert await a_store.inbox.pending() == 0


class ProcessDied(BaseException):
    """What a crash, an out-of-memory kill or `kill -9` does to a turn: nothing after it runs
    in that process (not an Exception: the worker's failure handling never sees it)."""


class Poisoned(Answering):
    """One process's handler: update 1 kills the process; after that nothing is handled."""

    def __init__(self, store: Storage) -> None:
        super().__init__(store)
        self.dead = False
        self.seen: list[int] = []

    async def __call__(self, payload: Any, item: InboxItem) -> None:
        self.seen.append(payload["n"])
        if self.dead or payload["n"] == 1:
            self.dead = True
            raise ProcessDied
        await super().__call__(payload, item)


@pytest.mark.parametrize("restart", ["taken over", "sole process restarted"])
async def test_an_update_that_kills_its_process_is_skipped_after_the_limit(
    stores: tuple[Storage, Storage], restart: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A citizen's message whose handling kills the process every time, then a normal one.
    Each restart the same message would kill the process again; after MAX_ATTEMPTS of them it
    is skipped without being handled, and the citizen's next message is answered."""
    store, _ = stores
    clock = ManualClock(T0)
    await store.inbox.receive("zalo", "e1", '{"n": 1}', T0)
    await store.inbox.receive("zalo", "e2", '{"n": 2}', T0)
    for _ in range(MAX_ATTEMPTS):
        process = Poisoned(store)
        await worker(store, clock, process).drain(30)
        assert process.seen[0] == 1  # handled again (and died again)
        assert await answers(store) == []
        if restart == "taken over":
            clock.advance(LEASE + dt.timedelta(seconds=1))  # another process, after the lease
        else:
            await store.inbox.release_claims()  # what the only process does when it starts
    survivor = Poisoned(store)
    with caplog.at_level(logging.ERROR):
        await worker(store, clock, survivor).drain(30)
    assert survivor.seen == [2]  # the poisoned message is not handled again
    assert await answers(store) == ["trả lời 2"]
    assert await store.inbox.pending() == 0
    assert f"claimed {MAX_ATTEMPTS + 1} times and never finished; skipped" in caplog.text


async def test_an_update_that_keeps_failing_is_skipped(stores: tuple[Storage, Storage]) -> None:
    store, _ = stores
    clock = ManualClock(T0)
    await store.inbox.receive("zalo", "e1", '{"n": 1}', T0)
    handle = Answering(store)
    handle.fail_next = MAX_ATTEMPTS
    runner = worker(store, clock, handle)
    for _ in range(MAX_ATTEMPTS):
        await runner.drain(30)
        clock.advance(dt.timedelta(minutes=1))
    assert handle.fail_next == 0
    assert await store.inbox.pending() == 0  # given up: it no longer blocks the inbox
    assert await answers(store) == []
