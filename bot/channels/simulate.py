"""`python -m bot simulate`: drive the real core with JSON lines (a stable contract).

Input lines: {"user","text"} | {"user","press": n|label} | {"user","media"} |
{"staff","user","text"} | {"staff","user","action"} | {"clock": iso}. Output: one JSON line per
message ({"to": "citizen"|"staff", "user", "text", "buttons", "in"}, plus "guide": id and
"aspect" when a citizen reply is about a guide) and {"done": n} per input.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import IO, Any, get_args

from bot.outbound import ChannelLimits, render
from flows.engine import Engine
from flows.models import Button, ConversationKey, Inbound, MediaKind, Reply
from flows.ports import ManualClock, Storage

CHANNEL = "sim"
MEDIA_KINDS = set(get_args(MediaKind))
LIMITS = ChannelLimits(text_chars=4096)


class Simulation:
    def __init__(self, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr) -> None:
        self._out = out
        self._err = err
        self.line = 0
        self._last_buttons: dict[str, tuple[Button, ...]] = {}

    def sink(self, to: str, key: ConversationKey | None, reply: Reply) -> None:
        user = key.user_id if key is not None else None
        for message in render(reply, LIMITS):
            record: dict[str, Any] = {
                "to": to,
                "user": user,
                "text": message.text,
                "buttons": [b.label for b in message.buttons],
                "in": self.line,
            }
            if to == "citizen" and reply.guide:
                record["guide"] = reply.guide
                if reply.aspect:
                    record["aspect"] = reply.aspect
            if to == "citizen" and user is not None and message.buttons:
                self._last_buttons[user] = message.buttons
            self._out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._out.flush()

    def error(self, message: str) -> None:
        self._err.write(f"simulate: line {self.line}: {message}\n")
        self._err.flush()

    def _button(self, user: str, press: object) -> Button | None:
        buttons = self._last_buttons.get(user, ())
        if isinstance(press, bool):
            return None
        if isinstance(press, int):
            return buttons[press - 1] if 1 <= press <= len(buttons) else None
        if isinstance(press, str):
            return next((b for b in buttons if b.label == press), None)
        return None

    async def run(
        self, engine: Engine, storage: Storage, clock: ManualClock, lines: IO[str]
    ) -> None:
        for raw in lines:
            self.line += 1
            try:
                await self._one(engine, storage, clock, raw)
            except Exception as exc:  # a bad line must never stop the run
                self.error(f"{type(exc).__name__}: {exc}")
            self._out.write(json.dumps({"done": self.line}) + "\n")
            self._out.flush()

    async def _one(self, engine: Engine, storage: Storage, clock: ManualClock, raw: str) -> None:
        if not raw.strip():
            return
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            self.error(f"invalid JSON ({exc.msg})")
            return
        if not isinstance(item, dict):
            self.error("expected a JSON object")
            return
        if "clock" in item:
            moment = dt.datetime.fromisoformat(str(item["clock"]))
            if moment.tzinfo is None:
                self.error("clock needs a UTC offset, e.g. 2026-12-05T21:00:00+07:00")
                return
            clock.set(moment)
            await engine.tick()
            return
        user = item.get("user")
        if not isinstance(user, str) or not user:
            self.error('missing "user"')
            return
        key = ConversationKey(channel=CHANNEL, user_id=user)
        if "staff" in item:
            await self._staff(engine, storage, key, str(item["staff"]), item)
            return
        name = str(item.get("name", ""))
        inbound: Inbound
        if "press" in item:
            button = self._button(user, item["press"])
            if button is None:
                self.error(f"no button {item['press']!r} in the last message to {user}")
                return
            inbound = Inbound(key=key, kind="button", button=button.data, display_name=name)
        elif "media" in item:
            media = str(item["media"])
            inbound = Inbound(
                key=key,
                kind="media",
                media=media if media in MEDIA_KINDS else "other",
                display_name=name,
            )
        elif "text" in item:
            inbound = Inbound(key=key, kind="text", text=str(item["text"]), display_name=name)
        else:
            self.error('expected "text", "press" or "media"')
            return
        for reply in await engine.handle(inbound):
            self.sink("citizen", key, reply)

    async def _staff(
        self,
        engine: Engine,
        storage: Storage,
        key: ConversationKey,
        staff: str,
        item: dict[str, Any],
    ) -> None:
        conversation = await storage.conversations.by_key(key)
        if conversation is None:
            self.error(f"no conversation with {key.user_id}")
            return
        action = item.get("action")
        if action in ("claim", "return", "close"):
            await engine.staff_action(staff, conversation.id, action)
        elif "text" in item:
            await engine.staff_reply(staff, conversation.id, str(item["text"]))
        else:
            self.error('staff lines need "text" or "action" (claim, return, close)')
