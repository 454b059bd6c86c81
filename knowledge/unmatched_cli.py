"""`python -m knowledge unmatched`: questions the bot could not place, grouped, from the bot's
database (a SQLite file or a postgresql:// URL), read through the storage's report queries so
editors need no running bot."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path

from knowledge.library import VN_TZ
from knowledge.maintenance import UNMATCHED_EVENTS, group_questions


async def unmatched_questions(
    db: str | Path, since: dt.datetime, commune: str | None = None
) -> list[str]:
    """`commune`: None for the single-commune setup."""
    from bot.storage import open_database  # the CLI reads the bot's own database
    from flows.models import DEFAULT_COMMUNE

    database = open_database(db)
    await database.open()
    try:
        events = await database.for_commune(commune or DEFAULT_COMMUNE).reports.events_of_kinds(
            UNMATCHED_EVENTS, since
        )
    finally:
        await database.close()
    questions = []
    for _, event in events:
        text = event.data.get("query") or event.data.get("reason")
        if text:
            questions.append(str(text))
    return questions


def print_unmatched(db: str | None, since: str | None, limit: int) -> int:
    target = db or os.environ.get("BOT_DB") or "data/bot.sqlite3"
    if "://" not in target and not Path(target.removeprefix("sqlite:")).exists():
        print(f"không tìm thấy cơ sở dữ liệu {target}")
        return 1
    start = (
        dt.datetime.combine(dt.date.fromisoformat(since), dt.time(), VN_TZ)
        if since
        else dt.datetime.now(VN_TZ) - dt.timedelta(days=30)
    )
    groups = group_questions(asyncio.run(unmatched_questions(target, start)))
    for group in groups[:limit]:
        examples = " | ".join(group.examples)
        print(f"{group.count}\t{group.representative}\t{examples}")
    if not groups:
        print("Không có câu hỏi nào chưa trả lời được.")
    return 0
