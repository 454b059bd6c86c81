"""The send journal: what the platform accepted is never sent again after a crash, even when the
process died before the database recorded it (the duplicates the soak counted under kill -9)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from bot.delivery import DONE, OutboxSender, Outcome, SendJournal, accepted
from bot.storage.memory import MemoryStorage
from flows.models import ConversationKey, Reply
from flows.ports import VN_TZ, ManualClock, OutboxItem, Outgoing

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)
KEY = ConversationKey(channel="telegram", user_id="1001")


class Platform:
    """A transport whose platform accepts every part; `die_after` parts it never returns (the
    process is killed before anything is recorded in the database)."""

    def __init__(self, parts: int = 1, die_after: int | None = None) -> None:
        self.parts = parts
        self.die_after = die_after
        self.delivered: list[tuple[int, int]] = []  # (entry id, part index)

    async def attempt(self, item: OutboxItem) -> Outcome:
        for index in range(item.progress, self.parts):
            self.delivered.append((item.id, index))
            accepted(index + 1)
            if self.die_after is not None and index + 1 >= self.die_after:
                await asyncio.Event().wait()  # killed: never returns, never records
        return Outcome("sent")


async def queued(storage: MemoryStorage, text: str) -> None:
    await storage.outbox.enqueue([Outgoing(key=KEY, reply=Reply(text=text))], NOW)


async def run_once(storage: MemoryStorage, platform: Platform, journal: SendJournal) -> None:
    sender = OutboxSender(storage, {"telegram": platform}, ManualClock(NOW), journal=journal)
    await sender.start()
    await asyncio.sleep(0.05)  # the killed delivery hangs; the others finish
    await sender.stop()  # a kill: nothing more is written (the hung task is cancelled)
    journal.close()


async def test_a_reply_accepted_before_a_crash_is_not_sent_again(tmp_path: Path) -> None:
    storage = MemoryStorage()
    await queued(storage, "Đăng ký khai sinh")
    first = Platform(die_after=1)
    await run_once(storage, first, SendJournal(tmp_path / "sent"))
    assert first.delivered == [(1, 0)]
    assert await storage.outbox.pending() == 1  # the database never heard of the send

    again = Platform()
    await run_once(storage, again, SendJournal(tmp_path / "sent"))
    assert again.delivered == []
    assert await storage.outbox.pending() == 0


async def test_a_split_reply_goes_on_from_the_part_after_the_crash(tmp_path: Path) -> None:
    storage = MemoryStorage()
    await queued(storage, "ba phần")
    await run_once(storage, Platform(parts=3, die_after=2), SendJournal(tmp_path / "sent"))
    again = Platform(parts=3)
    await run_once(storage, again, SendJournal(tmp_path / "sent"))
    assert again.delivered == [(1, 2)]
    assert await storage.outbox.pending() == 0


async def test_without_a_crash_everything_is_sent_once_and_the_journal_stays_small(
    tmp_path: Path,
) -> None:
    storage = MemoryStorage()
    journal = SendJournal(tmp_path / "sent")
    journal.COMPACT_BYTES = 64
    for n in range(30):
        await queued(storage, f"tin {n}")
    platform = Platform()
    sender = OutboxSender(storage, {"telegram": platform}, ManualClock(NOW), journal=journal)
    await sender.start()
    await sender.drain()
    await sender.stop()
    assert len(platform.delivered) == 30
    assert (tmp_path / "sent").stat().st_size < 200


def test_replay_keeps_the_furthest_progress_and_skips_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "sent"
    path.write_text("7 1\n7 2\n9 1\n9 -1\n12 3\n13")
    assert SendJournal(path).replay() == {7: 2, 9: DONE, 12: 3}
    assert SendJournal(tmp_path / "none").replay() == {}
