"""kill -9 at chosen moments of the real process (`python -m bot run`) against the fake Bot API:
after a restart every message is delivered exactly once.

The moments are crash points (bot.crashpoints): `BOT_CRASH_AT=<name>` ends the process the
first time it gets there, so the tests do not depend on timing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from bot.crashpoints import EXIT_STATUS
from tests.telegram.conftest import STAFF_CHAT, STAFF_USER, TOKEN
from tests.telegram.fakeapi import Call, FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
CITIZEN = 42


async def start(
    api: FakeBotApi, db: Path, crash_at: str | None = None, **extra: str
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT),
        "TELEGRAM_BASE_URL": api.base_url,
        "TELEGRAM_POLL_TIMEOUT": "1",
        "BOT_DB": str(db),
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    env.pop("BOT_CRASH_AT", None)
    if crash_at:
        env["BOT_CRASH_AT"] = crash_at
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def crashed(process: asyncio.subprocess.Process) -> None:
    try:
        await asyncio.wait_for(process.wait(), timeout=90)
    except TimeoutError:
        process.kill()  # never leave a bot running after a failed test
        await process.wait()
        raise
    assert process.returncode == EXIT_STATUS


async def stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    _, err = await asyncio.wait_for(process.communicate(), timeout=40)
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
            "sendMessage", timeout=60,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == CITIZEN,
        )  # fmt: skip
        await api.wait_updates_consumed(timeout=30, confirmed=True)
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
            "sendMessage", timeout=60,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == STAFF_CHAT,
        )  # fmt: skip
        await api.wait_for(
            "sendMessage", timeout=60,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == CITIZEN,
        )  # fmt: skip
        await stop(bot)
    assert len(api.calls_to("createForumTopic")) == 1
    # the header, once (besides the start-up warning about sample office data, one per start)
    posts = [t for t in api.sent_texts(chat_id=STAFF_CHAT) if "dữ liệu MẪU" not in t]
    assert len(posts) == 1
    assert len(api.sent_texts(chat_id=CITIZEN)) == 1  # "you are number 1...", once


async def test_killed_between_creating_the_topic_and_storing_it_staff_are_told_of_the_two(
    tmp_path: Path,
) -> None:
    """createForumTopic has no idempotency key: the topic made before the crash is unknown to
    the restarted bot, which opens another one; staff must not be split silently."""
    async with FakeBotApi(token=TOKEN) as api:
        api.staff_members[STAFF_CHAT] = {STAFF_USER}
        db = tmp_path / "bot.sqlite3"
        bot = await start(api, db, "topic-created")
        api.push_private_text(CITIZEN, "cho tôi gặp cán bộ", first_name="Bình")
        await crashed(bot)
        bot = await start(api, db)
        header = await api.wait_for(
            "sendMessage", timeout=60,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == STAFF_CHAT
            and "Lưu ý" not in str(c.params["text"]) and "message_thread_id" in c.params,
        )  # fmt: skip
        await api.wait_for(
            "sendMessage", timeout=60,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == CITIZEN,
        )  # fmt: skip
        await stop(bot)
    first, second = api.calls_to("createForumTopic")
    thread = int(header[0].params["message_thread_id"])
    assert thread == second.result["message_thread_id"] != first.result["message_thread_id"]
    notes = [
        c.params for c in api.calls_to("sendMessage")
        if c.ok and "Lưu ý: có thể đã có một chủ đề khác" in str(c.params["text"])
    ]  # fmt: skip
    assert [n.get("message_thread_id") for n in notes] == [thread, None]  # new topic, general
    assert all("Bình" in str(n["text"]) for n in notes)
    assert len(in_topics(api, "Bình")) >= 1 and len(api.sent_texts(chat_id=CITIZEN)) == 1


async def test_killed_during_a_staff_reply_and_during_close_each_arrives_once(
    tmp_path: Path,
) -> None:
    async with FakeBotApi(token=TOKEN) as api:
        api.staff_members[STAFF_CHAT] = {STAFF_USER}
        db = tmp_path / "bot.sqlite3"
        bot = await start(api, db)
        api.push_private_text(CITIZEN, "cho tôi gặp cán bộ", first_name="Bình")
        [header] = await api.wait_for(
            "sendMessage", timeout=60,
            predicate=lambda c: c.ok
            and int(c.params["chat_id"]) == STAFF_CHAT
            and "message_thread_id" in c.params,  # the header, not the start-up warning
        )  # fmt: skip
        thread = int(header.params["message_thread_id"])
        await api.wait_updates_consumed(timeout=30, confirmed=True)
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
            "sendMessage", timeout=60, count=3,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == CITIZEN,
        )  # fmt: skip
        await asyncio.sleep(0.5)
        await stop(bot)
    texts = api.sent_texts(chat_id=CITIZEN)
    assert len([t for t in texts if t.startswith("Anh mang CCCD nhé.")]) == 1, texts
    assert len(texts) == 3, texts  # queued notice, the answer, the closing message


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_citizen_reply(call: Call) -> bool:
    return call.ok and int(call.params["chat_id"]) == CITIZEN


async def open_handoff(api: FakeBotApi, db: Path) -> tuple[int, asyncio.subprocess.Process]:
    """A running bot with a handoff for CITIZEN whose header is in its topic."""
    bot = await start(api, db)
    api.push_private_text(CITIZEN, "cho tôi gặp cán bộ", first_name="Bình")
    [header] = await api.wait_for(
        "sendMessage", timeout=60,
        predicate=lambda c: c.ok
        and int(c.params["chat_id"]) == STAFF_CHAT
        and "message_thread_id" in c.params,
    )  # fmt: skip
    await api.wait_for("sendMessage", timeout=60, predicate=is_citizen_reply)
    await api.wait_updates_consumed(timeout=30, confirmed=True)
    return int(header.params["message_thread_id"]), bot


async def test_killed_while_a_reply_is_being_retried_it_arrives_once_after_restart(
    tmp_path: Path,
) -> None:
    async with FakeBotApi(token=TOKEN) as api:
        db = tmp_path / "bot.sqlite3"
        # every try of the first round fails (502): the entry waits for its retry, then the kill
        # (4 tries each for the reply and the start-up warning to staff)
        api.fail_next("sendMessage", status=502, times=8)
        bot = await start(api, db, "retry-recorded:reply")
        api.push_private_text(CITIZEN, "khai sinh")
        await crashed(bot)
        assert to_citizen(api, "Đăng ký khai sinh") == []
        bot = await start(api, db)
        await api.wait_for("sendMessage", timeout=60, predicate=is_citizen_reply)
        await api.wait_updates_consumed(timeout=30, confirmed=True)
        await stop(bot)
    assert len(to_citizen(api, "Đăng ký khai sinh")) == 1


async def test_killed_while_a_citizen_message_to_staff_is_pending_staff_see_it_once(
    tmp_path: Path,
) -> None:
    async with FakeBotApi(token=TOKEN) as api:
        api.staff_members[STAFF_CHAT] = {STAFF_USER}
        db = tmp_path / "bot.sqlite3"
        thread, bot = await open_handoff(api, db)
        await stop(bot)
        # the citizen's words are committed for the desk; the process dies before posting them
        bot = await start(api, db, "send-before:citizen")
        api.push_private_text(CITIZEN, "Tôi cần làm giấy khai sinh cho con", first_name="Bình")
        await crashed(bot)
        assert in_topics(api, "Tôi cần làm giấy khai sinh cho con") == []
        bot = await start(api, db)
        await api.wait_for(
            "sendMessage", timeout=60,
            predicate=lambda c: c.ok and "giấy khai sinh cho con" in str(c.params["text"]),
        )  # fmt: skip
        await api.wait_updates_consumed(timeout=30, confirmed=True)
        await asyncio.sleep(0.5)  # a second copy would be on its way by now
        await stop(bot)
    posted = [
        t for t in api.sent_texts(chat_id=STAFF_CHAT, thread_id=thread)
        if "Tôi cần làm giấy khai sinh cho con" in t
    ]  # fmt: skip
    assert len(posted) == 1, posted


async def test_killed_in_webhook_mode_after_the_200_answers_once_after_restart(
    tmp_path: Path,
) -> None:
    async with FakeBotApi(token=TOKEN) as api:
        db = tmp_path / "bot.sqlite3"
        port = free_port()
        webhook = {
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.invalid/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": "s3cret-token",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
        }
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        bot = await start(api, db, "telegram-webhook-after-200", **webhook)
        await api.wait_for("setWebhook", timeout=60)
        update = api.make_private_text(CITIZEN, "khai sinh")
        response = await deliver(api, update, url)
        assert response.status_code == 200  # Telegram will not deliver it again
        await crashed(bot)
        bot = await start(api, db, **webhook)
        await api.wait_for("sendMessage", timeout=60, predicate=is_citizen_reply)
        await asyncio.sleep(0.5)
        await stop(bot)
    assert len(to_citizen(api, "Đăng ký khai sinh")) == 1


async def deliver(api: FakeBotApi, update: dict[str, object], url: str) -> httpx.Response:
    """POST like Telegram, retrying while the freshly started process is not listening yet."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        try:
            return await api.deliver_webhook(update, url)
        except httpx.ConnectError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.1)


