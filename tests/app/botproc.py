"""`python -m tests.app.botproc`: `python -m bot run` (the same Settings from the environment,
the same `run_bot` and production wiring) with two test knobs a subprocess cannot get
otherwise: the time, read from the file named by BOT_TEST_CLOCK_FILE (an ISO 8601 moment the
test rewrites, so periodic jobs and lease expiries follow the test, not the wall clock), and
BOT_TEST_TICK / BOT_TEST_POLLER_TTL (seconds) so a takeover happens within a test's patience.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from pathlib import Path

from bot.app import run_bot
from bot.bootstrap import Parts
from bot.config import Settings
from bot.logs import configure_logging
from flows.ports import Clock


class FileClock(Clock):
    """The moment written in a file; re-read only when the file changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp = -1
        self._now = dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        stamp = self._path.stat().st_mtime_ns
        if stamp != self._stamp:
            text = self._path.read_text(encoding="utf-8").strip()
            if text:  # a rewrite in progress reads empty: keep the previous moment
                self._now, self._stamp = dt.datetime.fromisoformat(text), stamp
        return self._now


def set_time(path: Path, moment: dt.datetime) -> None:
    """Move every process's clock (an atomic rename: no process reads half a line)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(moment.isoformat(), encoding="utf-8")
    os.replace(tmp, path)


def main() -> None:
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    settings = Settings()
    configure_logging(settings, sys.stderr)
    parts = Parts(
        clock=FileClock(Path(os.environ["BOT_TEST_CLOCK_FILE"])),
        poller_ttl=dt.timedelta(seconds=float(os.environ.get("BOT_TEST_POLLER_TTL", "30"))),
    )
    tick = float(os.environ.get("BOT_TEST_TICK", "30"))
    asyncio.run(run_bot(settings, tick_seconds=tick, parts=parts))


if __name__ == "__main__":
    main()
