"""Two bot processes on one PostgreSQL, one killed mid-load: nothing lost, nothing twice.

Both processes run the production wiring (tests/app/botproc.py: `python -m bot run` with the
time read from a file the test writes) for the same commune: Telegram by polling, where only
the holder of the poller lease polls, and Zalo webhooks spread across both HTTP ports by the
test, which plays the reverse proxy (a refused connection is retried on the other process).
The first process dies exactly when it is about to send its first reply (`BOT_CRASH_AT`,
kill -9 semantics) while citizens keep writing. The survivor takes over the poller lease, the
updates and replies the dead process had claimed, and the periodic jobs: the weekly review list
goes to staff once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from pathlib import Path

import httpx

from bot.crashpoints import EXIT_STATUS
from bot.storage import open_database
from flows.models import DEFAULT_COMMUNE
from flows.ports import VN_TZ
from tests.app.botproc import set_time
from tests.app.test_run import MONDAY, SUNDAY, free_port
from tests.pg import fresh_postgres_database
from tests.telegram.conftest import STAFF_CHAT, STAFF_USER, TOKEN
from tests.telegram.fakeapi import FakeBotApi
from tests.zalo.conftest import APP_ID, APP_SECRET, OA_SECRET
from tests.zalo.fakeevents import make_event, signed_request
from tests.zalo.fakezalo import FakeZalo

ROOT = Path(__file__).resolve().parents[2]
WAVE = 15  # citizens per channel before the kill, and again after it
ANSWER = "Đăng ký khai sinh"


def telegram_citizen(i: int) -> int:
    return 10_000 + i


def zalo_citizen(i: int) -> str:
    return f"84632{i:014d}"


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


async def healthy(http: httpx.AsyncClient, port: int, timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while True:
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)


class Proxy:
    """The reverse proxy in front of both processes: round robin, the next one on a refused
    connection or a 5xx (Zalo would retry a failed delivery too)."""

    def __init__(self, http: httpx.AsyncClient, ports: list[int]) -> None:
        self.http, self.ports, self.turn = http, ports, 0

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        for attempt in range(len(self.ports) * 20):
            port = self.ports[(self.turn + attempt) % len(self.ports)]
            try:
                response = await self.http.post(
                    f"http://127.0.0.1:{port}{path}", content=body, headers=headers
                )
            except httpx.TransportError:
                continue
            if response.status_code < 500:
                self.turn += 1
                return response.status_code
        raise AssertionError("neither process took the webhook")


async def holds_periodic_lease(url: str, now: dt.datetime) -> bool:
    """True when some bot process holds the commune's periodic-jobs lease (probed through the
    lease repository: a probe that gets it gives it back at once)."""
    database = open_database(url)
    await database.open()
    try:
        leases = database.for_commune(DEFAULT_COMMUNE).leases
        name = f"periodic-jobs:{DEFAULT_COMMUNE}"
        if await leases.acquire(name, "test-probe", now, dt.timedelta(seconds=1)):
            await leases.release(name, "test-probe")
            return False
        return True
    finally:
        await database.close()


def bot_env(tg: FakeBotApi, url: str, clock_file: Path, **extra: str) -> dict[str, str]:
    """What both processes share: one Telegram bot and staff group, one database, the test's
    clock; `extra` adds the variant's settings."""
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT),
        "TELEGRAM_BASE_URL": tg.base_url,
        "BOT_DB": url,
        "HTTP_HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "BOT_TEST_CLOCK_FILE": str(clock_file),
        "BOT_TEST_TICK": "0.2",
        **extra,
    }


async def kill_left(*processes: asyncio.subprocess.Process | None) -> None:
    """Whatever a failed test left running goes (the survivor normally stopped already)."""
    for process in processes:
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()


async def weekly_list_then_stop(
    tg: FakeBotApi, url: str, clock_file: Path, survivor: asyncio.subprocess.Process
) -> None:
    """The weekly list reached staff; a few more periodic rounds of the survivor on a later
    clock (where a second list would show), then it stops cleanly."""
    await tg.wait_for(
        "sendMessage", timeout=30,
        predicate=lambda c: c.ok and "rà soát" in str(c.params.get("text", "")),
    )  # fmt: skip
    later = MONDAY + dt.timedelta(minutes=1)
    set_time(clock_file, later)
    async with asyncio.timeout(30):
        while not await holds_periodic_lease(url, later):
            await asyncio.sleep(0.05)
    survivor.terminate()
    _, err = await asyncio.wait_for(survivor.communicate(), timeout=40)
    assert survivor.returncode == 0, err.decode()
    assert "Traceback" not in err.decode(), err.decode()


