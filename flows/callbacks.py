"""Button data and flow names: the one place that knows their wire format.

A button carries a short ASCII string (Telegram allows 64 bytes of callback_data); buttons already
sent keep working after an upgrade, so the format below is stable. Everything else handles typed
`Callback`s: data that does not parse (a stale keyboard, a forged press, a removed action)
becomes `Act.UNKNOWN`, which the router answers politely instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, StrEnum

from flows.models import Button

MAX_DATA_BYTES = 64  # Telegram's callback_data limit; Zalo postbacks allow more


class Flow(StrEnum):
    """The multi-step forms a conversation can be inside (ConversationState.flow)."""

    DELETE = "delete"  # confirming /xoadulieu
    REASON = "reason"  # why an answer was not helpful
    FEE = "fee"  # the fee calculator asks for a count
    FEEDBACK = "feedback"  # the /phananh intake
    CLARIFY = "clarify"  # "did you mean one of these guides?"
    WALK = "walk"  # step-by-step walkthrough
    CHECK = "check"  # document checklist


# While inside these, a typed number or word is the form's answer, not a menu choice.
FORM_FLOWS = (Flow.FEE, Flow.FEEDBACK, Flow.REASON)


class Shape(Enum):
    """What follows the action word in the data string."""

    NONE = "none"  # "menu"
    KEY = "key"  # "g:khai-sinh" (a guide, field or rating target id)
    CHOICE = "choice"  # "fb:y", or the bare word ("fb")
    ID = "id"  # "claim:42" (a conversation id)
    KEY_INDEX = "key_index"  # "qa:khai-sinh:3"
    STEP = "step"  # "s:khai-sinh:o:2" (online or in person, step index)


class Act(StrEnum):
    """Every button action; the value is the word on the wire."""

    MENU = "menu"
    HUMAN = "h"
    CANCEL = "x"
    MORE = "more"
    NOT_THESE = "nf"
    PRIVACY = "priv"
    SKIP = "skip"
    DELETE = "del"  # del, del:y, del:n
    FEEDBACK = "fb"  # fb, fb:y, fb:n, fb:skip
    FIELD = "f"
    CARD = "g"
    STEPS = "st"
    STEP = "s"
    STEPS_DONE = "sd"
    DOCS = "d"
    CHECKLIST = "ck"
    TICK = "ct"
    CHECK_DONE = "cd"
    FEES = "fee"
    FEE_CALC = "fc"
    ONLINE = "on"
    FAQ = "q"
    FAQ_ANSWER = "qa"
    HELPFUL = "r+"
    UNHELPFUL = "r-"
    # desk buttons (only honoured in the staff group)
    EXAMPLE = "ex"  # ex:<guide> or ex:- (skip)
    CLAIM = "claim"
    RETURN = "return"
    CLOSE = "close"
    UNKNOWN = "?"  # never formatted: what unreadable data parses to


SHAPES: dict[Act, Shape] = {
    Act.MENU: Shape.NONE,
    Act.HUMAN: Shape.NONE,
    Act.CANCEL: Shape.NONE,
    Act.MORE: Shape.NONE,
    Act.NOT_THESE: Shape.NONE,
    Act.PRIVACY: Shape.NONE,
    Act.SKIP: Shape.NONE,
    Act.DELETE: Shape.CHOICE,
    Act.FEEDBACK: Shape.CHOICE,
    Act.FIELD: Shape.KEY,
    Act.CARD: Shape.KEY,
    Act.STEPS: Shape.KEY,
    Act.STEP: Shape.STEP,
    Act.STEPS_DONE: Shape.KEY,
    Act.DOCS: Shape.KEY,
    Act.CHECKLIST: Shape.KEY,
    Act.TICK: Shape.KEY_INDEX,
    Act.CHECK_DONE: Shape.KEY,
    Act.FEES: Shape.KEY,
    Act.FEE_CALC: Shape.KEY,
    Act.ONLINE: Shape.KEY,
    Act.FAQ: Shape.KEY,
    Act.FAQ_ANSWER: Shape.KEY_INDEX,
    Act.HELPFUL: Shape.KEY,
    Act.UNHELPFUL: Shape.KEY,
    Act.EXAMPLE: Shape.KEY,
    Act.CLAIM: Shape.ID,
    Act.RETURN: Shape.ID,
    Act.CLOSE: Shape.ID,
}
CHOICES: dict[Act, tuple[str, ...]] = {
    Act.DELETE: ("", "y", "n"),
    Act.FEEDBACK: ("", "y", "n", "skip"),
}
STAFF_ACTS = (Act.CLAIM, Act.RETURN, Act.CLOSE)
RATING_STAFF = "staff"  # the rating target for a staff member's help (r+:staff)
EXAMPLE_SKIP = "-"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$|^-$")
_BY_WORD = {act.value: act for act in Act if act is not Act.UNKNOWN}


@dataclass(frozen=True)
class Callback:
    """A parsed button press. `key` is the guide/field/target id or the choice word; `number`
    the conversation id or index; `online` the walkthrough mode of a step."""

    act: Act
    key: str = ""
    number: int | None = None
    online: bool = False
    raw: str = ""

    @property
    def data(self) -> str:
        return format_data(self.act, self.key, self.number, self.online)


def format_data(act: Act, key: str = "", number: int | None = None, online: bool = False) -> str:
    """The wire string; raises ValueError for values a parser would not read back."""
    shape = SHAPES.get(act)
    if shape is None:
        raise ValueError(f"{act!r} cannot be put on a button")
    if shape in (Shape.KEY, Shape.KEY_INDEX, Shape.STEP) and not _KEY.match(key):
        raise ValueError(f"not a button key: {key!r}")
    if shape in (Shape.ID, Shape.KEY_INDEX, Shape.STEP) and (number is None or number < 0):
        raise ValueError(f"{act.value} needs a number")
    if shape is Shape.NONE:
        text = act.value
    elif shape is Shape.CHOICE:
        if key not in CHOICES[act]:
            raise ValueError(f"not a choice of {act.value}: {key!r}")
        text = f"{act.value}:{key}" if key else act.value
    elif shape is Shape.KEY:
        text = f"{act.value}:{key}"
    elif shape is Shape.ID:
        text = f"{act.value}:{number}"
    elif shape is Shape.KEY_INDEX:
        text = f"{act.value}:{key}:{number}"
    else:
        text = f"{act.value}:{key}:{'o' if online else 'p'}:{number}"
    if len(text.encode()) > MAX_DATA_BYTES:
        raise ValueError(f"button data longer than {MAX_DATA_BYTES} bytes: {text!r}")
    return text


def button(
    label: str, act: Act, key: str = "", number: int | None = None, online: bool = False
) -> Button:
    return Button(label=label, data=format_data(act, key, number, online))


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def parse(data: str | None) -> Callback:
    """Never raises: anything unreadable is Act.UNKNOWN (with the raw text kept for logs)."""
    raw = data or ""
    unknown = Callback(Act.UNKNOWN, raw=raw[:MAX_DATA_BYTES])
    word, _, rest = raw.partition(":")
    act = _BY_WORD.get(word)
    if act is None:
        return unknown
    shape = SHAPES[act]
    parts = rest.split(":") if rest else []
    if shape is Shape.NONE:
        return Callback(act, raw=raw) if not rest and ":" not in raw else unknown
    if shape is Shape.CHOICE:
        choice = rest if ":" in raw else ""
        if (":" in raw and not rest) or choice not in CHOICES[act]:
            return unknown
        return Callback(act, key=choice, raw=raw)
    if shape is Shape.KEY:
        if len(parts) != 1 or not _KEY.match(parts[0]):
            return unknown
        return Callback(act, key=parts[0], raw=raw)
    if shape is Shape.ID:
        number = _number(rest)
        return unknown if number is None else Callback(act, number=number, raw=raw)
    if shape is Shape.KEY_INDEX:
        if len(parts) != 2 or not _KEY.match(parts[0]) or _number(parts[1]) is None:
            return unknown
        return Callback(act, key=parts[0], number=_number(parts[1]), raw=raw)
    if len(parts) != 3 or not _KEY.match(parts[0]) or parts[1] not in ("o", "p"):
        return unknown
    index = _number(parts[2])
    if index is None:
        return unknown
    return Callback(act, key=parts[0], number=index, online=parts[1] == "o", raw=raw)
