"""Wiring and lifecycle: build the core from settings, run a channel, shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import sqlite3
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, Protocol

import uvicorn
from starlette.routing import BaseRoute

from bot.channels.console import Console
from bot.channels.local import LocalDesk, LocalOutbox, LogDesk, Sink
from bot.channels.routing import RoutingOutbox
from bot.channels.simulate import Simulation
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.web.channel import WebChat
from bot.channels.zalo.channel import ZaloChannel
from bot.config import Settings, StartupError
from bot.delivery import OutboxSender, QueuedDesk, Transport
from bot.editor import editor_commands, staff_commands
from bot.housekeeping import RetentionPurge, WeeklyStaleReport
from bot.http import build_http_app, telegram_route
from bot.storage import MemoryStorage, SqliteStorage
from bot.storage.links import SqliteDeskLinks
from bot.storage.webchat import SqliteWebChatLog
from flows.engine import Engine, EngineConfig
from flows.models import Reply, StaffNotice
from flows.ports import Clock, Delivery, ManualClock, Outbox, StaffDesk, Storage, SystemClock
from knowledge.holder import LibraryHolder
from knowledge.samples import sample_keys, sample_message

log = logging.getLogger(__name__)


def check_knowledge_dir(path: Path) -> None:
    """An unreadable folder would otherwise surface as a traceback from deep in the loader."""
    where = f"KNOWLEDGE_DIR {path}"
    if not path.is_dir():
        raise StartupError(f"{where}: not a folder")
    try:
        names = os.listdir(path)
        for sub in path.rglob("*.yaml"):
            with sub.open("rb"):
                pass
    except OSError as exc:
        raise StartupError(f"{where}: cannot be read by this user ({exc.strerror})") from None
    if not names:
        raise StartupError(f"{where}: the folder is empty")


async def open_database(storage: SqliteStorage) -> None:
    """Open, migrate and prove the database writable, or stop with one line."""
    try:
        await storage.open()
        await storage.check_writable()
    except (OSError, sqlite3.Error) as exc:
        await storage.close()
        raise StartupError(
            f"BOT_DB {storage.path}: cannot create or write the database ({exc}); "
            "check the path and that this user may write the file and its folder"
        ) from None


def library_holder(settings: Settings, clock: Clock) -> LibraryHolder:
    check_knowledge_dir(settings.knowledge_dir)
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
    delivery: Delivery | None = None,
) -> Engine:
    config = EngineConfig(reminder_minutes=settings.handoff_reminder_minutes)
    return Engine(holder.current, storage, desk, outbox, clock, config, delivery)


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
    database = sqlite(settings)
    await open_database(database)
    async with opened(database) as storage:
        engine = build_engine(settings, holder, storage, LocalDesk(sink), LocalOutbox(sink), clock)
        watcher = asyncio.create_task(watch_knowledge(holder))
        try:
            await console.run(engine, storage, stdin)
        finally:
            watcher.cancel()


async def run_simulation(
    settings: Settings,
    db: Path | None,
    stdin: IO[str] = sys.stdin,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
    memory: bool = False,
    start: dt.datetime | None = None,
) -> None:
    clock = ManualClock(start or SystemClock().now())
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


TICK_SECONDS = 30.0


class HttpServer(uvicorn.Server):
    """uvicorn inside our lifecycle: our signal handlers decide when to stop, not uvicorn's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Periodic(Protocol):
    async def run(self) -> bool: ...


