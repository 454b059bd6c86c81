"""The composition root: one commune's whole application, built from its configuration.

`bootstrap` is the only place that decides which implementation serves each port (library
holder, storage, channels, desk, outbox sender, periodic jobs). Every part can be replaced
through `Parts`, so tests run the production wiring with fakes on loopback instead of
re-assembling it by hand. The process (bot.app) runs one CommuneApp per commune.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from starlette.routing import Route

from bot.channels.local import LogDesk
from bot.channels.routing import RoutingOutbox
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.zalo.channel import ZaloChannel
from bot.communes import Commune
from bot.config import Settings, StartupError
from bot.delivery import OutboxSender, QueuedDesk, Transport
from bot.editor import editor_commands, staff_commands
from bot.housekeeping import RetentionPurge, WeeklyStaleReport
from bot.http import Health, telegram_route
from bot.storage import SqliteStorage
from bot.storage.links import SqliteDeskLinks
from flows.engine import Engine, EngineConfig
from flows.models import Reply, StaffNotice
from flows.ports import Clock, Delivery, Outbox, StaffDesk, Storage, SystemClock
from knowledge.holder import LibraryHolder
from knowledge.samples import sample_keys, sample_message

log = logging.getLogger(__name__)


class Periodic(Protocol):
    async def run(self) -> bool: ...


StorageFactory = Callable[[Commune], SqliteStorage]


@dataclass
class Parts:
    """What a caller may supply instead of the production part (tests: a manual clock)."""

    clock: Clock | None = None
    storage: StorageFactory | None = None
    """Builds the commune's (unopened) store; default: `commune_storage`."""


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
    settings: Settings, clock: Clock, overrides: Path | None = None, commune: str | None = None
) -> LibraryHolder:
    """The guides a commune serves: the province library with the commune's overrides."""
    check_knowledge_dir(settings.knowledge_dir)
    if overrides is not None:
        check_knowledge_dir(overrides, f"knowledge overrides of {commune}")
    holder = LibraryHolder(
        settings.knowledge_dir,
        lambda: clock.now().date(),
        overrides=overrides,
        commune=commune,
    )
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


def sqlite(settings: Settings, path: Path | None = None) -> SqliteStorage:
    return SqliteStorage(path or settings.bot_db, synchronous=settings.sqlite_synchronous)


def commune_storage(commune: Commune) -> SqliteStorage:
    """Each commune its own SQLite file (`<BOT_DB>-<commune>.sqlite3`; the implicit commune
    keeps BOT_DB itself), so nothing can leak between communes' rows.
    MERGE (issue 12a): replace with `open_database(url).for_commune(commune.id)`."""
    settings = commune.settings
    return SqliteStorage(commune.db, synchronous=settings.sqlite_synchronous, commune=commune.id)


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


def webhook_path(channel: str, commune: Commune) -> str:
    """`/telegram/webhook` for the implicit commune (as before), `/telegram/<id>/webhook`
    for each commune of a province."""
    return f"/{channel}/webhook" if commune.implicit else f"/{channel}/{commune.id}/webhook"


@dataclass
class CommuneApp:
    """Everything one commune runs; `start` and `stop` bring it up and down in order."""

    commune: Commune
    clock: Clock
    holder: LibraryHolder
    storage: SqliteStorage
    engine: Engine
    sender: OutboxSender
    desk: StaffDesk
    telegram: TelegramChannel | None = None
    zalo: ZaloChannel | None = None
    jobs: list[Periodic] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)

    @property
    def checks(self) -> list[Health]:
        """Health of each channel; a province names the commune in each problem."""
        checks: list[Health] = []
        for channel in (self.telegram, self.zalo):
            if channel is None:
                continue
            if self.commune.implicit:
                checks.append(channel.health)
            else:
                checks.append(_named(self.commune.id, channel.health))
        return checks

    async def start(self) -> None:
        settings = self.commune.settings
        if self.telegram is not None:
            await self.telegram.start()
            mode = "webhook" if settings.telegram_webhook_url else "polling"
            log.info("%s: Telegram started (%s)", self.commune.id, mode)
        if self.zalo is not None:
            await self.zalo.start()
            log.info("%s: Zalo started: webhook at %s", self.commune.id, self.zalo_path)
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
        (queued replies are retried by the outbox sender)."""
        await self.engine.tick()
        for job in self.jobs:
            await job.run()

    async def stop(self) -> None:
        await self.sender.stop()
        if self.zalo is not None:
            with contextlib.suppress(Exception):
                await self.zalo.stop()
        if self.telegram is not None:
            with contextlib.suppress(Exception):
                await self.telegram.stop()
        await self.storage.close()


def _named(commune: str, check: Health) -> Health:
    def named() -> str | None:
        problem = check()
        return f"{commune}: {problem}" if problem else None

    return named


async def bootstrap(commune: Commune, parts: Parts | None = None) -> CommuneApp:
    """Build (not start) one commune's application; its database is opened and migrated."""
    parts = parts or Parts()
    settings = commune.settings
    clock = parts.clock or SystemClock()
    overrides = commune.overrides
    holder = library_holder(settings, clock, overrides, None if commune.implicit else commune.id)
    storage = (parts.storage or commune_storage)(commune)
    await open_database(storage)
    try:
        return _assemble(commune, clock, holder, storage)
    except BaseException:
        await storage.close()
        raise


def _assemble(
    commune: Commune, clock: Clock, holder: LibraryHolder, storage: SqliteStorage
) -> CommuneApp:
    settings = commune.settings
    telegram = (
        TelegramChannel(settings, storage, SqliteDeskLinks(storage), clock, commune=commune.id)
        if settings.telegram_enabled
        else None
    )
    zalo = (
        ZaloChannel(settings, storage, clock, commune=commune.id) if settings.zalo_enabled else None
    )
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
    sender = OutboxSender(storage, transports, clock)
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
    """Every commune's application, or none: a failure closes what was already built."""
    apps: list[CommuneApp] = []
    try:
        for commune in communes:
            apps.append(await bootstrap(commune, parts))
    except BaseException:
        await asyncio.gather(*(a.storage.close() for a in apps), return_exceptions=True)
        raise
    return apps
