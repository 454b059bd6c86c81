"""Named moments where a crash test can kill the process (kill -9 semantics: no cleanup).

`BOT_CRASH_AT=<name>` in the environment makes the first pass through `crash_point(name)`
end the process at once with exit status 137, so crash tests hit exact moments (after an
update is stored, after a handoff's topic is created...) instead of sleeps tuned to a machine.
Unset (production), a crash point is one dictionary lookup.
"""

from __future__ import annotations

import os

EXIT_STATUS = 137  # what a shell reports for a process killed by SIGKILL


def crash_point(name: str) -> None:
    if os.environ.get("BOT_CRASH_AT") == name:
        os._exit(EXIT_STATUS)
