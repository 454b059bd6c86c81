"""The composition root: one commune's whole application, built from its configuration.

`bootstrap` is the only place that decides which implementation serves each port (library
holder, storage, channels, desk, outbox sender, periodic jobs). Every part can be replaced
through `Parts`, so tests run the production wiring with fakes on loopback instead of
re-assembling it by hand. The process (bot.app) runs one CommuneApp per commune.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import sqlite3
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import asyncpg  # type: ignore[import-untyped]
from starlette.routing import BaseRoute

from bot.channels.local import LogDesk
from bot.channels.routing import RoutingOutbox
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.web.channel import WebChat
from bot.channels.zalo.channel import ZaloChannel
from bot.communes import Commune
from bot.config import Settings, StartupError
from bot.delivery import OutboxSender, QueuedDesk, Transport
from bot.editor import editor_commands, staff_commands
from bot.housekeeping import RetentionPurge, WeeklyStaleReport
from bot.http import Health, telegram_route
from bot.relay import RelayedDelivery, SenderRelay, send_journal
from bot.storage import Database, is_postgres, open_database, open_storage
from bot.storage.files import StaffFiles, staff_files
from bot.storage.webchat import WebChatLog
from flows.engine import Engine, EngineConfig
from flows.models import Reply, StaffNotice
from flows.ports import Clock, Delivery, LeaseRepo, Outbox, StaffDesk, Storage, SystemClock
from knowledge.holder import LibraryHolder, SharedLibraries
from knowledge.samples import sample_keys, sample_message

log = logging.getLogger(__name__)


class Periodic(Protocol):
    async def run(self) -> bool: ...


PERIODIC_LEASE = "periodic-jobs"


def lease_holder() -> str:
    """Who holds a lease: this process (unique across hosts and restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


POLLER_TTL = dt.timedelta(seconds=30)


async def hold_poller_lease(
    settings: Settings,
    leases: LeaseRepo,
    stop: asyncio.Event,
    on_acquired: Callable[[], Awaitable[None]],
    ttl: dt.timedelta = POLLER_TTL,
) -> None:
    """Wait until this process holds the poller lease of its Telegram bot, start polling, then
    keep renewing it; if it is lost (this process stalled past the expiry), stop: a supervisor
    restarts the process, which waits for the lease again. Runs as a background task, so a
    process waiting for the lease serves everything else (webhooks, the Telegram inbox, the
    outbox) meanwhile; a neighbour killed with -9 hands it over within `ttl`."""
    token = settings.telegram_bot_token
    bot_id = token.get_secret_value().split(":", 1)[0] if token else "-"
    name, holder = f"telegram-poller:{bot_id}", lease_holder()
    clock = SystemClock()  # leases are across processes: real time
    interval = ttl.total_seconds() / 3

    async def attempt(step: Callable[..., Awaitable[bool]]) -> bool | None:
        """One acquire or renew; None when the database did not answer (try again later)."""
        try:
            return await step(name, holder, clock.now(), ttl)
        except Exception as exc:
            log.warning("Telegram poller lease: %s; trying again", type(exc).__name__)
            return None

    try:
        waiting = False
        while not await attempt(leases.acquire):
            if not waiting:
                log.info("another process polls Telegram bot %s; waiting", bot_id)
                waiting = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            if stop.is_set():
                return
        log.info("this process now polls Telegram bot %s", bot_id)
        await on_acquired()
        while not stop.is_set():
            await asyncio.sleep(interval)
            if await attempt(leases.renew) is False:  # None: unknown, the next renew tells
                log.error("lost the Telegram poller lease; stopping")
                stop.set()
    finally:
        with contextlib.suppress(Exception):
            await leases.release(name, holder)


@dataclass
class Parts:
    """What a caller may supply instead of the production part (tests: a manual clock)."""

    clock: Clock | None = None
    database: Database | None = None
    """Shared by every commune (each sees only its rows); default: BOT_DB, opened here."""
    holder_id: str = field(default_factory=lease_holder)
    """This process in leases: only one process runs a commune's periodic jobs at a time."""
    poller_ttl: dt.timedelta = POLLER_TTL
    """How long a Telegram poller lease outlives its process (takeover time after a kill)."""
    relay: SenderRelay | None = None
    """The sender process (BOT_SENDER=process): then this process only commits the outbox."""


class SharedDatabase:
    """The process's one database, closed when the last commune using it stops."""

    def __init__(self, database: Database, users: int, owned: bool) -> None:
        self.database = database
        self._users = users
        self._owned = owned

    async def release(self) -> None:
        self._users -= 1
        if self._users <= 0 and self._owned:
            await self.database.close()


def check_knowledge_dir(path: Path, what: str = "KNOWLEDGE_DIR") -> None:
    """An unreadable folder would otherwise surface as a traceback from deep in the loader."""
    where = f"{what} {path}"
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


def library_holder(
    settings: Settings,
    clock: Clock,
    overrides: Path | None = None,
    commune: str | None = None,
    libraries: SharedLibraries | None = None,
) -> LibraryHolder:
    """The guides a commune serves: the province library with the commune's overrides. With
    `libraries`, communes serving the same layers get the same holder, built once."""
    check_knowledge_dir(settings.knowledge_dir)
    if overrides is not None:
        check_knowledge_dir(overrides, f"knowledge overrides of {commune}")
    libraries = libraries or SharedLibraries()
    builds = libraries.builds
    holder = libraries.holder(
        settings.knowledge_dir, lambda: clock.now().date(), overrides=overrides, commune=commune
    )
    if libraries.builds == builds:
        return holder  # built (and checked) for an earlier commune
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


def sqlite(settings: Settings, path: Path | str | None = None) -> Storage:
    """The single-commune store of the console and the simulation: BOT_DB or `path` (a SQLite
    file or a postgresql:// URL)."""
    return open_storage(path or settings.bot_db, synchronous=settings.sqlite_synchronous)


def _unwritable(where: str, exc: BaseException) -> StartupError:
    return StartupError(
        f"BOT_DB {where}: cannot create or write the database ({exc}); "
        "check the path and that this user may write the file and its folder"
    )


async def open_checked(database: Database, where: str) -> None:
    """Open and migrate the database, or stop with one line."""
    try:
        await database.open()
    except (OSError, sqlite3.Error, asyncpg.PostgresError) as exc:
        await database.close()
        raise _unwritable(where, exc) from None


async def open_store(storage: Storage, settings: Settings) -> None:
    """Open a single-commune store (console, simulation), or stop with one line."""
    where = _where(settings)
    try:
        await storage.open()
    except (OSError, sqlite3.Error, asyncpg.PostgresError) as exc:
        await storage.close()
        raise _unwritable(where, exc) from None
    await check_writable(storage, where)


async def check_writable(storage: Storage, where: str) -> None:
    """Fail now, not at the first citizen, when the file or its folder is read-only."""
    try:
        await storage.kv.set("startup.probe", "", dt.datetime.now(dt.UTC))
    except (OSError, sqlite3.Error, asyncpg.PostgresError) as exc:
        raise _unwritable(where, exc) from None


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


def webhook_path(channel: str, commune: Commune) -> str:
    """`/telegram/webhook` for the implicit commune (as before), `/telegram/<id>/webhook`
    for each commune of a province."""
    return f"/{channel}/webhook" if commune.implicit else f"/{channel}/{commune.id}/webhook"


def web_chat_prefix(commune: Commune) -> str:
    """Where a commune's web chat lives: at the root for the implicit commune (`/widget.js`,
    as before), under `/c/<id>` for each commune of a province (`/c/<id>/widget.js`)."""
    return "" if commune.implicit else f"/c/{commune.id}"


@dataclass
class CommuneApp:
    """Everything one commune runs; `start` and `stop` bring it up and down in order."""

    commune: Commune
    clock: Clock
    holder: LibraryHolder
    storage: Storage
    engine: Engine
    sender: OutboxSender | RelayedDelivery
    desk: StaffDesk
    telegram: TelegramChannel | None = None
    zalo: ZaloChannel | None = None
    jobs: list[Periodic] = field(default_factory=list)
    web: WebChat | None = None
    files: StaffFiles | None = None  # files staff send from the web inbox
    routes: list[BaseRoute] = field(default_factory=list)
    shared: SharedDatabase | None = None
    holder_id: str = ""
    tick_seconds: float = 30.0
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the process must stop (e.g. the Telegram poller lease was lost)."""
    poller_lease: asyncio.Task[None] | None = None
    poller_ttl: dt.timedelta = POLLER_TTL

    @property
    def checks(self) -> list[Health]:
        """Health of each channel; a province names the commune in each problem."""
        checks: list[Health] = []
        for channel in (self.telegram, self.zalo, self.web):
            if channel is None:
                continue
            if self.commune.implicit:
                checks.append(channel.health)
            else:
                checks.append(_named(self.commune.id, channel.health))
        return checks

    async def start(self) -> None:
        settings = self.commune.settings
        if not is_postgres(settings.bot_db):
            # the only process on this database: its inbox claims left are its own from before
            # a restart (with a shared PostgreSQL they may be a live neighbour's: left to expire)
            await self.storage.inbox.release_claims()
        if self.telegram is not None:
            if not settings.telegram_webhook_url and is_postgres(settings.bot_db):
                # processes sharing the database: exactly one polls this bot; every one
                # processes its stored updates and sends its outbox
                await self.telegram.start(poll=False)
                self.poller_lease = asyncio.create_task(
                    hold_poller_lease(
                        settings,
                        self.storage.leases,
                        self.stop_event,
                        self.telegram.start_polling,
                        self.poller_ttl,
                    )
                )
            else:
                await self.telegram.start()
            mode = "webhook" if settings.telegram_webhook_url else "polling"
            log.info("%s: Telegram started (%s)", self.commune.id, mode)
        if self.zalo is not None:
            await self.zalo.start()
            log.info("%s: Zalo started: webhook at %s", self.commune.id, self.zalo_path)
        if self.web is not None:
            self.web.start()
            log.info("%s: web chat started: /widget.js", self.commune.id)
        await self.sender.start()
        await self._warn_samples()

    @property
    def zalo_path(self) -> str:
        return webhook_path("zalo", self.commune)

    async def _warn_samples(self) -> None:
        if keys := sample_keys(self.holder.current().kb.office):  # real channels: say it loudly
            log.warning(
                "%s: office.yaml still holds SAMPLE values: %s", self.commune.id, ", ".join(keys)
            )
            with contextlib.suppress(Exception):
                await QueuedDesk(self.storage, self.sender, self.clock).post(
                    StaffNotice(key=None, reply=Reply(text=sample_message(keys)))
                )

    async def tick(self) -> None:
        """Time-driven work: reminders to staff, the weekly review list, the retention purge
        (queued replies are retried by the outbox sender). Only the process holding the
        commune's lease runs them, so several processes on one database run each job once; a
        lease not renewed (its process died) passes to another after three intervals."""
        ttl = dt.timedelta(seconds=max(self.tick_seconds, 1.0) * 3)
        lease = f"{PERIODIC_LEASE}:{self.commune.id}"
        if not await self.storage.leases.acquire(lease, self.holder_id, self.clock.now(), ttl):
            return
        await self.engine.tick()
        for job in self.jobs:
            await job.run()

    async def stop(self) -> None:
        await self.sender.stop()
        if self.web is not None:
            with contextlib.suppress(Exception):
                await self.web.stop()
        if self.zalo is not None:
            with contextlib.suppress(Exception):
                await self.zalo.stop()
        if self.telegram is not None:
            with contextlib.suppress(Exception):
                await self.telegram.stop()
        if self.poller_lease is not None:
            self.poller_lease.cancel()
            await asyncio.gather(self.poller_lease, return_exceptions=True)
        if self.shared is not None:
            await self.shared.release()


def _named(commune: str, check: Health) -> Health:
    def named() -> str | None:
        problem = check()
        return f"{commune}: {problem}" if problem else None

    return named


async def bootstrap(
    commune: Commune,
    parts: Parts | None = None,
    shared: SharedDatabase | None = None,
    libraries: SharedLibraries | None = None,
) -> CommuneApp:
    """Build (not start) one commune's application on the shared database (opened and migrated
    here when `shared` is not given); with `libraries`, on the library built for the communes
    before it that serve the same guide layers."""
    parts = parts or Parts()
    settings = commune.settings
    clock = parts.clock or SystemClock()
    overrides = commune.overrides
    holder = library_holder(
        settings, clock, overrides, None if commune.implicit else commune.id, libraries
    )
    if shared is None:
        shared = await _open_shared(settings, parts, users=1)
    try:
        storage = shared.database.for_commune(commune.id)
        await check_writable(storage, _where(settings))
        app = _assemble(commune, clock, holder, storage, parts.relay)
    except BaseException:
        await shared.release()
        raise
    app.shared = shared
    app.holder_id = parts.holder_id
    app.poller_ttl = parts.poller_ttl
    return app


def _where(settings: Settings) -> str:
    """The database named in errors, without a password from a postgresql:// URL."""
    url = str(settings.bot_db)
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return url


