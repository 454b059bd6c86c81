"""`python -m knowledge unmatched`: questions the bot could not place, grouped, from the bot's
database. Reads the events table directly (read-only), so editors need no running bot."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

from knowledge.library import VN_TZ
from knowledge.maintenance import UNMATCHED_EVENTS, group_questions


def unmatched_questions(db: Path, since: dt.datetime) -> list[str]:
    since_us = int((since - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) / dt.timedelta(microseconds=1))
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT data FROM events WHERE at_us >= ? AND kind IN ("
            + ", ".join("?" for _ in UNMATCHED_EVENTS)
            + ") ORDER BY at_us",
            (since_us, *UNMATCHED_EVENTS),
        ).fetchall()
    questions = []
    for (raw,) in rows:
        data = json.loads(raw)
        text = data.get("query") or data.get("reason")
        if text:
            questions.append(str(text))
    return questions


def print_unmatched(db: str | None, since: str | None, limit: int) -> int:
    path = Path(db or os.environ.get("BOT_DB") or "data/bot.sqlite3")
    if not path.exists():
        print(f"không tìm thấy cơ sở dữ liệu {path}")
        return 1
    start = (
        dt.datetime.combine(dt.date.fromisoformat(since), dt.time(), VN_TZ)
        if since
        else dt.datetime.now(VN_TZ) - dt.timedelta(days=30)
    )
    groups = group_questions(unmatched_questions(path, start))
    for group in groups[:limit]:
        examples = " | ".join(group.examples)
        print(f"{group.count}\t{group.representative}\t{examples}")
    if not groups:
        print("Không có câu hỏi nào chưa trả lời được.")
    return 0
