"""`python -m bot run` with WEB_CONSOLE=true and no platform token serves the console."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from pathlib import Path

import httpx

from bot.app import run_bot
from bot.config import Settings
from flows.ports import VN_TZ, ManualClock


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_console_is_served_without_any_platform_token(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_db=tmp_path / "bot.sqlite3",
        http_host="127.0.0.1",
        http_port=port,
        web_console=True,
    )
    stop = asyncio.Event()
    clock = ManualClock(dt.datetime(2026, 12, 6, 10, 0, tzinfo=VN_TZ))
    running = asyncio.create_task(run_bot(settings, stop=stop, tick_seconds=0.1, clock=clock))
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(1000):
                try:
                    health = await http.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            assert health.status_code == 200
            page = await http.get(f"http://127.0.0.1:{port}/admin/")
            assert page.status_code == 303
            login = await http.get(f"http://127.0.0.1:{port}/admin/login")
            assert login.status_code == 200 and "Đăng nhập" in login.text
            assert 'lang="vi"' in login.text
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