async def _ticker(engine: Engine, jobs: list[Periodic], interval: float) -> None:
    """Time-driven work: reminders to staff, the weekly review list, the daily retention purge
    (queued replies are retried by the outbox sender)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await engine.tick()
            for job in jobs:
                await job.run()
        except Exception:
            log.exception("periodic work failed; will try again")


WATCH_SECONDS = 2.0


def report_maker(
    holder: LibraryHolder, storage: SqliteStorage, clock: Clock
) -> Callable[[], Awaitable[tuple[str, bytes | None]]]:
    """/baocao for staff: the summary of the last 30 days and the weekly chart as PNG bytes."""

    async def make() -> tuple[str, bytes | None]:
        from bot.charts import weekly_chart
        from bot.report.summary import recent_report, summary_text

        report = await recent_report(storage, holder.knowledge, clock.now().date())
        with tempfile.TemporaryDirectory(prefix="baocao-") as tmp:
            chart = weekly_chart(report, Path(tmp) / "cau-hoi-theo-tuan.png").read_bytes()
        return summary_text(report), chart

    return make


async def watch_knowledge(holder: LibraryHolder, interval: float = WATCH_SECONDS) -> None:
    """Edited, added or removed guide files take effect within seconds; an invalid edit is
    logged and the previous guides keep serving."""
    while True:
        await asyncio.sleep(interval)
        try:
            outcome = holder.reload_if_changed()
        except Exception:
            log.exception("reloading the guides failed; the previous guides keep serving")
            continue
        if outcome is None:
            continue
        loaded, problems = outcome
        for problem in problems:
            log.warning("%s", problem.render())
        if loaded:
            log.info("guides reloaded: %d procedures", len(holder.current().guides))
        else:
            log.error("guide files have errors; still serving the previous version")


async def run_bot(
    settings: Settings,
    stop: asyncio.Event | None = None,
    tick_seconds: float = TICK_SECONDS,
    clock: Clock | None = None,
) -> None:
    """Run the configured channels until SIGTERM/SIGINT (or `stop` is set), then stop cleanly:
    stop taking updates, finish in-flight work, flush the desk, close the database.
    `clock` is for tests (the weekly and daily jobs depend on the time)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    clock = clock or SystemClock()
    holder = library_holder(settings, clock)
    storage = sqlite(settings)
    await open_database(storage)
    server: HttpServer | None = None
    tasks: list[asyncio.Task[None]] = []
    telegram = (
        TelegramChannel(settings, storage, SqliteDeskLinks(storage), clock)
        if settings.telegram_enabled
        else None
    )
    zalo = ZaloChannel(settings, storage, clock) if settings.zalo_enabled else None
    web = WebChat(storage, SqliteWebChatLog(storage), clock) if settings.web_chat else None
    log_desk = LogDesk()
    desk: StaffDesk = telegram.desk if telegram is not None else log_desk
    outboxes: dict[str, Outbox] = {}
    transports: dict[str, Transport] = {"desk": telegram.desk if telegram else log_desk}
    if telegram is not None:
        outboxes["telegram"] = telegram.outbox
        transports["telegram"] = telegram.outbox
    if zalo is not None:
        outboxes["zalo"] = zalo.outbox
        transports["zalo"] = zalo.outbox
    if web is not None:
        outboxes["web"] = transports["web"] = web.outbox
    sender = OutboxSender(storage, transports, clock)
    engine = build_engine(
        settings, holder, storage, desk, RoutingOutbox(outboxes), clock, delivery=sender
    )
    routes: list[BaseRoute] = []
    try:
        if telegram is not None:
            telegram.bind(
                engine,
                editor_commands(holder, storage, clock),
                report_maker(holder, storage, clock),
                staff_commands(storage),
            )
            await telegram.start()
            log.info(
                "Telegram started (%s)", "webhook" if settings.telegram_webhook_url else "polling"
            )
            if settings.telegram_webhook_url:
                secret = settings.telegram_webhook_secret
                routes.append(
                    telegram_route(telegram.feed, secret.get_secret_value() if secret else None)
                )
        if zalo is not None:
            zalo.bind(engine)
            await zalo.start()
            routes.append(zalo.receiver.route())
            log.info("Zalo started: webhook at /zalo/webhook")
        if web is not None:
            web.bind(engine)
            web.start()
            routes += web.routes()
            log.info("web chat started: /widget.js")
        if routes or settings.healthz_always:
            checks = [c.health for c in (telegram, zalo, web) if c is not None]
            config = uvicorn.Config(
                build_http_app(routes, checks),
                host=settings.http_host,
                port=settings.http_port,
                log_level="warning",
                lifespan="off",
            )
            server = HttpServer(config)
            tasks.append(asyncio.create_task(server.serve()))
            log.info("HTTP on %s:%s", settings.http_host, settings.http_port)
        await sender.start()
        queued_desk = QueuedDesk(storage, sender, clock)
        if keys := sample_keys(holder.current().kb.office):  # real channels: say it loudly
            log.warning("office.yaml still holds SAMPLE values: %s", ", ".join(keys))
            with contextlib.suppress(Exception):
                await queued_desk.post(
                    StaffNotice(key=None, reply=Reply(text=sample_message(keys)))
                )
        jobs: list[Periodic] = [
            WeeklyStaleReport(holder, storage, queued_desk, clock),
            RetentionPurge(storage, clock, settings.retention_months),
        ]
        tasks.append(asyncio.create_task(_ticker(engine, jobs, tick_seconds)))
        tasks.append(asyncio.create_task(watch_knowledge(holder)))
        await stop.wait()
        log.info("stopping")
    finally:
        if server is not None:
            server.should_exit = True
        for task in tasks[1 if server is not None else 0 :]:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await sender.stop()
        if web is not None:
            with contextlib.suppress(Exception):
                await web.stop()
        if zalo is not None:
            with contextlib.suppress(Exception):
                await zalo.stop()
        if telegram is not None:
            with contextlib.suppress(Exception):
                await telegram.stop()
        await storage.close()
