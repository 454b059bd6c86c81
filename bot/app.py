"""Wiring and lifecycle: build the core from settings, run a channel, shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, Protocol

import asyncpg  # type: ignore[import-untyped]
import uvicorn

from bot.channels.console import Console
from bot.channels.local import LocalDesk, LocalOutbox, LogDesk, Sink
from bot.channels.routing import RoutingOutbox
from bot.channels.simulate import Simulation
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.zalo.channel import ZaloChannel
from bot.config import Settings, StartupError
from bot.delivery import OutboxSender, QueuedDesk, Transport
from bot.editor import editor_commands, staff_commands
from bot.housekeeping import RetentionPurge, WeeklyStaleReport
from bot.http import build_http_app, telegram_route
from bot.storage import MemoryStorage, SqliteStorage, is_postgres, sqlite_path
from bot.storage.postgres import PostgresDatabase, PostgresStorage
from flows.engine import Engine, EngineConfig
from flows.models import DEFAULT_COMMUNE, Reply, StaffNotice
from flows.ports import (
    Clock,
    Delivery,
    LeaseRepo,
    ManualClock,
    Outbox,
    StaffDesk,
    Storage,
    SystemClock,
)
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


async def open_database(storage: SqliteStorage | PostgresStorage) -> None:
    """Open, migrate and prove the database writable, or stop with one line."""
    try:
        await storage.open()
        await storage.check_writable()
    except (OSError, sqlite3.Error, asyncpg.PostgresError) as exc:
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
    return SqliteStorage(
        sqlite_path(path or settings.bot_db), synchronous=settings.sqlite_synchronous
    )


def bot_storage(settings: Settings) -> SqliteStorage | PostgresStorage:
    """BOT_DB: a SQLite file, or a postgresql:// URL (several processes may share it)."""
    if is_postgres(settings.bot_db):
        return PostgresStorage(PostgresDatabase(settings.bot_db), DEFAULT_COMMUNE, owned=True)
    return sqlite(settings)


async def run_console(
    settings: Settings, stdin: IO[str] = sys.stdin, out: IO[str] = sys.stdout
) -> None:
    clock = SystemClock()
    holder = library_holder(settings, clock)
    console = Console(out)
    sink: Sink = console.sink
    database = bot_storage(settings)
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


PERIODIC_LEASE = "periodic-jobs"


def lease_holder() -> str:
    """Who holds a lease: this process (unique across hosts and restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


POLLER_TTL = dt.timedelta(seconds=30)


async def hold_poller_lease(
    settings: Settings, leases: LeaseRepo, stop: asyncio.Event
) -> asyncio.Task[None]:
    """Wait until this process holds the poller lease of its Telegram bot, then keep renewing
    it; if it is lost (this process stalled past the expiry), stop: a supervisor restarts the
    process, which waits for the lease again. Returns the renewing task."""
    token = settings.telegram_bot_token
    bot_id = token.get_secret_value().split(":", 1)[0] if token else "-"
    name, holder = f"telegram-poller:{bot_id}", lease_holder()
    clock = SystemClock()  # leases are across processes: real time
    while not await leases.acquire(name, holder, clock.now(), POLLER_TTL):
        log.info("another process polls Telegram bot %s; waiting", bot_id)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLLER_TTL.total_seconds() / 3)
        if stop.is_set():
            break

    async def renew() -> None:
        try:
            while not stop.is_set():
                await asyncio.sleep(POLLER_TTL.total_seconds() / 3)
                if not await leases.renew(name, holder, clock.now(), POLLER_TTL):
                    log.error("lost the Telegram poller lease; stopping")
                    stop.set()
        finally:
            with contextlib.suppress(Exception):
                await leases.release(name, holder)

    return asyncio.create_task(renew())


async def _ticker(
    engine: Engine,
    jobs: list[Periodic],
    interval: float,
    leases: LeaseRepo | None = None,
    clock: Clock | None = None,
    holder: str = "",
) -> None:
    """Time-driven work: reminders to staff, the weekly review list, the daily retention purge
    (queued replies are retried by the outbox sender). With `leases`, only the process holding
    the periodic-jobs lease runs them, so several processes on one database run each job once;
    a lease not renewed (its process died) passes to another after three intervals."""
    ttl = dt.timedelta(seconds=interval * 3)
    while True:
        await asyncio.sleep(interval)
        try:
            if (
                leases is not None
                and clock is not None
                and not await leases.acquire(PERIODIC_LEASE, holder, clock.now(), ttl)
            ):
                continue
            await engine.tick()
            for job in jobs:
                await job.run()
        except Exception:
            log.exception("periodic work failed; will try again")


WATCH_SECONDS = 2.0


def report_maker(
    holder: LibraryHolder, storage: Storage, clock: Clock
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
    storage = bot_storage(settings)
    await open_database(storage)
    server: HttpServer | None = None
    tasks: list[asyncio.Task[None]] = []
    telegram = (
        TelegramChannel(settings, storage, storage.desk_links, clock)
        if settings.telegram_enabled
        else None
    )
    zalo = ZaloChannel(settings, storage, clock) if settings.zalo_enabled else None
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
    sender = OutboxSender(storage, transports, clock, sole_process=not is_postgres(settings.bot_db))
    engine = build_engine(
        settings, holder, storage, desk, RoutingOutbox(outboxes), clock, delivery=sender
    )
    routes = []
    poller_lease: asyncio.Task[None] | None = None
    try:
        if telegram is not None:
            telegram.bind(
                engine,
                editor_commands(holder, storage, clock),
                report_maker(holder, storage, clock),
                staff_commands(storage),
            )
            if not settings.telegram_webhook_url and is_postgres(settings.bot_db):
                # processes sharing the database: exactly one polls this bot
                poller_lease = await hold_poller_lease(settings, storage.leases, stop)
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
        if routes or settings.healthz_always:
            checks = [c.health for c in (telegram, zalo) if c is not None]
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
        tasks.append(
            asyncio.create_task(
                _ticker(engine, jobs, tick_seconds, storage.leases, clock, lease_holder())
            )
        )
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
        if zalo is not None:
            with contextlib.suppress(Exception):
                await zalo.stop()
        if telegram is not None:
            with contextlib.suppress(Exception):
                await telegram.stop()
        if poller_lease is not None:
            poller_lease.cancel()
            await asyncio.gather(poller_lease, return_exceptions=True)
        await storage.close()
