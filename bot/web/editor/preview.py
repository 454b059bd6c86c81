"""What a citizen sees of a guide, on each channel, produced by the real answer code.

The guide's card, papers and fees are said by the same functions the engine calls (flows.answers)
on a throw-away conversation, then cut by the same outbound helper with each channel's own limits
(length, buttons, label length), so the preview shows the pages and numbered lists a phone shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot.channels.telegram.keyboard import LIMITS as TELEGRAM
from bot.channels.zalo.outbox import LIMITS as ZALO
from bot.outbound import ChannelLimits, OutMessage, render
from flows import answers
from flows.models import ConversationKey
from flows.ports import Conversation, ConversationState
from flows.turn import Turn
from knowledge.library import Library
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Matcher
from knowledge.schema import Guide

CHANNELS: dict[str, tuple[str, ChannelLimits]] = {
    "telegram": ("Telegram", TELEGRAM),
    "zalo": ("Zalo", ZALO),
}
SECTIONS: tuple[tuple[str, Callable[[Turn, Library, Guide], None]], ...] = (
    ("Thẻ tóm tắt (khi người dân hỏi)", answers.show_card),
    ("Giấy tờ cần mang", answers.show_documents),
    ("Lệ phí", answers.show_fees),
)


@dataclass(frozen=True)
class Section:
    title: str
    messages: list[OutMessage]


@dataclass(frozen=True)
class ChannelPreview:
    name: str
    limits: ChannelLimits
    sections: list[Section]


def preview_day(guide: Guide, today: dt.date) -> dt.date:
    """A future version is previewed on its first day, an ended one on its last."""
    if guide.effective_from and today < guide.effective_from:
        return guide.effective_from
    if guide.effective_to and today > guide.effective_to:
        return guide.effective_to
    return today


def preview(
    kb: KnowledgeBase, guide: Guide, now: dt.datetime, matcher: Matcher | None
) -> list[ChannelPreview]:
    """`matcher`: the serving one (matching is not previewed, and training takes seconds)."""
    day = preview_day(guide, now.date())
    library = Library(kb, day, matcher=matcher)
    shown = library.guide(guide.id) or guide
    replies = []
    for title, say in SECTIONS:
        conversation = Conversation(
            id=0,
            key=ConversationKey(channel="preview", user_id="preview"),
            state=ConversationState(introduced=True),
            created_at=now,
            last_seen_at=now,
        )
        turn = Turn(conversation, now)
        say(turn, library, shown)
        replies.append((title, turn.replies))
    return [
        ChannelPreview(
            name,
            limits,
            [
                Section(title, [m for reply in said for m in render(reply, limits)])
                for title, said in replies
            ],
        )
        for name, limits in CHANNELS.values()
    ]