async def _open_shared(settings: Settings, parts: Parts, users: int) -> SharedDatabase:
    if parts.database is not None:
        return SharedDatabase(parts.database, users, owned=False)
    database = open_database(settings.bot_db, synchronous=settings.sqlite_synchronous)
    await open_checked(database, _where(settings))
    return SharedDatabase(database, users, owned=True)


def _web_log(storage: Storage) -> WebChatLog:
    """The widget's message log in the commune's database (memory for a memory store)."""
    from bot.storage.webchat import web_chat_log

    return web_chat_log(storage)


def _assemble(
    commune: Commune,
    clock: Clock,
    holder: LibraryHolder,
    storage: Storage,
    relay: SenderRelay | None = None,
) -> CommuneApp:
    settings = commune.settings
    telegram = (
        TelegramChannel(settings, storage, storage.desk_links, clock, commune=commune.id)
        if settings.telegram_enabled
        else None
    )
    zalo = (
        ZaloChannel(settings, storage, clock, commune=commune.id) if settings.zalo_enabled else None
    )
    files = staff_files(storage)
    web = None
    if settings.web_chat:
        web = WebChat(
            storage, _web_log(storage), clock, prefix=web_chat_prefix(commune), files=files
        )
    if telegram is not None:
        telegram.outbox.files = files
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
    # with a shared PostgreSQL, claims left at start-up may be a live neighbour's
    sender: OutboxSender | RelayedDelivery = (
        relay.delivery(commune.id)
        if relay is not None
        else OutboxSender(
            storage,
            transports,
            clock,
            sole_process=not is_postgres(settings.bot_db),
            journal=send_journal(settings, commune.id),
        )
    )
    engine = build_engine(
        settings, holder, storage, desk, RoutingOutbox(outboxes), clock, delivery=sender
    )
    app = CommuneApp(commune, clock, holder, storage, engine, sender, desk, telegram, zalo)
    if telegram is not None:
        telegram.bind(
            engine,
            editor_commands(holder, storage, clock),
            report_maker(holder, storage, clock),
            staff_commands(storage),
        )
        if settings.telegram_webhook_url:
            secret = settings.telegram_webhook_secret
            app.routes.append(
                telegram_route(
                    telegram.feed,
                    secret.get_secret_value() if secret else None,
                    webhook_path("telegram", commune),
                )
            )
    app.web = web
    app.files = files
    if web is not None:
        web.bind(engine)
        app.routes += web.routes()
    if zalo is not None:
        zalo.bind(engine)
        app.routes.append(zalo.receiver.route(app.zalo_path))
    queued_desk = QueuedDesk(storage, sender, clock)
    app.jobs = [
        WeeklyStaleReport(holder, storage, queued_desk, clock),
        RetentionPurge(storage, clock, settings.retention_months),
    ]
    return app


async def bootstrap_all(communes: list[Commune], parts: Parts | None = None) -> list[CommuneApp]:
    """Every commune's application on one shared database, or none: a failure closes what was
    already built."""
    parts = parts or Parts()
    if not communes:
        return []
    shared = await _open_shared(communes[0].settings, parts, users=len(communes))
    apps: list[CommuneApp] = []
    libraries = SharedLibraries()  # communes without overrides share one build
    try:
        for commune in communes:
            apps.append(await bootstrap(commune, parts, shared, libraries))
    except BaseException:
        for _ in range(len(communes) - len(apps) - 1):
            await shared.release()  # the failed one released itself
        await asyncio.gather(*(a.stop() for a in apps), return_exceptions=True)
        raise
    return apps
