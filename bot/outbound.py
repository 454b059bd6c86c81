"""The one place where a neutral Reply becomes what a channel can send.

Each channel declares its limits; this helper splits long text at readable boundaries, escapes
markup, and falls back to a numbered list when there are more buttons than the channel allows
(citizens can type the number: the core accepts it as a press). Listed choices keep their full
label, and every sentence that says what to press is worded as the channel shows the choice
(see flows.wording).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Literal

from flows.models import Button, Reply
from flows.wording import PRESS, Shown, word

NUMBERS_HINT = "(Gõ số để chọn.)"
WORDS_HINT = "(Gõ đúng chữ trong danh sách để chọn.)"
REFERENCE_SLACK = 8  # a worded reference ("bấm «…»") is at most this much longer than its mark


@dataclass(frozen=True)
class ChannelLimits:
    """What a channel can show. `max_buttons`: None = no limit, 0 = no buttons at all."""

    text_chars: int
    max_buttons: int | None = None
    callback_bytes: int | None = None
    label_chars: int = 64
    markup: Literal["plain", "html"] = "plain"


@dataclass(frozen=True)
class OutMessage:
    text: str
    buttons: tuple[Button, ...] = ()
    # The same message with its choices as a numbered list instead of buttons, worded to match:
    # for a channel whose button template is refused at send time.
    listed: str | None = None


def _escape(text: str, markup: str) -> str:
    return html.escape(text, quote=False) if markup == "html" else text


def _fits(button: Button, limits: ChannelLimits) -> bool:
    return (
        limits.callback_bytes is None or len(button.data.encode("utf-8")) <= limits.callback_bytes
    )


def _label(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _listing(buttons: tuple[Button, ...], shown: Shown) -> str:
    """Choices in the text, each with its full label and numbered once (by the core's order)."""
    if not buttons:
        return ""
    if shown == "numbers":
        lines = [f"{i}. {b.label}" for i, b in enumerate(buttons, start=1)]
        return "\n".join(lines) + "\n" + NUMBERS_HINT
    return "\n".join(f"• {b.label}" for b in buttons) + "\n" + WORDS_HINT


def split_text(text: str, limit: int, markup: str = "plain") -> list[str]:
    """Split so every escaped piece fits `limit`: paragraphs, then lines, then sentences, words."""
    pieces: list[str] = []
    current = ""

    def size(s: str) -> int:
        return len(_escape(s, markup))

    def units(block: str, separators: tuple[str, ...]) -> list[str]:
        if size(block) <= limit or not separators:
            return [block]
        sep, rest = separators[0], separators[1:]
        parts = block.split(sep)
        out: list[str] = []
        for i, part in enumerate(parts):
            chunk = part + (sep if i < len(parts) - 1 else "")
            out += units(chunk, rest)
        return out

    for unit in units(text, ("\n\n", "\n", ". ", " ")):
        while size(unit) > limit:  # a single word longer than the limit: hard cut
            cut = limit
            while size(unit[:cut]) > limit:
                cut -= 1
            if current:
                pieces.append(current)
                current = ""
            pieces.append(unit[:cut])
            unit = unit[cut:]
        if size(current + unit) > limit:
            pieces.append(current)
            current = unit
        else:
            current += unit
    if current or not pieces:
        pieces.append(current)
    return [p.strip() for p in pieces if p.strip()] or [""]


def render(reply: Reply, limits: ChannelLimits) -> list[OutMessage]:
    """The messages a channel sends for one reply, every "what to press" worded as shown."""
    choices = reply.buttons
    as_buttons = bool(choices) and (
        limits.max_buttons is None or len(choices) <= limits.max_buttons
    )
    listed_as: Shown = "numbers" if reply.numbered_choices else "words"
    shown: Shown = "buttons" if as_buttons else listed_as
    buttons = tuple(
        Button(label=_label(b.label, limits.label_chars), data=b.data)
        for b in choices
        if _fits(b, limits)
    )
    visible = tuple(b for b in choices if _fits(b, limits)) if as_buttons else choices
    labels = {b.data: _label(b.label, limits.label_chars) for b in visible}

    def worded(part: str, how: Shown, among: tuple[Button, ...]) -> str:
        return _escape(word(part, among, how, lambda b: labels.get(b.data, b.label)), limits.markup)

    body = reply.text
    if not as_buttons and choices:
        body = f"{body}\n\n{_listing(choices, shown)}"
    title_len = len(_escape(reply.title, limits.markup)) + 8 if reply.title else 0
    slack = REFERENCE_SLACK * len(PRESS.findall(body))
    parts = split_text(body, limits.text_chars - title_len - slack, limits.markup)
    heading = ""
    if reply.title:
        title = _escape(reply.title, limits.markup)
        heading = f"<b>{title}</b>\n" if limits.markup == "html" else f"{title}\n"
    messages = []
    for index, part in enumerate(parts):
        first, last = index == 0, index == len(parts) - 1
        text = (heading if first else "") + worded(part, shown, visible)
        listed = None
        if last and as_buttons:
            listing = f"{part}\n\n{_listing(choices, listed_as)}"
            listed = ((heading if first else "") + worded(listing, listed_as, choices))[
                : limits.text_chars
            ]
        messages.append(
            OutMessage(text=text, buttons=buttons if last and as_buttons else (), listed=listed)
        )
    return messages
