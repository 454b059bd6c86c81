"""kill -9 at chosen moments of the real process (`python -m bot run`) against the fake Bot API:
after a restart every message is delivered exactly once.

The moments are crash points (bot.crashpoints): `BOT_CRASH_AT=<name>` ends the process the
first time it gets there, so the tests do not depend on timing.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.crashpoints import EXIT_STATUS
from tests.telegram.conftest import STAFF_CHAT, STAFF_USER, TOKEN
from tests.telegram.fakeapi import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
CITIZEN = 42


async def start(
    api: FakeBotApi, db: Path, crash_at: str | None = None
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT),
        "TELEGRAM_BASE_URL": api.base_url,
        "TELEGRAM_POLL_TIMEOUT": "1",
        "BOT_DB": str(db),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("BOT_CRASH_AT", None)
    if crash_at:
        env["BOT_CRASH_AT"] = crash_at
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def crashed(process: asyncio.subprocess.Process) -> None:
    await asyncio.wait_for(process.wait(), timeout=30)
    assert process.returncode == EXIT_STATUS


async def stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    _, err = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, err.decode()


def to_citizen(api: FakeBotApi, start: str) -> list[str]:
    return [t for t in api.sent_texts(chat_id=CITIZEN) if t.startswith(start)]


def in_topics(api: FakeBotApi, part: str) -> list[str]:
    return [t for t in api.sent_texts(chat_id=STAFF_CHAT) if part in t]


async def test_killed_after_the_update_is_stored_answers_once_after_restart(
    tmp_path: Path,
) -> None:
    async with FakeBotApi(token=TOKEN) as api:
        db = tmp_path / "bot.sqlite3"
        bot = await start(api, db, "telegram-after-store")
        api.push_private_text(CITIZEN, "khai sinh")
        await crashed(bot)
        assert to_citizen(api, "Đăng ký khai sinh") == []
        bot = await start(api, db)
        await api.wait_for(
            "sendMessage", timeout=30,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == CITIZEN,
        )  # fmt: skip
        await api.wait_updates_consumed(timeout=10, confirmed=True)
        await stop(bot)
        assert len(to_citizen(api, "Đăng ký khai sinh")) == 1


async def test_killed_during_handoff_creation_the_citizen_and_staff_are_told_once(
    tmp_path: Path,
) -> None:
    async with FakeBotApi(token=TOKEN) as api:
        api.staff_members[STAFF_CHAT] = {STAFF_USER}
        db = tmp_path / "bot.sqlite3"
        bot = await start(api, db, "commit-handoff")  # the handoff's turn is being committed
        api.push_private_text(CITIZEN, "cho tôi gặp cán bộ", first_name="Bình")
        await crashed(bot)
        bot = await start(api, db)
        await api.wait_for(
            "sendMessage", timeout=30,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == STAFF_CHAT,
        )  # fmt: skip
        await api.wait_for(
            "sendMessage", timeout=30,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == CITIZEN,
        )  # fmt: skip
        await stop(bot)
    assert len(api.calls_to("createForumTopic")) == 1
    # the header, once (besides the start-up warning about sample office data, one per start)
    posts = [t for t in api.sent_texts(chat_id=STAFF_CHAT) if "dữ liệu MẪU" not in t]
    assert len(posts) == 1
    assert len(api.sent_texts(chat_id=CITIZEN)) == 1  # "you are number 1...", once


async def test_killed_during_a_staff_reply_and_during_close_each_arrives_once(
    tmp_path: Path,
) -> None:
    async with FakeBotApi(token=TOKEN) as api:
        api.staff_members[STAFF_CHAT] = {STAFF_USER}
        db = tmp_path / "bot.sqlite3"
        bot = await start(api, db)
        api.push_private_text(CITIZEN, "cho tôi gặp cán bộ", first_name="Bình")
        [header] = await api.wait_for(
            "sendMessage", timeout=30,
            predicate=lambda c: c.ok
            and int(c.params["chat_id"]) == STAFF_CHAT
            and "message_thread_id" in c.params,  # the header, not the start-up warning
        )  # fmt: skip
        thread = int(header.params["message_thread_id"])
        await api.wait_updates_consumed(timeout=10, confirmed=True)
        await stop(bot)
        # the staff answer is committed, the process dies before it is sent
        bot = await start(api, db, "send-before:reply")
        api.push_group_text(STAFF_CHAT, thread, STAFF_USER, "Anh mang CCCD nhé.")
        await crashed(bot)
        # "Đóng": committed, killed before the citizen is told
        bot = await start(api, db, "send-before:info")
        api.push_group_callback(
            STAFF_CHAT, thread, STAFF_USER, "close:1", header.result["message_id"]
        )
        await crashed(bot)
        bot = await start(api, db)
        await api.wait_for(
            "sendMessage", timeout=30, count=3,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == CITIZEN,
        )  # fmt: skip
        await asyncio.sleep(0.5)
        await stop(bot)
    texts = api.sent_texts(chat_id=CITIZEN)
    assert len([t for t in texts if t.startswith("Anh mang CCCD nhé.")]) == 1, texts
    assert len(texts) == 3, texts  # queued notice, the answer, the closing message
