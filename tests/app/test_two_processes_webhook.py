"""Two bot processes in Telegram webhook mode on one PostgreSQL, one killed mid-load.

The deployment the issue names: webhook workers behind a reverse proxy. Both processes run the
production wiring (tests/app/botproc.py: `python -m bot run`, the time read from a file the
test writes) with a webhook URL and secret. The fake Bot API delivers each update like
Telegram does (POST to the setWebhook URL with the secret header, again after a pause until it
gets a 200) through a tiny reverse proxy that spreads the POSTs round robin over both ports
and answers 502 when the chosen process does not answer (a proxy without failover: the retry is
Telegram's). The first process is killed (kill -9 semantics, `BOT_CRASH_AT`) when it is about
to send its first reply: it has answered 200 for some updates and its reply is pending in the
outbox. Citizens keep writing; the survivor takes over what the dead process had claimed once
the claims expire (the test moves the clock: no wall-clock wait) and the periodic jobs. Every
update is answered exactly once; the weekly list goes to staff once.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import httpx

from bot.crashpoints import EXIT_STATUS
from bot.storage import open_database
from flows.models import DEFAULT_COMMUNE
from tests.app.botproc import set_time
from tests.app.test_run import MONDAY, SUNDAY, free_port
from tests.app.test_two_processes import (
    bot_env,
    healthy,
    holds_periodic_lease,
    kill_left,
    weekly_list_then_stop,
)
from tests.pg import fresh_postgres_database
from tests.telegram.conftest import STAFF_CHAT, STAFF_USER, TOKEN
from tests.telegram.fakeapi import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
WAVE = 20  # citizens before the kill, and again after it
ANSWER = "Đăng ký khai sinh"
WEBHOOK_URL = "https://bot.example.invalid/telegram/webhook"  # never dialled: the proxy is
SECRET = "webhook-s3cret"


def citizen(i: int) -> int:
    return 20_000 + i


class RoundRobinProxy(httpx.AsyncBaseTransport):
    """The reverse proxy: each request goes to the next process on loopback (whatever host the
    URL names); a process that refuses or drops the connection makes a 502."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = 0
        self.answers: list[tuple[int, int]] = []  # (port, status) of every forwarded POST
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        forwarded = httpx.Request(
            request.method,
            request.url.copy_with(scheme="http", host="127.0.0.1", port=port),
            headers=[(k, v) for k, v in request.headers.items() if k.lower() != "host"],
            content=await request.aread(),
        )
        try:
            response = await self._inner.handle_async_request(forwarded)
            await response.aread()
        except httpx.TransportError:
            self.answers.append((port, 502))
            return httpx.Response(502)
        self.answers.append((port, response.status_code))
        return httpx.Response(response.status_code, content=response.content)

    def statuses(self, port: int) -> list[int]:
        return [status for p, status in self.answers if p == port]

    async def aclose(self) -> None:
        """Kept open when one client of the proxy closes (each delivery is one client)."""

    async def shutdown(self) -> None:
        await self._inner.aclose()


async def deliver_like_telegram(
    tg: FakeBotApi, proxy: RoundRobinProxy, updates: list[dict[str, Any]], connections: int = 4
) -> None:
    """Telegram's webhook delivery: up to `connections` POSTs at a time, each update again
    after a pause until some process answers 200 (bounded by attempts, not by time)."""
    gate = asyncio.Semaphore(connections)

    async def one(update: dict[str, Any]) -> None:
        async with gate:
            for _ in range(400):
                response = await tg.deliver_webhook(update, transport=proxy)
                if response.status_code == 200:
                    return
                await asyncio.sleep(0.05)
            raise AssertionError(f"update {update['update_id']} never got a 200")

    await asyncio.gather(*(one(u) for u in updates))


