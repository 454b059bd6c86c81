"""Start-up checks: each failure is one clear line and exit status 2, never a traceback."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.telegram.conftest import STAFF_CHAT, TOKEN
from tests.telegram.fakeapi import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]


async def start(env: dict[str, str]) -> tuple[int, list[str]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env={**clean, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    text = stderr.decode()
    assert "Traceback" not in text, text
    assert process.returncode is not None
    return process.returncode, text.strip().splitlines()


def telegram_env(api: FakeBotApi, tmp_path: Path) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT),
        "TELEGRAM_BASE_URL": api.base_url,
        "TELEGRAM_POLL_TIMEOUT": "1",
        "BOT_DB": str(tmp_path / "bot.sqlite3"),
    }


async def test_a_staff_group_without_topics_is_refused(tmp_path: Path) -> None:
    async with FakeBotApi(token=TOKEN) as api:
        api.plain_groups.add(STAFF_CHAT)
        code, lines = await start(telegram_env(api, tmp_path))
    assert code == 2
    assert lines[-1].startswith("start-up error: TELEGRAM_STAFF_CHAT_ID")
    assert "not a forum" in lines[-1]


async def test_a_bot_that_may_not_manage_topics_is_refused(tmp_path: Path) -> None:
    async with FakeBotApi(token=TOKEN) as api:
        api.bot_member = {"status": "member"}
        code, lines = await start(telegram_env(api, tmp_path))
    assert code == 2
    assert "manage topics" in lines[-1]


async def test_a_right_group_starts(tmp_path: Path) -> None:
    """The same check passes on a forum where the bot is an administrator (the fake's default)
    and the bot goes on to poll."""
    async with FakeBotApi(token=TOKEN) as api:
        env = {**os.environ, **telegram_env(api, tmp_path)}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await api.wait_for("getUpdates", timeout=30)
        finally:
            process.terminate()
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        methods = {c.method for c in api.calls}
        assert {"getChat", "getChatMember"} <= methods
    assert process.returncode == 0, stderr.decode()


@pytest.mark.parametrize("where", ["a folder", "inside a file"])
async def test_a_database_that_cannot_be_written_is_refused(where: str, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    db = tmp_path if where == "a folder" else blocker / "bot.sqlite3"
    code, lines = await start({"BOT_DB": str(db)})
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith(f"start-up error: BOT_DB {db}")


@pytest.mark.parametrize("where", ["missing", "a file"])
async def test_an_unreadable_knowledge_folder_is_refused(where: str, tmp_path: Path) -> None:
    folder = tmp_path / "guides"
    if where == "a file":
        folder.write_text("x")
    code, lines = await start({"KNOWLEDGE_DIR": str(folder), "BOT_DB": str(tmp_path / "b.db")})
    assert code == 2
    assert lines == [f"start-up error: KNOWLEDGE_DIR {folder}: not a folder"]
