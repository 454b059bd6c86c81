"""`python -m bot run` with WEB_CHAT=true and no Telegram or Zalo token: one process serves
/healthz, /widget.js and the chat API, and answers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from bot.app import run_bot
from bot.config import Settings
from flows.ports import ManualClock
from tests.app.test_run import SUNDAY, free_port, wait_healthy


async def test_the_web_chat_runs_without_any_platform_token(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        web_chat=True,
        bot_db=tmp_path / "bot.sqlite3",
        http_host="127.0.0.1",
        http_port=port,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(
        run_bot(settings, stop=stop, tick_seconds=0.1, clock=ManualClock(SUNDAY))
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await asyncio.wait_for(wait_healthy(port), 20)
        async with httpx.AsyncClient(timeout=30) as http:
            assert (await http.get(f"{url}/widget.js")).status_code == 200
            session = (await http.post(f"{url}/chat/api/session", content="{}")).json()["session"]
            body = json.dumps({"session": session, "id": "m1", "text": "đăng ký kết hôn"})
            assert (await http.post(f"{url}/chat/api/send", content=body)).status_code == 200
            answer: list[str] = []
            last = 0
            for _ in range(20):
                data = (
                    await http.get(
                        f"{url}/chat/api/messages",
                        params={"session": session, "after": last, "wait": 5},
                    )
                ).json()
                last = data["last"]
                answer += [m["text"] for m in data["messages"] if m["from"] == "bot"]
                if answer:
                    break
            assert answer and "kết hôn" in " ".join(answer).lower()
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=15)
