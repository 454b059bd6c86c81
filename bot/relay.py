"""The sender process: the outbox is delivered by a process that outlives the bot process.

Why: Telegram and Zalo have no idempotency key, so a request the platform accepted while its
process died is sent again after the restart. The bot process (matcher, channels' intake, desk
logic) is the one that crashes, is OOM-killed or restarted on deploy; it only commits outbox
entries. `python -m bot run` starts `python -m bot send` as a child that claims and delivers
them. When the parent dies (even by kill -9) the child sees its end of the socket close, stops
claiming, waits for the answers of the requests it has in flight, records them (journal and
database) and exits; the restarted parent starts a new child, which waits for the old one's
lock (SQLite) or leaves its live claims alone (PostgreSQL: leases) and takes over.

One socketpair links the two. Parent -> child: the settings of every commune (the first line,
secrets included: never logged), then `w <commune>` when a turn committed entries (the child
also polls every second). Child -> parent: `ready`, `web <commune> <user>` (a web citizen's
long poll has a new line), `crash` (a crash test's point was reached in the child: both die,
as one process did before). A child that dies alone is started again by the parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from bot.channels.local import LogDesk
from bot.channels.telegram.desk import TelegramDesk
from bot.channels.telegram.sender import Sender, TelegramOutbox, send_bot
from bot.channels.zalo.client import client_from_settings, seed_from_settings
from bot.channels.zalo.outbox import ZaloOutbox
from bot.config import Settings
from bot.crashpoints import EXIT_STATUS
from bot.crashpoints import SENDER_FD_ENV as FD_ENV
from bot.delivery import OutboxSender, SendJournal, SendThread, Transport
from bot.logs import QUIET_LOGGERS, RedactingFormatter, settings_secrets
from bot.storage import is_postgres, open_database, sqlite_path
from bot.storage.files import staff_files
from bot.storage.webchat import WebChatLog
from flows.ports import Clock, Delivery, Storage, SystemClock

log = logging.getLogger(__name__)
RESTART_SECONDS = 1.0
STOP_SECONDS = 30.0  # a clean stop waits this long for the child's requests in flight
FINISH_SECONDS = 90.0  # an orphaned child waits this long for answers (send timeout + margin)
LOCK_POLL = 0.05


def settings_payload(settings: Settings) -> dict[str, Any]:
    """The settings as JSON values, secrets in clear (for the child only, over the socket)."""
    data: dict[str, Any] = settings.model_dump(mode="json")
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
    return data


def settings_from(data: dict[str, Any]) -> Settings:
    """The parent's settings exactly (not re-read from the environment or .env)."""
    return Settings.model_validate(data)


class RelayedDelivery(Delivery):
    """A commune's Delivery in the bot process: tells the sender process to look now."""

    def __init__(self, relay: SenderRelay, commune: str) -> None:
        self._relay = relay
        self._commune = commune

    def wake(self) -> None:
        self._relay.wake(self._commune)

    async def start(self) -> None:
        """Nothing to start here: the relay runs the sender process."""

    async def stop(self) -> None:
        """Nothing to stop here: the relay stops the sender process last."""


