"""Wiring and lifecycle: build the core from settings, run a channel, shut down cleanly."""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from bot.channels.console import Console
from bot.channels.local import LocalDesk, LocalOutbox, Sink
from bot.channels.simulate import Simulation
from bot.config import Settings
from bot.storage import MemoryStorage, SqliteStorage
from flows.engine import Engine, EngineConfig
from flows.ports import Clock, ManualClock, Outbox, StaffDesk, Storage, SystemClock
from knowledge.holder import LibraryHolder
from knowledge.library import KnowledgeError

log = logging.getLogger(__name__)


def library_holder(settings: Settings, clock: Clock) -> LibraryHolder:
    holder = LibraryHolder(settings.knowledge_dir, lambda: clock.now().date())
    problems = holder.load()
    for problem in problems:
        log.warning("%s", problem.render())
    holder.current()  # fail at start-up, not at the first question
    return holder


def build_engine(
    settings: Settings,
    holder: LibraryHolder,
    storage: Storage,
    desk: StaffDesk,
    outbox: Outbox,
    clock: Clock,
) -> Engine:
    config = EngineConfig(reminder_minutes=settings.handoff_reminder_minutes)
    return Engine(holder.current, storage, desk, outbox, clock, config)


@contextlib.asynccontextmanager
async def opened(storage: Storage) -> AsyncIterator[Storage]:
    await storage.open()
    try:
        yield storage
    finally:
        await storage.close()


def sqlite(settings: Settings, path: Path | None = None) -> SqliteStorage:
    return SqliteStorage(path or settings.bot_db, synchronous=settings.sqlite_synchronous)


async def run_console(
    settings: Settings, stdin: IO[str] = sys.stdin, out: IO[str] = sys.stdout
) -> None:
    clock = SystemClock()
    holder = library_holder(settings, clock)
    console = Console(out)
    sink: Sink = console.sink
    async with opened(sqlite(settings)) as storage:
        engine = build_engine(settings, holder, storage, LocalDesk(sink), LocalOutbox(sink), clock)
        await console.run(engine, storage, stdin)


async def run_simulation(
    settings: Settings,
    db: Path | None,
    stdin: IO[str] = sys.stdin,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
    memory: bool = False,
) -> None:
    clock = ManualClock(SystemClock().now())
    holder = library_holder(settings, clock)
    sim = Simulation(out, err)
    with tempfile.TemporaryDirectory(prefix="bot-sim-") as tmp:
        storage: Storage = (
            MemoryStorage() if memory else sqlite(settings, db or Path(tmp) / "sim.sqlite3")
        )
        async with opened(storage):
            engine = build_engine(
                settings, holder, storage, LocalDesk(sim.sink), LocalOutbox(sim.sink), clock
            )
            await sim.run(engine, storage, clock, stdin)


__all__ = ["KnowledgeError", "run_console", "run_simulation"]
