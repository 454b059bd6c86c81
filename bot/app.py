"""Process lifecycle: run every commune's application (see bot.bootstrap) on one HTTP server,
the console or the simulation, and shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import uvicorn
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from bot.bootstrap import (
    CommuneApp,
    Parts,
    bootstrap_all,
    build_engine,
    check_knowledge_dir,
    library_holder,
    open_store,
    report_maker,
    sqlite,
)
from bot.channels.console import Console
from bot.channels.local import LocalDesk, LocalOutbox, Sink
from bot.channels.simulate import Simulation
from bot.communes import Commune, load_communes
from bot.config import Settings
from bot.http import build_http_app
from bot.relay import SenderRelay, lock_path
from bot.storage import MemoryStorage, is_postgres
from flows.ports import Clock, ManualClock, Storage, SystemClock
from knowledge.holder import LibraryHolder

if TYPE_CHECKING:
    from bot.web.app import WebConsole

__all__ = ["check_knowledge_dir", "report_maker", "run_bot", "run_console", "run_simulation"]
log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def opened(storage: Storage) -> AsyncIterator[Storage]:
    await storage.open()
    try:
        yield storage
    finally:
        await storage.close()


async def run_console(
    settings: Settings, stdin: IO[str] = sys.stdin, out: IO[str] = sys.stdout
) -> None:
    clock = SystemClock()
    holder = library_holder(settings, clock)
    console = Console(out)
    sink: Sink = console.sink
    database = sqlite(settings)
    await open_store(database, settings)
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
WATCH_SECONDS = 2.0


class HttpServer(uvicorn.Server):
    """uvicorn inside our lifecycle: our signal handlers decide when to stop, not uvicorn's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _ticker(apps: list[CommuneApp], interval: float) -> None:
    """Every commune's time-driven work; one commune's failure does not stop the others."""
    while True:
        await asyncio.sleep(interval)
        for app in apps:
            try:
                await app.tick()
            except Exception:
                log.exception("%s: periodic work failed; will try again", app.commune.id)


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


def web_console(settings: Settings, apps: list[CommuneApp], clock: Clock) -> WebConsole:
    """The staff console over the same database and engines as the channels: one inbox per
    commune (imported only when it is turned on: templates and argon2 cost start-up time)."""
    from bot.storage.accounts import account_store
    from bot.web.app import WebConsole
    from bot.web.auth import AuthService
    from bot.web.inbox_backend import FlowsInbox, ProvinceInbox

    accounts = account_store(apps[0].storage)  # the province's, in the shared database
    auth = AuthService(accounts, clock, session_hours=settings.web_session_hours)
    inbox = ProvinceInbox(
        {
            app.commune.id: FlowsInbox(
                app.engine, app.storage, accounts, app.holder.current, clock, app.files
            )
            for app in apps
        }
    )
    return WebConsole(auth, inbox, secure_cookies=settings.web_secure_cookies)


def editor_pages(apps: list[CommuneApp]) -> list[BaseRoute]:
    """The guide editor and the report dashboard of every commune, inside the console."""
    from bot.web.editor import EditorDeps, StoreEditorData, editor_routes, report_routes

    by_id = {app.commune.id: app for app in apps}

    def holder(commune: str) -> LibraryHolder | None:
        app = by_id.get(commune)
        return app.holder if app else None

    def store(commune: str) -> Storage | None:
        app = by_id.get(commune)
        return app.storage if app else None

    clock = apps[0].clock
    data = StoreEditorData(store)

    def communes() -> list[tuple[str, LibraryHolder]]:  # a province edit is checked with each
        return [(app.commune.id, app.holder) for app in apps]

    deps = EditorDeps(holder, clock, data, communes=communes)
    return [*editor_routes(deps), *report_routes(holder, clock, data)]


def _http_server(
    settings: Settings,
    apps: list[CommuneApp],
    extra: list[BaseRoute] | None = None,
    middleware: list[Middleware] | None = None,
) -> HttpServer | None:
    """One server for every commune's webhooks, the web console and /healthz (None when
    nothing listens)."""
    routes: list[BaseRoute] = [route for app in apps for route in app.routes]
    routes += extra or []
    if not routes and not settings.healthz_always:
        return None
    checks = [check for app in apps for check in app.checks]
    config = uvicorn.Config(
        build_http_app(routes, checks, middleware or []),
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        lifespan="off",
    )
    return HttpServer(config)