# --- the sender process (bot.relay): the bot process dies, its requests in flight do not ----


def sender_of(bot: asyncio.subprocess.Process) -> int | None:
    """The pid of the bot process's sender child (`python -m bot send`), if it runs."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == bot.pid and fields[0] != "Z" and b"send" in cmdline:
            return int(entry.name)
    return None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # an orphan's zombie, not reaped where PID 1 does not reap


async def until(condition: Callable[[], object], timeout: float = 60) -> None:
    """Poll (bounded): what a process does elsewhere is seen only by looking."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def running_sender(api: FakeBotApi, db: Path) -> tuple[asyncio.subprocess.Process, int]:
    """A bot whose sender process has delivered its start-up warning to staff."""
    bot = await start(api, db)
    await api.wait_for(
        "sendMessage", timeout=60,
        predicate=lambda c: c.ok and int(c.params["chat_id"]) == STAFF_CHAT,
    )  # fmt: skip
    child = sender_of(bot)
    assert child is not None
    return bot, child


async def reply_in_flight(api: FakeBotApi, text: str, hold: float) -> None:
    """The citizen asks; the fake takes the reply's request and holds it `hold` seconds (then
    delivers it, as Telegram does with a request whose sender died)."""
    api.slow["sendmessage"] = hold
    before = api.arrived.count("sendMessage")
    api.push_private_text(CITIZEN, text)
    await until(lambda: api.arrived.count("sendMessage") > before)


