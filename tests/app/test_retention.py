"""The daily retention purge: old conversations go, the report keeps its counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.config import Settings
from bot.housekeeping import RetentionPurge, months_before
from bot.report.summary import recent_report
from bot.storage import SqliteStorage
from flows.models import ConversationKey
from flows.ports import VN_TZ, ConversationState, Event, ManualClock, TranscriptLine, Turn
from knowledge.loader import DEFAULT_DIR, load_knowledge

NOW = dt.datetime(2027, 6, 15, 9, 0, tzinfo=VN_TZ)


def test_default_retention_is_twelve_months() -> None:
    assert Settings(_env_file=None).retention_months == 12  # type: ignore[call-arg]
    assert months_before(NOW, 12) == dt.datetime(2026, 6, 15, 9, 0, tzinfo=VN_TZ)
    assert months_before(dt.datetime(2027, 3, 31, tzinfo=VN_TZ), 1).day == 28


async def test_daily_purge_erases_old_conversations_once_a_day(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "bot.sqlite3")
    await storage.open()
    try:
        for user, when in (("old", NOW - dt.timedelta(days=400)), ("new", NOW)):
            c = await storage.conversations.get_or_create(
                ConversationKey(channel="zalo", user_id=user), when
            )
            await storage.commit(
                Turn(
                    conversation_id=c.id,
                    state=ConversationState(),
                    seen_at=when,
                    transcript=[TranscriptLine(direction="in", text="khai sinh", at=when)],
                    events=[
                        Event(
                            kind="question", at=when, data={"text": "khai sinh", "intent": "guide"}
                        ),
                        Event(kind="answer", at=when, data={"guide": "khai-sinh"}),
                    ],
                )
            )
        clock = ManualClock(NOW)
        purge = RetentionPurge(storage, clock, months=12)
        assert await purge.run()
        assert not await purge.run()  # once a day
        assert (
            await storage.conversations.by_key(ConversationKey(channel="zalo", user_id="old"))
            is None
        )
        assert await storage.conversations.by_key(ConversationKey(channel="zalo", user_id="new"))
        # a report over the old period still counts the question and the answer
        kb = load_knowledge(DEFAULT_DIR).knowledge
        assert kb is not None
        old_day = (NOW - dt.timedelta(days=400)).date()
        report = await recent_report(storage, kb, old_day, days=1)
        assert (report.questions, report.outcomes["answered"]) == (1, 1)
        clock.advance(dt.timedelta(days=1))
        assert await purge.run()
    finally:
        await storage.close()
