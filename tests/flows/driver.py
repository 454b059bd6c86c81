"""Drive the real core through the simulation channel, one JSON line at a time."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from bot.channels.local import LocalDesk, LocalOutbox
from bot.channels.simulate import Simulation
from bot.storage import SqliteStorage
from flows.engine import Engine, EngineConfig
from flows.ports import VN_TZ, ManualClock
from knowledge.holder import LibraryHolder
from knowledge.loader import DEFAULT_DIR

# A Tuesday morning, inside working hours.
OPEN_TIME = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)


class Driver:
    def __init__(
        self, db: Path, start: dt.datetime = OPEN_TIME, knowledge: Path = DEFAULT_DIR
    ) -> None:
        self.db = db
        self.clock = ManualClock(start)
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.sim = Simulation(self.out, self.err)
        self.storage = SqliteStorage(db)
        self.holder = LibraryHolder(knowledge, lambda: self.clock.now().date())
        self.outbox = LocalOutbox(self.sim.sink)
        self.desk = LocalDesk(self.sim.sink)
        self.engine = Engine(
            self.holder.current,
            self.storage,
            self.desk,
            self.outbox,
            self.clock,
            EngineConfig(reminder_minutes=15),
        )
        self._read = 0

    async def __aenter__(self) -> Driver:
        await self.storage.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.storage.close()

    async def line(self, raw: str) -> list[dict[str, Any]]:
        await self.sim.run(self.engine, self.storage, self.clock, io.StringIO(raw + "\n"))
        produced = self.out.getvalue()[self._read :]
        self._read = len(self.out.getvalue())
        records = [json.loads(x) for x in produced.splitlines()]
        assert records[-1] == {"done": self.sim.line}
        return records[:-1]

    async def send(self, **item: Any) -> list[dict[str, Any]]:
        return await self.line(json.dumps(item, ensure_ascii=False))

    async def say(self, text: str, user: str = "u1", **extra: Any) -> list[dict[str, Any]]:
        return await self.send(user=user, text=text, **extra)

    async def press(self, press: int | str, user: str = "u1") -> list[dict[str, Any]]:
        return await self.send(user=user, press=press)

    async def staff(
        self, user: str = "u1", staff: str = "Chị Lan", **item: Any
    ) -> list[dict[str, Any]]:
        return await self.send(staff=staff, user=user, **item)

    async def clock_to(self, moment: dt.datetime) -> list[dict[str, Any]]:
        return await self.send(clock=moment.isoformat())


def to_citizen(records: list[dict[str, Any]], user: str = "u1") -> list[dict[str, Any]]:
    return [r for r in records if r["to"] == "citizen" and r["user"] == user]


def to_staff(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["to"] == "staff"]


def texts(records: list[dict[str, Any]]) -> str:
    return "\n".join(r["text"] for r in records)


def about(out: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """The guide and aspect the first reply of a turn is about (what outside checks read)."""
    return out[0].get("guide"), out[0].get("aspect")


def said(out: list[dict[str, Any]]) -> str:
    return "\n".join(reply.get("text", "") for reply in out)
