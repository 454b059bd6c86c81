"""Duplicate window: how slow must a Bot API answer be before a reply reaches the citizen twice?

    .venv/bin/python scripts/dupwindow.py                      # the production timeouts
    .venv/bin/python scripts/dupwindow.py --send-timeout 3     # the same, scaled down

Telegram has no idempotency key: when the client gives up on a sendMessage that Telegram
still processes, the retry is a second copy. This runs the real Telegram transport and outbox
sender (python-telegram-bot against the loopback fake Bot API) with the configured timeouts;
the fake answers one sendMessage late by each of the given delays (it still delivers the
message, as Telegram does), later ones at once. For each delay it prints how many copies the
citizen got and when the second one arrived after the first request.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.channels.telegram.channel import TelegramChannel  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.delivery import OutboxSender  # noqa: E402
from bot.storage.sqlite import SqliteStorage  # noqa: E402
from flows.models import ConversationKey, Reply  # noqa: E402
from flows.ports import Outgoing, SystemClock  # noqa: E402
from tests.telegram.fakeapi import FakeBotApi  # noqa: E402

TOKEN = "123456:DUPtokenDUPtokenDUPtokenDUP00"
STAFF_CHAT = -1001234567890
CITIZEN = 4242


async def one(delay: float, settings: Settings, folder: Path) -> tuple[int, float | None]:
    """Copies delivered, and seconds from the first request to the second copy."""
    async with FakeBotApi(token=TOKEN) as api:
        config = settings.model_copy(update={"telegram_base_url": api.base_url})
        storage = SqliteStorage(folder / f"dup-{delay}.sqlite3")
        await storage.open()
        clock = SystemClock()
        channel = TelegramChannel(config, storage, storage.desk_links, clock)
        await channel.app.bot.initialize()
        sender = OutboxSender(storage, {"telegram": channel.outbox}, clock, poll_seconds=0.05)
        key = ConversationKey(channel="telegram", user_id=str(CITIZEN))
        await storage.outbox.enqueue([Outgoing(key=key, reply=Reply(text="Xin chào"))], clock.now())
        api.slow["sendmessage"] = delay
        began = time.monotonic()
        await sender.start()
        await api.wait_for("sendMessage", timeout=delay + 120)
        api.slow.pop("sendmessage", None)  # the next answers come at once
        while await storage.outbox.pending() and time.monotonic() - began < delay + 600:
            await asyncio.sleep(0.05)
        await asyncio.sleep(max(2.0, delay))  # any straggler copy lands by now
        await sender.stop()
        await channel.app.bot.shutdown()
        await storage.close()
        copies = [c for c in api.calls_to("sendMessage") if c.ok]
        second = copies[1].at - began if len(copies) > 1 else None
        return len(copies), second


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--send-timeout", type=float, default=None, help="TELEGRAM_SEND_TIMEOUT (s)"
    )
    parser.add_argument(
        "--delays", default=None, help="comma-separated answer delays (s); default around it"
    )
    args = parser.parse_args(argv)
    values: dict[str, object] = {
        "telegram_bot_token": TOKEN,
        "telegram_staff_chat_id": STAFF_CHAT,
    }
    if args.send_timeout is not None:
        values["telegram_send_timeout"] = args.send_timeout
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    timeout = settings.telegram_send_timeout
    delays = (
        [float(d) for d in args.delays.split(",")]
        if args.delays
        else [0.5, round(timeout * 0.9, 2), round(timeout * 1.1 + 1, 2)]
    )
    print(f"send read timeout {timeout:g} s; Telegram's usual sendMessage latency is < 1 s")
    with tempfile.TemporaryDirectory(prefix="dupwindow-") as folder:
        for delay in delays:
            started = dt.datetime.now()
            copies, second = await one(delay, settings, Path(folder))
            after = f"second copy {second:.1f} s after the first request" if second else ""
            took = (dt.datetime.now() - started).total_seconds()
            print(f"answer delay {delay:6.2f} s: {copies} cop{'y' if copies == 1 else 'ies'} "
                  f"{after} ({took:.0f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
