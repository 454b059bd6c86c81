"""Neutral replies -> Telegram text and inline keyboards, within Telegram's limits."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.outbound import ChannelLimits, OutMessage, render
from flows.models import Button, Reply

# Bot API: 4,096 characters a message, callback_data 1-64 bytes. Labels are kept short enough
# to read on a small phone without being cut.
LIMITS = ChannelLimits(text_chars=4096, callback_bytes=64, label_chars=40, markup="html")
SHORT_LABEL = 14


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """Big buttons: one per row, but two short ones (Tiếp / Quay lại, 👍 / 👎) share a row."""
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        item = InlineKeyboardButton(button.label, callback_data=button.data)
        last = rows[-1] if rows else None
        if (
            last is not None
            and len(last) == 1
            and len(button.label) <= SHORT_LABEL
            and len(str(last[0].text)) <= SHORT_LABEL
        ):
            last.append(item)
        else:
            rows.append([item])
    return InlineKeyboardMarkup(rows)


def messages(reply: Reply) -> list[OutMessage]:
    return render(reply, LIMITS)
