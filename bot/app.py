"""Wiring and lifecycle: build the core from settings, run a channel, shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO

import uvicorn

from bot.channels.console import Console
from bot.channels.local import LocalDesk, LocalOutbox, Sink
from bot.channels.routing import RoutingOutbox
from bot.channels.simulate import Simulation
from bot.channels.telegram.channel import TelegramChannel
from bot.config import Settings
from bot.editor import editor_commands
from bot.http import build_http_app, telegram_route
from bot.storage import MemoryStorage, SqliteStorage
from bot.storage.links import SqliteDeskLinks, SqlitePendingSends
from flows.engine import Engine, EngineConfig
from flows.ports import Clock, ManualClock, Outbox, StaffDesk, Storage, SystemClock
from knowledge.holder import LibraryHolder
from knowledge.library import KnowledgeError

log = logging.getLogger(__name__)


def library_holder(settings: Settings, clock: Clock) -> LibraryHolder:
    holder = LibraryHolder(settings.knowledge_dir, lambda: clock.now().date())
    _, problems = holder.load()
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


TICK_SECONDS = 30.0


class HttpServer(uvicorn.Server):
    """uvicorn inside our lifecycle: our signal handlers decide when to stop, not uvicorn's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _ticker(engine: Engine, telegram: TelegramChannel | None, interval: float) -> None:
    """Time-driven work: reminders to staff, retrying queued replies."""
    while True:
        await asyncio.sleep(interval)
        try:
            await engine.tick()
            if telegram is not None:
                await telegram.retry_pending()
        except Exception:
            log.exception("periodic work failed; will try again")


async def run_bot(
    settings: Settings, stop: asyncio.Event | None = None, tick_seconds: float = TICK_SECONDS
) -> None:
    """Run the configured channels until SIGTERM/SIGINT (or `stop` is set), then stop cleanly:
    stop taking updates, finish in-flight work, flush the desk, close the database."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    clock = SystemClock()
    holder = library_holder(settings, clock)
    storage = sqlite(settings)
    await storage.open()
    server: HttpServer | None = None
    tasks: list[asyncio.Task[None]] = []
    telegram = TelegramChannel(
        settings, storage, SqliteDeskLinks(storage), SqlitePendingSends(storage), clock
    )
    try:
        outbox = RoutingOutbox({"telegram": telegram.outbox})
        engine = build_engine(settings, holder, storage, telegram.desk, outbox, clock)
        telegram.bind(engine, editor_commands(holder, storage, clock))
        await telegram.start()
        log.info(
            "Telegram channel started (%s)",
            "webhook" if settings.telegram_webhook_url else "polling",
        )
        routes = []
        if settings.telegram_webhook_url:
            secret = settings.telegram_webhook_secret
            routes.append(
                telegram_route(telegram.feed, secret.get_secret_value() if secret else None)
            )
            config = uvicorn.Config(
                build_http_app(routes),
                host=settings.http_host,
                port=settings.http_port,
                log_level="warning",
                lifespan="off",
            )
            server = HttpServer(config)
            tasks.append(asyncio.create_task(server.serve()))
        tasks.append(asyncio.create_task(_ticker(engine, telegram, tick_seconds)))
        await stop.wait()
        log.info("stopping")
    finally:
        if server is not None:
            server.should_exit = True
        for task in tasks:
            if server is None or task is not tasks[0]:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await telegram.stop()
        await storage.close()
