"""The console chat as a person at the terminal reads it: no buttons, so every choice is a
numbered line (or, while a number is an answer, words to type), and sentences say so."""

from __future__ import annotations

import io
from pathlib import Path

from bot.channels.console import LIMITS, Console
from bot.channels.local import LocalDesk, LocalOutbox
from bot.outbound import render
from bot.storage import SqliteStorage
from flows.engine import Engine
from flows.models import ConversationKey, Reply
from flows.ports import ManualClock
from knowledge.holder import LibraryHolder
from knowledge.loader import DEFAULT_DIR
from tests.flows.driver import OPEN_TIME
from tests.readable import Seen, problems


class RecordingConsole(Console):
    """The real console; also keeps each message it printed for the citizen."""

    def __init__(self, out: io.StringIO) -> None:
        super().__init__(out)
        self.printed: list[Seen] = []

    def sink(self, to: str, key: ConversationKey | None, reply: Reply) -> None:
        super().sink(to, key, reply)
        if to == "citizen":
            self.printed += [Seen(m.text) for m in render(reply, LIMITS)]


async def chat(tmp_path: Path, lines: list[str]) -> list[Seen]:
    out = io.StringIO()
    console = RecordingConsole(out)
    clock = ManualClock(OPEN_TIME)
    storage = SqliteStorage(tmp_path / "console.sqlite3")
    await storage.open()
    try:
        engine = Engine(
            LibraryHolder(DEFAULT_DIR, lambda: clock.now().date()).current,
            storage,
            LocalDesk(console.sink),
            LocalOutbox(console.sink),
            clock,
        )
        await console.run(engine, storage, io.StringIO("".join(f"{x}\n" for x in lines)))
    finally:
        await storage.close()
    assert all(m.text in out.getvalue() for m in console.printed)
    return console.printed


async def test_console_lists_choices_to_type_and_says_so(tmp_path: Path) -> None:
    lines = ["1", "1", "5", "/menu", "gặp cán bộ", "/huy", "phí chứng thực bản sao", "1", "3"]
    messages = await chat(tmp_path, lines)
    assert messages, "the console printed nothing"
    for message in messages:
        assert problems(message, max_chars=4096) == [], message
        assert "bấm" not in message.text, message
    texts = "\n".join(m.text for m in messages)
    assert "trợ lý tự động" in texts
    assert "Bản chính có bao nhiêu trang?" in texts
    assert "• Hủy" in texts and "(Gõ đúng chữ trong danh sách để chọn.)" in texts
