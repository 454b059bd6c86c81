"""`python -m bot console`: chat with the bot in a terminal, choices listed to type by number.

Lines starting with "!" act as desk staff, so the whole handoff can be tried locally:
!nhan (claim), !tl <text> (reply), !tra (return to bot), !dong (close).
"""

from __future__ import annotations

import asyncio
import sys
from typing import IO

from bot.outbound import ChannelLimits, render
from flows.engine import Engine
from flows.models import ConversationKey, Inbound, Reply
from flows.ports import Storage

CHANNEL = "console"
LIMITS = ChannelLimits(text_chars=4096, max_buttons=0)  # a terminal: choices are typed
HELP = (
    "Trò chuyện với trợ lý thủ tục hành chính. Gõ câu hỏi, hoặc gõ số để chọn.\n"
    "Thử vai cán bộ: !nhan, !tl <nội dung>, !tra, !dong. Thoát: Ctrl+D hoặc !thoat."
)
STAFF_NAME = "Lan (thử trên máy)"


class Console:
    def __init__(self, out: IO[str] = sys.stdout) -> None:
        self._out = out
        self.key = ConversationKey(channel=CHANNEL, user_id="local")

    def sink(self, to: str, key: ConversationKey | None, reply: Reply) -> None:
        prefix = "[Gửi cán bộ] " if to == "staff" else ""
        for message in render(reply, LIMITS):
            self._out.write(f"\n{prefix}{message.text}\n")
        self._out.flush()

    async def _staff(self, engine: Engine, storage: Storage, command: str) -> None:
        conversation = await storage.conversations.by_key(self.key)
        if conversation is None:
            self._out.write("(chưa có cuộc trò chuyện)\n")
            return
        word, _, rest = command.partition(" ")
        if word == "!nhan":
            await engine.staff_action(STAFF_NAME, conversation.id, "claim")
        elif word == "!tra":
            await engine.staff_action(STAFF_NAME, conversation.id, "return")
        elif word == "!dong":
            await engine.staff_action(STAFF_NAME, conversation.id, "close")
        elif word == "!tl" and rest.strip():
            await engine.staff_reply(STAFF_NAME, conversation.id, rest.strip())
        else:
            self._out.write("Lệnh cán bộ: !nhan, !tl <nội dung>, !tra, !dong\n")

    async def run(self, engine: Engine, storage: Storage, stdin: IO[str] = sys.stdin) -> None:
        self._out.write(HELP + "\n")
        for reply in await engine.handle(Inbound(key=self.key, text="/start", display_name="Bạn")):
            self.sink("citizen", self.key, reply)
        loop = asyncio.get_running_loop()
        while True:
            self._out.write("\n> ")
            self._out.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            text = line.rstrip("\n")
            if text.strip() == "!thoat":
                break
            if text.startswith("!"):
                await self._staff(engine, storage, text.strip())
                continue
            for reply in await engine.handle(Inbound(key=self.key, text=text, display_name="Bạn")):
                self.sink("citizen", self.key, reply)
            await engine.tick()