class SenderRelay:
    """In the bot process: starts the sender process, wakes it, restarts it if it dies."""

    def __init__(
        self,
        communes: list[tuple[str, Settings]],
        restart_seconds: float = RESTART_SECONDS,
        stop_seconds: float = STOP_SECONDS,
    ) -> None:
        self._communes = communes
        self._restart = restart_seconds
        self._stop_seconds = stop_seconds
        self._writer: asyncio.StreamWriter | None = None  # once the sender has its settings
        self._conn: asyncio.StreamWriter | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.web_wakers: dict[str, Callable[[str], None]] = {}
        self.ready = asyncio.Event()
        self._go = asyncio.Event()
        self.starts = 0

    def go(self) -> None:
        """The database is open and migrated: the sender may open it (its process is started
        before, so its imports overlap this process's start-up)."""
        self._go.set()

    def delivery(self, commune: str) -> RelayedDelivery:
        return RelayedDelivery(self, commune)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def wake(self, commune: str) -> None:
        writer = self._writer
        if writer is None or writer.is_closing():
            return  # (re)starting: a new sender claims everything due at its start
        if writer.transport.get_write_buffer_size() > 4096:
            return  # the sender is behind; it will claim all that is due anyway
        writer.write(f"w {commune}\n".encode())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SenderRelay]:
        self._task = asyncio.create_task(self._supervise())
        try:
            yield self
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Close the socket (the child finishes its requests in flight and exits), wait."""
        self._stopping = True
        if self._conn is not None:
            self._conn.close()
        process = self._process
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), self._stop_seconds)
            except TimeoutError:
                log.warning("the sender process did not stop in time; killing it")
                process.kill()
                await process.wait()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _supervise(self) -> None:
        while not self._stopping:
            try:
                status = await self._run_once()
            except Exception:
                log.exception("running the sender process failed")
                status = None
            if self._stopping:
                return
            log.warning("the sender process ended (status %s); starting a new one", status)
            await asyncio.sleep(self._restart)

    async def _run_once(self) -> int | None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            env = {**os.environ, FD_ENV: str(theirs.fileno())}
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "send",
                env=env, pass_fds=(theirs.fileno(),), stdin=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        finally:
            theirs.close()
        self.starts += 1
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        self._conn = writer
        await self._go.wait()
        config = [{"id": cid, "settings": settings_payload(s)} for cid, s in self._communes]
        writer.write(json.dumps({"communes": config}).encode() + b"\n")
        self._writer = writer
        try:
            while line := await reader.readline():
                self._handle(line.decode(errors="replace").split())
        finally:
            self._writer = None
            writer.close()
            self.ready.clear()
        return await self._process.wait()

    def _handle(self, words: list[str]) -> None:
        if words == ["ready"]:
            self.ready.set()
        elif words == ["crash"]:
            os._exit(EXIT_STATUS)  # a crash test's point in the child: the whole bot dies
        elif len(words) == 3 and words[0] == "web" and words[1] in self.web_wakers:
            self.web_wakers[words[1]](words[2])


class SenderLock:
    """One sender process per SQLite database: a new one waits until the old one (finishing
    its requests after its parent died) has exited, so it never takes the old one's entries."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._fd: int | None = None

    async def acquire(self) -> float:
        """Returns the seconds waited."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(LOCK_POLL)
        self._fd = fd
        return loop.time() - began

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def lock_path(settings: Settings) -> str | None:
    """Next to the SQLite file; none on PostgreSQL (claims are leases there)."""
    if is_postgres(settings.bot_db):
        return None
    path = sqlite_path(settings.bot_db)
    if path == ":memory:" or path.startswith("file:"):
        return None
    return f"{path}.sender-lock"


def _configure_logging(communes: list[tuple[str, Settings]]) -> None:
    """As bot.logs.configure_logging, with the secrets of every commune."""
    secrets = [s for _, settings in communes for s in settings_secrets(settings)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(communes[0][1].log_level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def send_journal(settings: Settings, commune: str) -> SendJournal | None:
    """Next to the SQLite file, one per commune's sender (none in memory or on PostgreSQL,
    where several processes share the database: the duplicate window stays the database write)."""
    if is_postgres(settings.bot_db):
        return None
    path = sqlite_path(settings.bot_db)
    if path == ":memory:" or path.startswith("file:"):
        return None
    return SendJournal(f"{path}.sent-{commune}")


@dataclass
class SenderApp:
    """One commune's outbox sender in the sender process (bot.relay), with its transports."""

    commune: str
    sender: OutboxSender
    closers: list[Callable[[], Awaitable[None]]]

    async def close(self) -> None:
        for close in self.closers:
            with contextlib.suppress(Exception):
                await close()


def _relayed_web_outbox(
    storage: Storage, chat_log: WebChatLog, clock: Clock, notify: Callable[[str], None]
) -> Transport:
    """The web transport in the sender process: the long polls waiting for a new line are in
    the bot process, which is told over the relay's socket (imported here: the web channel
    brings the engine and the guide library)."""
    from bot.channels.web.channel import WebOutbox

    class RelayedWebOutbox(WebOutbox):
        def wake(self, user: str) -> None:
            notify(user)

    return RelayedWebOutbox(storage, chat_log, clock)