async def test_the_bot_process_killed_with_a_reply_in_flight_the_citizen_gets_it_once(
    tmp_path: Path,
) -> None:
    async with FakeBotApi(token=TOKEN) as api:
        db = tmp_path / "bot.sqlite3"
        bot, child = await running_sender(api, db)
        await reply_in_flight(api, "khai sinh", hold=3.0)
        bot.kill()  # kill -9 of the bot process, the reply still out
        await until(lambda: not alive(bot.pid))
        assert alive(child)  # the sender outlives it, waiting for the answer
        api.slow.pop("sendmessage")
        await bot.wait()  # with the sender gone too: it shares the bot's stderr pipe
        bot = await start(api, db)  # its new sender waits for the old one to finish
        await until(lambda: not alive(child))
        await api.wait_for("sendMessage", timeout=60, predicate=is_citizen_reply)
        await api.wait_updates_consumed(timeout=30, confirmed=True)
        api.push_private_text(CITIZEN, "khai tử")  # the new pair serves the next question
        await until(lambda: len(to_citizen(api, "Đăng ký khai tử")) > 0)
        await asyncio.sleep(0.5)  # a second copy would be on its way by now
        await stop(bot)
    assert len(to_citizen(api, "Đăng ký khai sinh")) == 1
    assert len(to_citizen(api, "Đăng ký khai tử")) == 1


async def test_the_sender_process_killed_alone_is_restarted_and_loses_nothing(
    tmp_path: Path,
) -> None:
    """A kill of the sender with a request out can repeat that request (the platform has no
    idempotency key: the floor); nothing is lost and the bot process starts a new sender."""
    async with FakeBotApi(token=TOKEN) as api:
        db = tmp_path / "bot.sqlite3"
        bot, child = await running_sender(api, db)
        await reply_in_flight(api, "khai sinh", hold=1.0)
        os.kill(child, signal.SIGKILL)
        await until(lambda: not alive(child))
        api.slow.pop("sendmessage")
        await until(lambda: sender_of(bot) not in (None, child))
        await until(lambda: len(to_citizen(api, "Đăng ký khai sinh")) > 0)
        api.push_private_text(CITIZEN, "khai tử")
        await until(lambda: len(to_citizen(api, "Đăng ký khai tử")) > 0)
        await asyncio.sleep(0.5)
        await stop(bot)
    assert bot.returncode == 0
    # the copy in flight at the kill, delivered by the fake after it, and its re-send
    assert 1 <= len(to_citizen(api, "Đăng ký khai sinh")) <= 2
    assert len(to_citizen(api, "Đăng ký khai tử")) == 1
