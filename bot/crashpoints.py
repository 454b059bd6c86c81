"""Named moments where a crash test can kill the process (kill -9 semantics: no cleanup), and
a timing probe for the duplicate window.

`BOT_CRASH_AT=<name>` in the environment makes the first pass through `crash_point(name)`
end the process at once with exit status 137, so crash tests hit exact moments (after an
update is stored, after a handoff's topic is created...) instead of sleeps tuned to a machine.
In the sender process (bot.relay) a point ends its parent, the bot process, as well: the
whole bot dies there, as the one process did before sends had a process of their own.
Unset (production), a crash point is one dictionary lookup.
"""

from __future__ import annotations

import contextlib
import os
import time

EXIT_STATUS = 137  # what a shell reports for a process killed by SIGKILL
SENDER_FD_ENV = "BOT_SENDER_FD"  # set in the sender process: its socket to the bot process


def crash_point(name: str) -> None:
    if os.environ.get("BOT_CRASH_AT") == name:
        fd = os.environ.get(SENDER_FD_ENV)
        if fd is not None and fd.isdigit():
            _end_parent(int(fd))
        os._exit(EXIT_STATUS)


def _end_parent(fd: int) -> None:
    """Ask the bot process to exit 137 at once, and wait (bounded) until it is gone."""
    parent = os.getppid()
    with contextlib.suppress(OSError):
        os.write(fd, b"crash\n")
    deadline = time.monotonic() + 10
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.01)


def send_timing(*stamps: float) -> None:
    """`BOT_SEND_TIMING=<file>` (soak and benches only): append one line of monotonic times
    per send the platform accepted, to measure the duplicate window across processes. Numbers
    only, never a chat id or a text. Unset (production), one dictionary lookup."""
    path = os.environ.get("BOT_SEND_TIMING")
    if path:
        line = " ".join(f"{stamp:.6f}" for stamp in stamps) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
