"""`python -m bot bench`: throughput and latency of the whole core under concurrent citizens.

Every message goes through the real engine: matcher, flow state, and an SQLite commit (WAL) per
turn. Citizens write concurrently; each citizen's own messages are sequential, as on a phone.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from bot.channels.local import LocalDesk, LocalOutbox
from bot.storage import SqliteStorage
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


async def _citizen(engine: Engine, index: int, messages: int, latencies: list[float]) -> None:
    rng = random.Random(index)
    key = ConversationKey(channel="bench", user_id=f"c{index}")
    for turn in range(messages):
        text = SCRIPT[(turn + rng.randrange(len(SCRIPT))) % len(SCRIPT)]
        start = time.perf_counter()
        await engine.handle(Inbound(key=key, text=text, display_name=f"Công dân {index}"))
        latencies.append((time.perf_counter() - start) * 1000)


async def run(citizens: int, messages: int, synchronous: str) -> None:
    clock = SystemClock()
    holder = LibraryHolder(DEFAULT_DIR, lambda: clock.now().date())
    holder.current()
    with tempfile.TemporaryDirectory(prefix="bot-bench-") as tmp:
        storage = SqliteStorage(Path(tmp) / "bench.sqlite3", synchronous=synchronous)
        await storage.open()
        engine = Engine(holder.current, storage, LocalDesk(_discard), LocalOutbox(_discard), clock)
        latencies: list[float] = []
        start = time.perf_counter()
        await asyncio.gather(*(_citizen(engine, i, messages, latencies) for i in range(citizens)))
        elapsed = time.perf_counter() - start
        await storage.close()
        size = (Path(tmp) / "bench.sqlite3").stat().st_size
    latencies.sort()
    total = len(latencies)
    p99 = latencies[min(total - 1, int(total * 0.99))]
    print(f"citizens {citizens}, messages each {messages}, sqlite synchronous={synchronous}")
    print(f"  messages      {total}")
    print(f"  elapsed       {elapsed:.2f} s")
    print(f"  throughput    {total / elapsed:.0f} messages/s")
    print(f"  latency p50   {statistics.median(latencies):.1f} ms (includes waiting behind others)")
    print(f"  latency p99   {p99:.1f} ms")
    print(f"  database      {size / 2**20:.1f} MiB")
    print(f"  target (>= 500 messages/s): {'met' if total / elapsed >= 500 else 'NOT met'}")


def main(citizens: int = 1000, messages: int = 5, synchronous: str = "NORMAL") -> int:
    asyncio.run(run(citizens, messages, synchronous))
    return 0
