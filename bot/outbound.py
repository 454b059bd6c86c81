"""The one place where a neutral Reply becomes what a channel can send.

Each channel declares its limits; this helper splits long text at readable boundaries, escapes
markup, and falls back to a numbered list when there are more buttons than the channel allows
(citizens can type the number: the core accepts it as a press).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Literal

from flows.models import Button, Reply


@dataclass(frozen=True)
class ChannelLimits:
    text_chars: int
    max_buttons: int | None = None
    callback_bytes: int | None = None
    label_chars: int = 64
    markup: Literal["plain", "html"] = "plain"


@dataclass(frozen=True)
class OutMessage:
    text: str
    buttons: tuple[Button, ...] = ()


def _escape(text: str, markup: str) -> str:
    return html.escape(text, quote=False) if markup == "html" else text


def _fits(button: Button, limits: ChannelLimits) -> bool:
    return (
        limits.callback_bytes is None or len(button.data.encode("utf-8")) <= limits.callback_bytes
    )


def _label(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
    buttons = [
        Button(label=_label(b.label, limits.label_chars), data=b.data)
        for b in reply.buttons
        if _fits(b, limits)
    ]
    body = reply.text
    numbered = limits.max_buttons is not None and len(buttons) > limits.max_buttons
    if numbered:
        listing = "\n".join(f"{i}. {b.label}" for i, b in enumerate(buttons, start=1))
        body = f"{body}\n\n{listing}\n(Gõ số để chọn.)"
        buttons = []
    title_len = len(_escape(reply.title, limits.markup)) + 8 if reply.title else 0
    parts = split_text(body, limits.text_chars - title_len, limits.markup)
    messages = []
    for index, part in enumerate(parts):
        text = _escape(part, limits.markup)
        if index == 0 and reply.title:
            title = _escape(reply.title, limits.markup)
            text = f"<b>{title}</b>\n{text}" if limits.markup == "html" else f"{title}\n{text}"
        last = index == len(parts) - 1
        messages.append(OutMessage(text=text, buttons=tuple(buttons) if last else ()))
    return messages