async def test_one_of_two_processes_killed_mid_load_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, postgres_url: str
) -> None:
    url = await fresh_postgres_database(postgres_url)
    clock_file = tmp_path / "now.txt"
    set_time(clock_file, SUNDAY)  # office closed: no weekly list yet
    async with (
        FakeBotApi(token=TOKEN) as tg,
        FakeZalo(app_id=APP_ID, app_secret=APP_SECRET) as zalo,
        httpx.AsyncClient(timeout=10) as http,
    ):
        tg.staff_members[STAFF_CHAT] = {STAFF_USER}
        env = bot_env(
            tg, url, clock_file,
            TELEGRAM_POLL_TIMEOUT="1",
            ZALO_APP_ID=APP_ID,
            ZALO_APP_SECRET=APP_SECRET,
            ZALO_OA_SECRET_KEY=OA_SECRET,
            ZALO_ACCESS_TOKEN="AT-1",
            ZALO_REFRESH_TOKEN="RT-1",
            ZALO_API_BASE_URL=zalo.api_base_url,
            ZALO_OAUTH_BASE_URL=zalo.oauth_base_url,
            BOT_TEST_POLLER_TTL="1.5",
        )  # fmt: skip
        ports = [free_port(), free_port()]
        first = await start(env, ports[0], crash_at="send-before:reply")
        second: asyncio.subprocess.Process | None = None
        try:
            # the first process polls Telegram and holds the periodic-jobs lease...
            await healthy(http, ports[0])
            await tg.wait_for("getUpdates", timeout=30)
            async with asyncio.timeout(30):
                while not await holds_periodic_lease(url, SUNDAY):
                    await asyncio.sleep(0.05)
            # ...the second one serves webhooks and queues, and waits for the poller lease
            second = await start(env, ports[1])
            await healthy(http, ports[1])
            proxy = Proxy(http, ports)

            async def wave(start: int) -> None:
                for i in range(start, start + WAVE):
                    tg.push_private_text(telegram_citizen(i), "khai sinh")
                    stamp = str(int(SUNDAY.timestamp() * 1000))
                    event = make_event(
                        "user_send_text", zalo_citizen(i), text="khai sinh",
                        app_id=APP_ID, timestamp=stamp,
                    )  # fmt: skip
                    body, headers = signed_request(event, OA_SECRET)
                    assert await proxy.post("/zalo/webhook", body, headers) == 200

            await wave(0)
            # the first process dies about to send its first reply; citizens keep writing
            await asyncio.wait_for(first.wait(), timeout=60)
            assert first.returncode == EXIT_STATUS
            await wave(WAVE)
            # what the dead process had claimed is taken over once its claims expire: the time
            # moves on to the first working hour of the week, when the weekly list is due
            set_time(clock_file, MONDAY)
            await tg.wait_for(
                "sendMessage", timeout=90, count=2 * WAVE,
                predicate=lambda c: c.ok
                and int(c.params["chat_id"]) > 0
                and str(c.result.get("text", "")).startswith(ANSWER),
            )  # fmt: skip
            for i in range(2 * WAVE):
                await zalo.wait_sent(1, zalo_citizen(i), timeout=90)
            await tg.wait_updates_consumed(timeout=30, confirmed=True)
            await weekly_list_then_stop(tg, url, clock_file, second)
        finally:
            await kill_left(first, second)

    for i in range(2 * WAVE):  # every question answered exactly once
        texts = tg.sent_texts(chat_id=telegram_citizen(i))
        assert len(texts) == 1 and texts[0].startswith(ANSWER), (i, texts)
        messages = zalo.sent(zalo_citizen(i))
        assert len(messages) == 1 and messages[0]["text"].startswith(ANSWER), (i, messages)
    weekly = [t for t in tg.sent_texts(chat_id=STAFF_CHAT) if "rà soát" in t]
    assert len(weekly) == 1, weekly  # the periodic job ran once across both processes
    assert not tg.server_errors and not zalo.server_errors
    assert MONDAY.tzinfo is VN_TZ