@contextlib.asynccontextmanager
async def serving(
    settings: Settings,
    apps: list[CommuneApp],
    tick_seconds: float,
    stop: asyncio.Event | None = None,
) -> AsyncIterator[None]:
    """Start every commune, the HTTP server and the background work; on exit stop taking
    updates, finish in-flight work, flush the desks and close the databases."""
    server: HttpServer | None = None
    background: list[asyncio.Task[None]] = []
    serve: asyncio.Task[None] | None = None
    try:
        for app in apps:
            app.tick_seconds = tick_seconds
            if stop is not None:
                app.stop_event = stop
            await app.start()
        extra: list[BaseRoute] = []
        middleware: list[Middleware] = []
        if settings.web_console and apps:
            from bot.web.app import console_routes

            console = web_console(settings, apps, apps[0].clock)
            extra += console_routes(console, editor_pages(apps))
            middleware.append(console.middleware())
            log.info("staff console at /admin/")
        server = _http_server(settings, apps, extra, middleware)
        if server is not None:
            serve = asyncio.create_task(server.serve())
            log.info("HTTP on %s:%s", settings.http_host, settings.http_port)
        background.append(asyncio.create_task(_ticker(apps, tick_seconds)))
        holders = {id(app.holder): app.holder for app in apps}  # one watcher per shared library
        background += [asyncio.create_task(watch_knowledge(h)) for h in holders.values()]
        yield
    finally:
        if server is not None:
            server.should_exit = True
        for task in background:
            task.cancel()
        await asyncio.gather(*background, *([serve] if serve else []), return_exceptions=True)
        for app in reversed(apps):
            await app.stop()


async def run_bot(
    settings: Settings,
    stop: asyncio.Event | None = None,
    tick_seconds: float = TICK_SECONDS,
    clock: Clock | None = None,
    communes: list[Commune] | None = None,
    parts: Parts | None = None,
) -> None:
    """Run every commune's channels until SIGTERM/SIGINT (or `stop` is set), then stop cleanly.
    `communes` defaults to COMMUNES_FILE (or the implicit single commune); `clock` and `parts`
    are for tests (the weekly and daily jobs depend on the time)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if communes is None:
        communes = load_communes(settings, os.environ)
    relay = sender_relay(settings, communes, parts, clock)
    parts = parts or Parts(clock=clock)
    parts.relay = relay
    async with contextlib.AsyncExitStack() as stack:
        if relay is not None:  # started first (its start-up overlaps ours), stopped last
            await stack.enter_async_context(relay.running())
        apps = await bootstrap_all(communes, parts)
        if relay is not None:  # the database is open and migrated: the sender may open it
            relay.web_wakers = {a.commune.id: a.web.outbox.wake for a in apps if a.web}
            relay.go()
        # The libraries and indexes built at start-up live as long as the process: a full
        # garbage collection walking them holds the GIL for up to a second on a loaded
        # machine, and an in-process send thread cannot journal a delivered message meanwhile
        # (the window in which a kill -9 sends it again). Collected once now, before any
        # send, and kept out of later collections.
        gc.collect()
        gc.freeze()
        await stack.enter_async_context(serving(settings, apps, tick_seconds, stop))
        await stop.wait()
        log.info("stopping")


def sender_relay(
    settings: Settings, communes: list[Commune], parts: Parts | None, clock: Clock | None
) -> SenderRelay | None:
    """BOT_SENDER=process: the outbox goes out through a process of its own (bot.relay).
    Not for a database only this process can open (memory) nor for a test's own clock or
    database (the child would not share them): those keep the in-process sender."""
    if settings.bot_sender != "process" or clock is not None or not communes:
        return None
    if parts is not None and (parts.clock is not None or parts.database is not None):
        return None
    if lock_path(settings) is None and not is_postgres(settings.bot_db):
        return None
    return SenderRelay([(c.id, c.settings) for c in communes])
