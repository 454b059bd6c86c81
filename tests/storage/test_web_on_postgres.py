"""The web console and the web chat of a process on PostgreSQL, built by the composition root
(`run_bot`): a staff member logs in and sees the queue; a widget citizen gets answers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx

from bot.app import run_bot
from bot.config import Settings
from flows.ports import ManualClock
from tests.app.test_run import SUNDAY, free_port, wait_healthy
from tests.storage.conftest import fresh_postgres_database
from tests.storage.webrun import PASSWORD, ask, log_in, new_session


async def test_console_and_web_chat_run_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    db = await fresh_postgres_database(postgres_url)
    made = subprocess.run(  # the operator's way: `python -m bot admin create --db <url>`
        [sys.executable, "-m", "bot", "admin", "create", "--username", "lan", "--role", "staff",
         "--db", db],
        env={**os.environ, "CONSOLE_ADMIN_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_db=db,
        web_chat=True,
        web_console=True,
        web_secure_cookies=False,  # plain http on loopback
        http_host="127.0.0.1",
        http_port=port,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(
        run_bot(settings, stop=stop, tick_seconds=0.1, clock=ManualClock(SUNDAY))
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await asyncio.wait_for(wait_healthy(port), 30)
        async with httpx.AsyncClient(timeout=30) as citizen, httpx.AsyncClient(timeout=30) as staff:
            session = await new_session(citizen, url)
            answer = await ask(citizen, url, session, "m1", "đăng ký kết hôn")
            assert "kết hôn" in " ".join(answer).lower()
            assert await ask(citizen, url, session, "m2", "cho tôi gặp cán bộ")

            queue = await log_in(staff, url, "lan")
            assert queue.status_code == 200
            assert str(queue.url).endswith("/admin/default/hop-thu")
            assert 'data-conversation="' in queue.text, queue.text
            assert "Hiện không có ai đang chờ cán bộ" not in queue.text
            # a wrong password is refused, on the same database
            async with httpx.AsyncClient(timeout=30) as stranger:
                page = await stranger.get(f"{url}/admin/login")
                refused = await stranger.post(
                    f"{url}/admin/login",
                    data={"csrf": page.cookies.get("thutuc_csrf") or "", "username": "lan",
                          "password": "sai-mật-khẩu-rồi"},
                )  # fmt: skip
                assert refused.status_code in (400, 403)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
