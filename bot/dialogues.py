"""Dialogue accuracy: labelled multi-turn conversations run through the real engine.

Each line of a dialogue file is {"id", "kind", "turns": [{"text", "guide", "aspect"}]} where
`guide` is a guide id, or none / handoff / chitchat. A turn is right when the bot's replies are
about the expected guide (the simulate contract's "guide" field) or, for the special labels,
about no guide (and, for handoff, the conversation went to staff); it is wrong when a reply is
about another guide. Asking "which of these?" or not understanding is neither. A turn labelled
null is not scored; how many of them were answered with a guide is counted apart.

Aspects: "amount" and "benefit" name the same one (what a benefit pays); the card of a guide
(a reply about it with no aspect: summary, papers, fee, time, place, steps button) answers a
first "how do I ..." question, labelled "steps".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.channels.local import LocalDesk, LocalOutbox
from bot.channels.simulate import CHANNEL, Simulation
from bot.storage.memory import MemoryStorage
from flows.engine import Engine
from flows.models import ConversationKey
from flows.ports import VN_TZ, ManualClock
from knowledge.library import Library

SPECIAL = ("none", "handoff", "chitchat")
_ASPECT_NAMES = {"amount": "benefit"}
# A Tuesday morning, inside working hours: handoffs behave as on a working day.
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)


@dataclass(frozen=True)
class TurnTrace:
    dialogue: str
    number: int
    text: str
    guide: str | None
    aspect: str | None
    got: tuple[str, ...]
    aspects: tuple[str, ...]
    reply: str
    right: bool
    wrong: bool

    @property
    def aspect_answered(self) -> bool:
        """The labelled aspect is among the replies' (a guide's card counts as its steps)."""
        wanted = _ASPECT_NAMES.get(self.aspect or "", self.aspect)
        return wanted is not None and (
            wanted in self.aspects or (wanted == "steps" and "card" in self.aspects)
        )


@dataclass
class DialogueReport:
    dialogues: int = 0
    turns: int = 0
    right: int = 0
    wrong: int = 0
    aspect_turns: int = 0
    aspect_right: int = 0
    skipped: int = 0
    unscored_with_guide: int = 0
    # every scored turn, to classify what went wrong: (dialogue id, turn, text, expected guide,
    # expected aspect, guides replied, aspects replied, the replies' text)
    trace: list[TurnTrace] = field(default_factory=list)

    @property
    def failures(self) -> list[tuple[str, int, str, str | None]]:
        """(dialogue id, turn, text, guides replied) of every turn not about the right one."""
        return [
            (t.dialogue, t.number, t.text, ",".join(t.got) or None)
            for t in self.trace
            if not t.right
        ]

    def lines(self) -> list[str]:
        n = max(self.turns, 1)
        return [
            f"turns right procedure  {self.right / n:7.2%}  ({self.right}/{self.turns} turns, "
            f"{self.dialogues} dialogues; {self.skipped} skipped: guide not in library)",
            f"turns wrong procedure  {self.wrong / n:7.2%}  ({self.wrong})",
            f"aspect right           {self.aspect_right / max(self.aspect_turns, 1):7.2%}  "
            f"({self.aspect_right}/{self.aspect_turns} labelled)",
            f"unlabelled turns answered with a guide: {self.unscored_with_guide}",
        ]

    @property
    def right_rate(self) -> float:
        return self.right / self.turns if self.turns else 0.0

    @property
    def wrong_rate(self) -> float:
        return self.wrong / self.turns if self.turns else 0.0


def read_dialogues(path: Path) -> list[dict[str, Any]]:
    items = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            items.append(json.loads(raw))
    return items


def _measurable(dialogue: dict[str, Any], known: Collection[str]) -> bool:
    return all(
        t.get("guide") in SPECIAL or t.get("guide") in known or t.get("guide") is None
        for t in dialogue["turns"]
    )


async def _run(library: Library, dialogues: list[dict[str, Any]]) -> DialogueReport:
    report = DialogueReport()
    for dialogue in dialogues:
        if not _measurable(dialogue, library.guides):
            report.skipped += 1
            continue
        report.dialogues += 1
        out = io.StringIO()
        sim = Simulation(out, io.StringIO())
        storage = MemoryStorage()
        clock = ManualClock(START)
        engine = Engine(lambda: library, storage, LocalDesk(sim.sink), LocalOutbox(sim.sink), clock)
        user = "d"
        for number, turn in enumerate(dialogue["turns"]):
            expected = turn.get("guide")
            before = len(out.getvalue())
            line = json.dumps({"user": user, "text": turn["text"]}, ensure_ascii=False)
            await sim.run(engine, storage, clock, io.StringIO(line + "\n"))
            records = [json.loads(x) for x in out.getvalue()[before:].splitlines()]
            replies = [r for r in records if r.get("to") == "citizen"]
            guides = {r["guide"] for r in replies if r.get("guide")}
            aspects = {
                _ASPECT_NAMES.get(r["aspect"], r["aspect"]) for r in replies if r.get("aspect")
            }
            if any(r.get("guide") and not r.get("aspect") for r in replies):
                aspects.add("card")
            if expected is None:
                report.unscored_with_guide += bool(guides)
                continue
            report.turns += 1
            conversation = await storage.conversations.by_key(
                ConversationKey(channel=CHANNEL, user_id=user)
            )
            handed = conversation is not None and conversation.state.mode != "bot"
            if expected in SPECIAL:
                ok = not guides and (expected != "handoff" or handed)
                wrong = bool(guides)
            else:
                ok = guides == {expected}
                wrong = bool(guides - {expected})
            report.right += ok
            report.wrong += wrong
            trace = TurnTrace(
                str(dialogue.get("id")),
                number,
                turn["text"],
                expected,
                turn.get("aspect"),
                tuple(sorted(guides)),
                tuple(sorted(aspects)),
                " | ".join(r["text"] for r in replies),
                bool(ok),
                wrong,
            )
            if trace.aspect and expected not in SPECIAL:
                report.aspect_turns += 1
                report.aspect_right += trace.right and trace.aspect_answered
            report.trace.append(trace)
    return report


def half(dialogues: list[dict[str, Any]], part: str | None) -> list[dict[str, Any]]:
    """A fixed half of a set: "A" the 1st, 3rd, ... dialogue of the file, "B" the others (tune
    on one half, check on the other); None all."""
    if part is None:
        return dialogues
    first = part == "A"
    return [d for i, d in enumerate(dialogues) if (i % 2 == 0) == first]


def evaluate_dialogues(library: Library, path: Path, part: str | None = None) -> DialogueReport:
    return asyncio.run(_run(library, half(read_dialogues(path), part)))