async def build_sender(
    commune: str,
    settings: Settings,
    storage: Storage,
    clock: Clock,
    web_wake: Callable[[str], None],
) -> SenderApp:
    """The sender process's part of a commune: the same transports as `_assemble` gives the
    in-process sender (Telegram replies and desk posts on a send thread, Zalo, web), built
    without the channels' intake, the guides or the engine."""
    transports: dict[str, Transport] = {"desk": LogDesk()}
    closers: list[Callable[[], Awaitable[None]]] = []
    if settings.telegram_enabled:
        assert settings.telegram_staff_chat_id is not None
        telegram = Sender(
            send_bot(settings),
            timeout=settings.telegram_send_timeout,
            thread=SendThread(f"telegram-send-{commune}"),
        )
        closers.append(telegram.close)
        transports["telegram"] = TelegramOutbox(telegram, staff_files(storage))
        transports["desk"] = TelegramDesk(
            telegram, settings.telegram_staff_chat_id, storage, storage.desk_links, clock
        )
    if settings.zalo_enabled:
        http, client = client_from_settings(settings, storage, clock, commune)
        await seed_from_settings(client, settings)
        closers += [client.close, http.aclose]
        transports["zalo"] = ZaloOutbox(client, storage, clock)
    if settings.web_chat:
        from bot.storage.webchat import web_chat_log

        transports["web"] = _relayed_web_outbox(storage, web_chat_log(storage), clock, web_wake)
    sender = OutboxSender(
        storage,
        transports,
        clock,
        sole_process=not is_postgres(settings.bot_db),
        journal=send_journal(settings, commune),
    )
    return SenderApp(commune, sender, closers)


async def serve(fd: int) -> int:
    """`python -m bot send`: deliver every commune's outbox until the parent goes away."""

    sock = socket.socket(fileno=fd)
    reader, writer = await asyncio.open_unix_connection(sock=sock)
    try:
        first = await reader.readline()
    except (ConnectionError, OSError):
        first = b""
    if not first:
        return 0  # the parent died before it told us anything
    config = json.loads(first)
    communes = [(c["id"], settings_from(c["settings"])) for c in config["communes"]]
    _configure_logging(communes)
    main = communes[0][1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)  # as the parent going away: finish, exit
    lock = SenderLock(path) if (path := lock_path(main)) else None
    if lock is not None:
        waited = await lock.acquire()
        if waited > 0.5:
            log.info("waited %.1f s for the previous sender process to finish", waited)
    database = open_database(main.bot_db, synchronous=main.sqlite_synchronous)
    await database.open()
    clock = SystemClock()

    def web_wake(commune: str) -> Callable[[str], None]:
        def wake(user: str) -> None:
            if not writer.is_closing():
                writer.write(f"web {commune} {user}\n".encode())

        return wake

    senders = [
        await build_sender(cid, settings, database.for_commune(cid), clock, web_wake(cid))
        for cid, settings in communes
    ]
    by_id = {s.commune: s for s in senders}
    try:
        for part in senders:
            await part.sender.start()
        writer.write(b"ready\n")
        parent = os.getppid()
        gone = asyncio.create_task(_parent_gone(parent))
        stopped = asyncio.create_task(stop.wait())
        while True:
            reading = asyncio.create_task(reader.readline())
            done, _ = await asyncio.wait(
                [reading, gone, stopped], return_when=asyncio.FIRST_COMPLETED
            )
            if reading not in done:
                reading.cancel()
                break
            try:
                line = reading.result()
            except (ConnectionError, OSError):
                line = b""  # the parent is gone as well
            if not line:
                break  # the parent closed its end, or died
            words = line.decode(errors="replace").split()
            if len(words) == 2 and words[0] == "w" and words[1] in by_id:
                by_id[words[1]].sender.wake()
        log.info("the bot process went away: finishing the requests in flight")
        gone.cancel()
        stopped.cancel()
        await asyncio.gather(*(p.sender.finish(FINISH_SECONDS) for p in senders))
    finally:
        for part in senders:
            await part.close()
        await database.close()
        writer.close()
        if lock is not None:
            lock.release()
    return 0


async def _parent_gone(parent: int) -> None:
    """A backup to the socket's end of file: re-parented means the parent died."""
    while os.getppid() == parent:
        await asyncio.sleep(1.0)


def main() -> int:
    fd = os.environ.get(FD_ENV)
    if fd is None or not fd.isdigit():
        print(
            "python -m bot send is started by `python -m bot run` (BOT_SENDER=process)",
            file=sys.stderr,
        )
        return 2
    return asyncio.run(serve(int(fd)))
