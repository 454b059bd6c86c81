"""The web chat for a province: each commune's portal embeds `/c/<id>/widget.js`, and its
citizens reach that commune's engine, guides and staff only (run by the composition root)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from bot.app import run_bot
from bot.communes import load_communes
from bot.config import Settings
from flows.ports import ManualClock
from tests.app.test_province_library import commune_overrides
from tests.app.test_run import SUNDAY, free_port, wait_healthy
from tests.storage.conftest import fresh_postgres_database
from tests.storage.webrun import add_staff, ask, log_in, new_session


def communes_file(tmp_path: Path) -> Path:
    """Two communes without Telegram or Zalo; An Khánh overrides the birth guide's title."""
    commune_overrides(tmp_path / "an-khanh")
    path = tmp_path / "communes.yaml"
    path.write_text(
        "communes:\n"
        "  - id: an-khanh\n    name: Phường An Khánh\n    knowledge: an-khanh\n"
        "  - id: binh-minh\n    name: Xã Bình Minh\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return await fresh_postgres_database(request.getfixturevalue("postgres_url"))
    return str(tmp_path / "bot.sqlite3")


async def test_each_communes_widget_reaches_only_that_commune(db: str, tmp_path: Path) -> None:
    await add_staff(db, "lan", ["an-khanh"])
    await add_staff(db, "binh", ["binh-minh"])
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        communes_file=communes_file(tmp_path),
        bot_db=db,
        web_chat=True,
        web_console=True,
        web_secure_cookies=False,
        http_host="127.0.0.1",
        http_port=port,
    )
    communes = load_communes(settings, {})
    stop = asyncio.Event()
    running = asyncio.create_task(
        run_bot(settings, stop, 0.1, ManualClock(SUNDAY), communes=communes)
    )
    url = f"http://127.0.0.1:{port}"
    a, b = f"{url}/c/an-khanh", f"{url}/c/binh-minh"
    try:
        await asyncio.wait_for(wait_healthy(port), 30)
        async with httpx.AsyncClient(timeout=30) as http:
            for base in (a, b):
                script = await http.get(f"{base}/widget.js")
                assert script.status_code == 200 and "chat/api" in script.text
            assert (await http.get(f"{url}/widget.js")).status_code == 404  # no implicit commune

            citizen_a, citizen_b = await new_session(http, a), await new_session(http, b)
            said_a = " ".join(await ask(http, a, citizen_a, "m1", "khai sinh"))
            said_b = " ".join(await ask(http, b, citizen_b, "m1", "khai sinh"))
            assert "Đăng ký khai sinh tại Phường An Khánh" in said_a
            assert "Đăng ký khai sinh" in said_b and "An Khánh" not in said_b

            # A's session token at B's address is a new, empty chat of B
            crossed = await http.get(
                f"{b}/chat/api/messages", params={"session": citizen_a, "after": 0}
            )
            assert crossed.json()["messages"] == []

            assert await ask(http, a, citizen_a, "m2", "cho tôi gặp cán bộ")
        async with httpx.AsyncClient(timeout=30) as lan, httpx.AsyncClient(timeout=30) as binh:
            queue_a = await log_in(lan, url, "lan")
            assert str(queue_a.url).endswith("/admin/an-khanh/hop-thu")
            assert 'data-conversation="' in queue_a.text
            queue_b = await log_in(binh, url, "binh")
            assert str(queue_b.url).endswith("/admin/binh-minh/hop-thu")
            assert "Hiện không có ai đang chờ cán bộ" in queue_b.text
            # B's staff cannot open A's queue
            assert (await binh.get(f"{url}/admin/an-khanh/hop-thu")).status_code in (403, 404)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
