"""`python -m bot bench`: throughput and latency of the whole core under concurrent citizens.

Every message goes through the real engine: matcher, flow state, and a storage commit per turn
(SQLite WAL with group commit, or PostgreSQL). Citizens of N communes write concurrently; each
citizen's own messages are sequential, as on a phone.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from bot.channels.local import LocalDesk, LocalOutbox
from bot.storage import is_postgres, open_database
from flows.engine import Engine
from flows.models import ConversationKey, Inbound, Reply
from flows.ports import SystemClock
from knowledge.holder import LibraryHolder
from knowledge.loader import DEFAULT_DIR

SCRIPT = (
    "lam giay khai sinh cho con",
    "1",
    "mất bao lâu",
    "dkkh can giay to gi",
    "chứng thực bản sao bao nhiêu tiền",
    "2",
    "trợ cấp người cao tuổi",
    "xin chào",
    "tạm trú cho người thuê trọ",
    "Menu",
)


def _discard(to: str, key: ConversationKey | None, reply: Reply) -> None:
    return None


async def _citizen(
    engine: Engine, commune: str, index: int, messages: int, latencies: list[float]
) -> None:
    rng = random.Random(f"{commune}/{index}")
    key = ConversationKey(channel="bench", user_id=f"c{index}", commune=commune)
    for turn in range(messages):
        text = SCRIPT[(turn + rng.randrange(len(SCRIPT))) % len(SCRIPT)]
        start = time.perf_counter()
        await engine.handle(Inbound(key=key, text=text, display_name=f"Công dân {index}"))
        latencies.append((time.perf_counter() - start) * 1000)


async def run(
    communes: int, citizens: int, messages: int, synchronous: str, db: str | None = None
) -> None:
    """`communes` x `citizens` concurrent citizens, on `db` (a postgresql:// URL or a SQLite
    path; default: a fresh SQLite file in a temporary folder)."""
    clock = SystemClock()
    holder = LibraryHolder(DEFAULT_DIR, lambda: clock.now().date())
    holder.current()
    with tempfile.TemporaryDirectory(prefix="bot-bench-") as tmp:
        url = db or str(Path(tmp) / "bench.sqlite3")
        opts = {} if is_postgres(url) else {"synchronous": synchronous}
        database = open_database(url, **opts)
        await database.open()
        names = [f"bench-{n:03d}" for n in range(communes)]
        engines = {
            name: Engine(
                holder.current,
                database.for_commune(name),
                LocalDesk(_discard),
                LocalOutbox(_discard),
                clock,
            )
            for name in names
        }
        latencies: list[float] = []
        start = time.perf_counter()
        await asyncio.gather(
            *(
                _citizen(engines[name], name, i, messages, latencies)
                for name in names
                for i in range(citizens)
            )
        )
        elapsed = time.perf_counter() - start
        await database.close()
        backend = "postgresql" if is_postgres(url) else f"sqlite synchronous={synchronous}"
    latencies.sort()
    total = len(latencies)
    p99 = latencies[min(total - 1, int(total * 0.99))]
    print(f"communes {communes} x citizens {citizens}, messages each {messages}, {backend}")
    print(f"  messages      {total}")
    print(f"  elapsed       {elapsed:.2f} s")
    print(f"  throughput    {total / elapsed:.0f} messages/s")
    print(f"  latency p50   {statistics.median(latencies):.1f} ms (includes waiting behind others)")
    print(f"  latency p99   {p99:.1f} ms")


def main(
    citizens: int = 20,
    messages: int = 5,
    synchronous: str = "NORMAL",
    communes: int = 100,
    db: str | None = None,
) -> int:
    asyncio.run(run(communes, citizens, messages, synchronous, db))
    return 0
