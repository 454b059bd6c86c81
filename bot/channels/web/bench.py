"""`python -m bot bench-web`: many widget sessions at once against one bot process, over HTTP.

Each session types its next message a few seconds (`--think`, on average) after the answer, as a
person reading it would: 200 sessions then send about 40 messages a second, far more than a
commune's portal sees. The server is a separate process (the real app: uvicorn, the web chat channel, the engine,
SQLite with the durable inbox and outbox); this process plays the browsers, each session sending
its messages one after another as a person would and long-polling for the answer. The latency
is from sending a message to receiving the first line of its answer; the bot's CPU time per
message (user + system, from /proc) is the figure that does not depend on the machine's load.

A typed "2" sometimes chooses «Gặp cán bộ»: the conversation is then with staff and the bot
rightly answers nothing more, so that session presses «Hủy gặp cán bộ» next (counted as a
handoff), as a person who asked by mistake would. Failures are printed by reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from flows.texts import B_CANCEL_HANDOFF

SCRIPT = (
    "lam giay khai sinh cho con",
    "1",
    "mất bao lâu",
    "dkkh can giay to gi",
    "chứng thực bản sao bao nhiêu tiền",
    "2",
    "trợ cấp người cao tuổi",
    "xin chào",
    "tạm trú cho người thuê trọ",
    "Menu",
)


async def serve(port: int, folder: Path) -> None:
    """The bot process: web chat only, on 127.0.0.1:`port`."""
    import uvicorn

    from bot.channels.local import LogDesk
    from bot.channels.routing import RoutingOutbox
    from bot.channels.web.channel import WebChat
    from bot.delivery import OutboxSender
    from bot.http import build_http_app
    from bot.storage import SqliteStorage
    from bot.storage.webchat import SqliteWebChatLog
    from flows.engine import Engine
    from flows.ports import SystemClock
    from knowledge.holder import LibraryHolder
    from knowledge.loader import DEFAULT_DIR

    clock = SystemClock()
    holder = LibraryHolder(DEFAULT_DIR, lambda: clock.now().date())
    holder.current().match("xin chào")  # warm the matcher before the first citizen
    storage = SqliteStorage(folder / "bench.sqlite3")
    await storage.open()
    web = WebChat(storage, SqliteWebChatLog(storage), clock, new_sessions=(10_000, 1000.0))
    desk = LogDesk()
    sender = OutboxSender(storage, {"desk": desk, "web": web.outbox}, clock)
    engine = Engine(
        holder.current, storage, desk, RoutingOutbox({"web": web.outbox}), clock, delivery=sender
    )
    web.bind(engine)
    web.start()
    await sender.start()
    config = uvicorn.Config(
        build_http_app(web.routes(), [web.health]),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    await uvicorn.Server(config).serve()


class _Connection:
    """A keep-alive HTTP/1.1 connection, as a browser tab holds one: a few lines of asyncio
    instead of a client library, so the browsers' side costs little CPU next to the bot's."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        try:
            return await self._once(method, path, body)
        except (ConnectionError, asyncio.IncompleteReadError):
            # the server closed an idle keep-alive connection: reconnect once, as browsers do
            # (a resent message is safe: the server dedups it by its id)
            await self.close()
            return await self._once(method, path, body)

    async def _once(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None and self._writer is not None
        payload = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self._writer.write(head.encode() + payload)
        status_line = await self._reader.readline()
        if not status_line:
            raise ConnectionError("closed by the server")
        status = int(status_line.split()[1])
        length = 0
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        data = await self._reader.readexactly(length)
        return status, json.loads(data) if data else None

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class _Failures(Counter[str]):
    """Failed messages by reason, and how many handoffs the sessions cancelled."""

    handoffs = 0


async def _session(
    host: str,
    port: int,
    index: int,
    messages: int,
    think: float,
    latencies: list[float],
    failures: _Failures,
) -> None:
    """One person: opens the chat, sends `messages` one after another; counts failures by
    reason in `failures` (a message not sent because the session broke counts as one)."""
    rng = random.Random(index)
    await asyncio.sleep(rng.uniform(0, think))  # people do not all arrive in the same instant
    last, done = 0, 0
    http = _Connection(host, port)
    try:
        status, data = await http.request("POST", "/chat/api/session", {})
        if status != 200:
            failures[f"session refused (HTTP {status})"] += messages
            return
        token = str(data["session"])
        cancel: dict[str, str] | None = None
        for number in range(messages):
            text = SCRIPT[(number + rng.randrange(len(SCRIPT))) % len(SCRIPT)]
            if cancel is not None:  # handed to staff: the bot stays silent, so cancel first
                failures.handoffs += 1
                body = {"button": cancel["data"], "label": cancel["label"]}
            else:
                body = {"text": text}
            last, took, reason, cancel = await _ask(http, token, f"m{number}", body, last)
            done += 1
            if took is not None:
                latencies.append(took)
            else:
                failures[reason] += 1
            await asyncio.sleep(rng.uniform(0.4, 1.6) * think)  # reading before typing again
    except (OSError, ValueError, KeyError, asyncio.IncompleteReadError) as exc:
        failures[f"client error ({type(exc).__name__})"] += messages - done
    finally:
        await http.close()


async def _ask(
    http: _Connection, token: str, client_id: str, message: dict[str, str], last: int
) -> tuple[int, float | None, str, dict[str, str] | None]:
    """Send, then long-poll until the answer's first line: (last sequence, milliseconds or
    None, why it failed, the "cancel the handoff" button if the answer offers it)."""
    start = time.perf_counter()
    status, _ = await http.request(
        "POST", "/chat/api/send", {"session": token, "id": client_id, **message}
    )
    if status != 200:
        return last, None, f"send refused (HTTP {status})", None
    while time.perf_counter() - start < 20:
        status, data = await http.request(
            "GET", f"/chat/api/messages?session={token}&after={last}&wait=20"
        )
        if status != 200:
            return last, None, f"poll refused (HTTP {status})", None
        last = int(data["last"])
        bot = [m for m in data["messages"] if m["from"] == "bot"]
        if bot:
            took = (time.perf_counter() - start) * 1000
            buttons = [b for m in bot for b in m["buttons"]]
            cancel = next((b for b in buttons if b["label"].endswith(B_CANCEL_HANDOFF)), None)
            return last, took, "", cancel
    return last, None, "no answer within 20 s", None


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(port: int, sessions: int, messages: int, think: float, server: int) -> None:
    cpu_before = _cpu_seconds(server)
    latencies: list[float] = []
    failures = _Failures()
    start = time.perf_counter()
    await asyncio.gather(
        *(
            _session("127.0.0.1", port, i, messages, think, latencies, failures)
            for i in range(sessions)
        )
    )
    elapsed = time.perf_counter() - start
    cpu_after = _cpu_seconds(server)
    latencies.sort()
    total = len(latencies)
    p99 = latencies[min(total - 1, int(total * 0.99))] if total else float("nan")
    print(f"web chat: {sessions} concurrent sessions, {messages} messages each, one bot process")
    print(f"  think time    {think:.1f} s on average between an answer and the next message")
    print(f"  answered      {total} (failed {sum(failures.values())})")
    for reason, count in failures.most_common():
        print(f"    failed      {count}: {reason}")
    print(f"  handoffs      {failures.handoffs} (a typed 2 chose «Gặp cán bộ»: cancelled next)")
    print(f"  elapsed       {elapsed:.1f} s ({total / elapsed:.1f} messages/s)")
    print(f"  latency p50   {statistics.median(latencies) if total else float('nan'):.1f} ms")
    print(f"  latency p99   {p99:.1f} ms")
    print(f"  latency max   {latencies[-1] if total else float('nan'):.1f} ms")
    if cpu_before is not None and cpu_after is not None and total:
        cpu = cpu_after - cpu_before
        per = cpu / (total + sum(failures.values())) * 1000
        print(f"  bot CPU       {cpu:.1f} s user+system, {per:.1f} ms per message")
    print(f"  target (p99 <= 300 ms): {'met' if p99 <= 300 else 'NOT met'}")
    print(
        f"  machine load  {os.getloadavg()[0]:.1f} (1-minute load average, {os.cpu_count()} CPUs)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_up(url: str, seconds: float = 180) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    async with httpx.AsyncClient(timeout=2) as http:
        while loop.time() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the bot process did not start within {seconds:.0f} s")


async def run(sessions: int, messages: int, think: float) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bot-bench-web-") as tmp:
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.channels.web.bench",
            "serve",
            str(port),
            tmp,
            stderr=asyncio.subprocess.DEVNULL,  # "no staff desk configured" for each handoff
        )
        try:
            await _wait_up(url)
            await load(port, sessions, messages, think, server.pid)
        finally:
            server.terminate()
            await server.wait()


def main(sessions: int = 200, messages: int = 5, think: float = 5.0) -> int:
    asyncio.run(run(sessions, messages, think))
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(int(sys.argv[2]), Path(sys.argv[3])))