async def start(
    env: dict[str, str], port: int, crash_at: str | None = None
) -> asyncio.subprocess.Process:
    env = {**env, "HTTP_PORT": str(port)}
    env.pop("BOT_CRASH_AT", None)
    if crash_at:
        env["BOT_CRASH_AT"] = crash_at
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.app.botproc", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def replies_pending(url: str) -> int:
    """Replies committed to the commune's outbox and not sent yet (probed through the repo)."""
    database = open_database(url)
    await database.open()
    try:
        return await database.for_commune(DEFAULT_COMMUNE).outbox.pending()
    finally:
        await database.close()


def is_answer(call: Any) -> bool:
    return bool(
        call.ok
        and int(call.params["chat_id"]) > 0
        and str(call.result.get("text", "")).startswith(ANSWER)
    )


async def test_two_webhook_processes_one_killed_mid_load_answer_every_update_once(
    tmp_path: Path, postgres_url: str
) -> None:
    url = await fresh_postgres_database(postgres_url)
    clock_file = tmp_path / "now.txt"
    set_time(clock_file, SUNDAY)  # office closed: no weekly list yet
    ports = [free_port(), free_port()]
    proxy = RoundRobinProxy(ports)
    async with FakeBotApi(token=TOKEN) as tg, httpx.AsyncClient(timeout=10) as http:
        tg.staff_members[STAFF_CHAT] = {STAFF_USER}
        env = bot_env(
            tg, url, clock_file, TELEGRAM_WEBHOOK_URL=WEBHOOK_URL, TELEGRAM_WEBHOOK_SECRET=SECRET
        )
        first = await start(env, ports[0], crash_at="send-before:reply")
        second: asyncio.subprocess.Process | None = None
        try:
            # the first process registers the webhook and holds the periodic-jobs lease...
            await healthy(http, ports[0])
            await tg.wait_for("setWebhook", timeout=30)
            async with asyncio.timeout(30):
                while not await holds_periodic_lease(url, SUNDAY):
                    await asyncio.sleep(0.05)
            # ...the second one registers the same webhook (harmless) and serves as well
            second = await start(env, ports[1])
            await healthy(http, ports[1])
            await tg.wait_for("setWebhook", timeout=30, count=2)
            assert tg.webhook["url"] == WEBHOOK_URL and tg.webhook["secret_token"] == SECRET

            # the first update alone: the first process stores it and answers 200, then dies
            # about to send its reply (committed in the outbox, claimed by the dead process)
            updates = [tg.make_private_text(citizen(i), "khai sinh") for i in range(2 * WAVE)]
            await deliver_like_telegram(tg, proxy, updates[:1])
            await deliver_like_telegram(tg, proxy, updates[1:WAVE])
            await asyncio.wait_for(first.wait(), timeout=60)
            assert first.returncode == EXIT_STATUS
            assert 200 in proxy.statuses(ports[0])  # it had taken updates before it died
            assert await replies_pending(url) >= 1  # the reply it was sending, claimed by it
            # citizens keep writing: POSTs the proxy sends to the dead process get a 502 and
            # come again, as Telegram retries
            await deliver_like_telegram(tg, proxy, updates[WAVE:])
            assert 502 in proxy.statuses(ports[0])
            # what the dead process had claimed (updates, replies) is taken over once its
            # claims expire: the time moves on to the first working hour of the week, when the
            # weekly list is due
            set_time(clock_file, MONDAY)
            await tg.wait_for("sendMessage", timeout=90, count=2 * WAVE, predicate=is_answer)
            # one weekly list; no update or reply comes a second time on a later clock
            await weekly_list_then_stop(tg, url, clock_file, second)
        finally:
            await proxy.shutdown()
            await kill_left(first, second)

    for i in range(2 * WAVE):  # every update answered exactly once
        texts = tg.sent_texts(chat_id=citizen(i))
        assert len(texts) == 1 and texts[0].startswith(ANSWER), (i, texts)
    weekly = [t for t in tg.sent_texts(chat_id=STAFF_CHAT) if "rà soát" in t]
    assert len(weekly) == 1, weekly  # the periodic job ran once across both processes
    assert not tg.server_errors
    assert not [c for c in tg.calls if c.method == "deleteWebhook"]  # a stop keeps the webhook
