"""Sentences that tell the citizen what to press, worded by the channel that shows the message.

The core cannot know whether a choice reaches the citizen as a button (Telegram, Zalo with few
choices), as a numbered line to type (Zalo with many choices, the console) or not at all. So its
texts refer to a choice by the button's label, `press("Gặp cán bộ")`, and the renderer
(bot.outbound) words each reference as that channel shows it: "bấm «Gặp cán bộ»", "gõ số 7",
or the command to type when the message carries no such button.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Literal

from flows.models import Button

_OPEN, _CLOSE, _OR = "⟪", "⟫", "|"
PRESS = re.compile(f"{_OPEN}([^{_OPEN}{_CLOSE}{_OR}]+)(?:\\{_OR}([^{_OPEN}{_CLOSE}]+))?{_CLOSE}")

# How a message's choices reach the citizen: buttons to tap, numbered lines to type the number
# of, or lines to type the words of (while a typed number is an answer, e.g. a page count).
Shown = Literal["buttons", "numbers", "words"]


def press(label: str, command: str | None = None) -> str:
    """A reference to the button labelled `label`; `command` is what to type without it."""
    return f"{_OPEN}{label}{_OR + command if command else ''}{_CLOSE}"


def has_references(text: str) -> bool:
    return PRESS.search(text) is not None


def word(
    text: str,
    buttons: Sequence[Button],
    shown: Shown,
    shown_label: Callable[[Button], str] = lambda b: b.label,
) -> str:
    """Replace every reference by the instruction that matches what the citizen sees.

    `buttons` are the message's choices in the core's order (a typed number N means the Nth);
    `shown_label` gives a button's label as displayed (a channel may shorten it).
    """

    def one(match: re.Match[str]) -> str:
        label, command = match.group(1), match.group(2)
        for number, button in enumerate(buttons, start=1):
            if button.label == label:
                if shown == "numbers":
                    return f"gõ số {number}"
                if shown == "words":
                    return f"gõ {command}" if command else f"gõ «{button.label}»"
                return f"bấm «{shown_label(button)}»"
        if command:
            return f"gõ {command}"
        return f"«{label}»"  # a text bug (no such choice here); never an instruction to press

    return PRESS.sub(one, text)


def plain(text: str, buttons: Sequence[Button]) -> str:
    """The wording as shown with buttons: for transcripts and staff, who read it neutrally."""
    return word(text, buttons, "buttons")
