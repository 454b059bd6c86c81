"""`python -m bot bench-web`: many widget sessions at once against one bot process, over HTTP.

The server is a separate process (the real app: uvicorn, the web chat channel, the engine,
SQLite with the durable inbox and outbox); this process plays the browsers, each session sending
its messages one after another as a person would and long-polling for the answer. The latency
is from sending a message to receiving the first line of its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

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
    holder.current()
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


async def _session(
    http: httpx.AsyncClient, url: str, index: int, messages: int, latencies: list[float]
) -> int:
    rng = random.Random(index)
    token = (await http.post(f"{url}/chat/api/session", content="{}")).json()["session"]
    last, failures = 0, 0
    for number in range(messages):
        text = SCRIPT[(number + rng.randrange(len(SCRIPT))) % len(SCRIPT)]
        start = time.perf_counter()
        body = {"session": token, "id": f"m{number}", "text": text}
        sent = await http.post(f"{url}/chat/api/send", json=body)
        if sent.status_code != 200:
            failures += 1
            continue
        answered = False
        while not answered:
            got = await http.get(
                f"{url}/chat/api/messages", params={"session": token, "after": last, "wait": 20}
            )
            data = got.json()
            last = data["last"]
            answered = any(m["from"] == "bot" for m in data["messages"])
            if not data["messages"] and time.perf_counter() - start > 20:
                failures += 1
                break
        if answered:
            latencies.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(rng.uniform(0.2, 1.0))  # a person reads before typing again
    return failures


async def load(url: str, sessions: int, messages: int) -> None:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=sessions * 2 + 10, max_keepalive_connections=sessions * 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        start = time.perf_counter()
        failures = await asyncio.gather(
            *(_session(http, url, i, messages, latencies) for i in range(sessions))
        )
        elapsed = time.perf_counter() - start
    latencies.sort()
    total = len(latencies)
    p99 = latencies[min(total - 1, int(total * 0.99))] if total else float("nan")
    print(f"web chat: {sessions} concurrent sessions, {messages} messages each, one bot process")
    print(f"  answered      {total} (failed {sum(failures)})")
    print(f"  elapsed       {elapsed:.1f} s")
    print(f"  latency p50   {statistics.median(latencies) if total else float('nan'):.1f} ms")
    print(f"  latency p99   {p99:.1f} ms")
    print(f"  latency max   {latencies[-1] if total else float('nan'):.1f} ms")
    print(f"  target (p99 <= 300 ms): {'met' if p99 <= 300 else 'NOT met'}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(sessions: int, messages: int) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bot-bench-web-") as tmp:
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.channels.web.bench", "serve", str(port), tmp
        )
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                for _ in range(300):
                    with contextlib.suppress(httpx.HTTPError):
                        if (await http.get(f"{url}/healthz")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
            await load(url, sessions, messages)
        finally:
            server.terminate()
            await server.wait()


def main(sessions: int = 200, messages: int = 5) -> int:
    asyncio.run(run(sessions, messages))
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(int(sys.argv[2]), Path(sys.argv[3])))
