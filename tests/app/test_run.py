"""`python -m bot run`: every configured channel in one process, stopped cleanly."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import sys
from pathlib import Path

import httpx

from bot.app import run_bot
from flows.ports import VN_TZ, ManualClock
from tests.telegram.conftest import STAFF_CHAT, STAFF_USER, TOKEN
from tests.telegram.conftest import settings as tg_settings
from tests.telegram.fakeapi import FakeBotApi
from tests.zalo.conftest import APP_ID, APP_SECRET, CITIZEN, OA_SECRET, zalo_settings
from tests.zalo.fakezalo import FakeZalo, make_event, signed_request

ROOT = Path(__file__).resolve().parents[2]
SUNDAY = dt.datetime(2026, 12, 6, 10, 0, tzinfo=VN_TZ)
MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=VN_TZ)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_telegram_and_zalo_run_together_and_stop_cleanly(bot_db: str) -> None:
    """On SQLite and on PostgreSQL (the `bot_db` fixture)."""
    async with (
        FakeZalo(app_id=APP_ID, app_secret=APP_SECRET) as zalo,
        FakeBotApi(token=TOKEN) as tg,
    ):
        port = free_port()
        settings = zalo_settings(zalo, tg.base_url).model_copy(
            update={"bot_db": bot_db, "http_host": "127.0.0.1", "http_port": port}
        )
        stop = asyncio.Event()
        clock = ManualClock(SUNDAY)  # office closed: no weekly post to the staff group
        running = asyncio.create_task(run_bot(settings, stop=stop, tick_seconds=0.1, clock=clock))
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(200):
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.ConnectError:
                    await asyncio.sleep(0.02)
            tg.push_private_text(42, "khai sinh")
            await tg.wait_for(
                "sendMessage", predicate=lambda c: c.ok and int(c.params["chat_id"]) == 42
            )
            stamp = str(int(clock.now().timestamp() * 1000))
            event = make_event(
                "user_send_text", CITIZEN, text="kết hôn", app_id=APP_ID, timestamp=stamp
            )
            body, headers = signed_request(event, OA_SECRET)
            response = await http.post(
                f"http://127.0.0.1:{port}/zalo/webhook", content=body, headers=headers
            )
            assert response.status_code == 200
            [card] = await zalo.wait_sent(1, CITIZEN)
            assert card["text"].startswith("Đăng ký kết hôn")
        stop.set()
        await asyncio.wait_for(running, timeout=10)
        staff = [
            c.params["text"]
            for c in tg.calls_to("sendMessage")
            if int(c.params["chat_id"]) == STAFF_CHAT
        ]
        # the bundled office.yaml is sample data: the only staff message says so, naming the keys
        assert len(staff) == 1, staff
        assert "dữ liệu MẪU" in staff[0] and "phones" in staff[0] and "commune" in staff[0]


async def test_sigterm_stops_the_process_cleanly(tmp_path: Path) -> None:
    async with FakeBotApi(token=TOKEN) as tg:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT),
            "TELEGRAM_BASE_URL": tg.base_url,
            "TELEGRAM_POLL_TIMEOUT": "1",
            "BOT_DB": str(tmp_path / "bot.sqlite3"),
            "LOG_LEVEL": "INFO",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        tg.push_private_text(42, "khai sinh")
        await tg.wait_for(
            "sendMessage", predicate=lambda c: c.ok and int(c.params["chat_id"]) == 42, timeout=30
        )
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
        log = stderr.decode()
        assert process.returncode == 0, log
        assert "stopping" in log
        assert "Traceback" not in log


def test_bad_configuration_names_the_variable(tmp_path: Path) -> None:
    import subprocess

    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "BOT_DB": str(tmp_path / "x.sqlite3")}
    env.pop("TELEGRAM_STAFF_CHAT_ID", None)
    out = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "TELEGRAM_STAFF_CHAT_ID is required" in out.stderr


async def wait_healthy(port: int) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        for _ in range(200):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.ConnectError:
                await asyncio.sleep(0.02)


async def test_staff_commands_and_weekly_jobs_are_wired_in_production(tmp_path: Path) -> None:
    """run_bot itself binds /phananh, and the weekly list goes out at the first working moment
    of the week (the injected clock decides, not the machine's)."""
    async with FakeBotApi(token=TOKEN) as tg:
        tg.staff_members[STAFF_CHAT] = {STAFF_USER}
        settings = tg_settings(telegram_base_url=tg.base_url, bot_db=tmp_path / "bot.sqlite3")
        clock = ManualClock(SUNDAY)
        stop = asyncio.Event()
        running = asyncio.create_task(run_bot(settings, stop=stop, tick_seconds=0.05, clock=clock))
        await tg.wait_for("getUpdates", timeout=60)
        tg.push_group_command(STAFF_CHAT, STAFF_USER, "/phananh")
        [answer] = await tg.wait_for(
            "sendMessage",
            predicate=lambda c: (
                c.ok
                and int(c.params["chat_id"]) == STAFF_CHAT
                and "dữ liệu MẪU" not in str(c.params["text"])
            ),  # the start-up sample warning
            timeout=60,
        )
        assert "phản ánh" in str(answer.params["text"]).lower()
        await asyncio.sleep(0.3)
        assert not [t for t in tg.sent_texts(STAFF_CHAT) if "rà soát" in t]  # Sunday: nothing
        clock.set(MONDAY)
        await tg.wait_for(
            "sendMessage",
            predicate=lambda c: c.ok and "rà soát" in str(c.params.get("text", "")),
            timeout=60,
        )
        stop.set()
        await asyncio.wait_for(running, timeout=60)
