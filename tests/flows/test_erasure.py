"""/xoadulieu erases the citizen: no table holds their words or ids, nor do the raw files."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from flows.models import ConversationKey
from tests.flows.driver import Driver, texts, to_citizen

USER = "citizen-7788123"
MARK = "Quoxitrang"  # a word nobody else types


def every_value(db: Path) -> list[tuple[str, str]]:
    """(table, value) for every text or number cell of every table, whatever the schema."""
    found = []
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                found += [(table, str(v)) for v in row if v is not None]
    return found


def raw_files(db: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


async def citizen_history(bot: Driver) -> None:
    await bot.say(f"khai sinh cho con {MARK}", user=USER)
    await bot.say(f"{MARK} lam sao", user=USER)  # not understood: kept as an unmatched query
    await bot.say("/menu", user=USER)
    await bot.press("☎️ Liên hệ & phản ánh", user=USER)
    await bot.press("Phản ánh, kiến nghị về thủ tục hành chính", user=USER)
    await bot.press("Phản ánh, kiến nghị", user=USER)
    await bot.say(f"Đường thôn {MARK} hỏng nặng, xin sửa giúp", user=USER)
    await bot.press("Đồng ý", user=USER)
    await bot.say(f"Nguyễn {MARK}", user=USER)
    await bot.say("0912345678", user=USER)
    await bot.say("gặp cán bộ", user=USER)
    await bot.staff(user=USER, action="claim")
    await bot.staff(user=USER, text=f"Chào anh {MARK}, tôi xem giúp")
    await bot.say(f"cảm ơn, {MARK} đây", user=USER)
    await bot.staff(user=USER, action="close")


async def test_nothing_of_the_citizen_is_left_in_any_table_or_file(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    async with Driver(db) as bot:
        await citizen_history(bot)
        await bot.say("khai sinh", user="other")
        assert any(MARK in v for _, v in every_value(db))
        await bot.say("/xoadulieu", user=USER)
        out = to_citizen(await bot.press("Có, xóa dữ liệu", user=USER), USER)
        assert "Đã xóa dữ liệu" in texts(out)
        key = ConversationKey(channel="sim", user_id=USER)
        assert await bot.storage.conversations.by_key(key) is None
        # the counts reports need are still there
        kinds = [e.kind for _, e in await bot.storage.events.between()]
        assert kinds.count("question") >= 3 and "feedback" in kinds
        assert len(await bot.storage.feedback.items()) == 1

    left = [(t, v) for t, v in every_value(db) if MARK in v or USER in v or "0912345678" in v]
    assert left == []
    raw = raw_files(db)
    for secret in (MARK, USER, "0912345678"):
        assert secret.encode() not in raw, secret
        assert secret.encode("utf-16-le") not in raw, secret
    # the other citizen is untouched
    assert any(v == "other" for _, v in every_value(db))


async def test_the_database_is_private_to_the_bot(tmp_path: Path) -> None:
    db = tmp_path / "new" / "dir" / "bot.sqlite3"
    async with Driver(db) as bot:
        await bot.say("khai sinh")
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700
    for suffix in ("-wal", "-shm"):
        extra = Path(f"{db}{suffix}")
        if extra.exists():
            assert stat.S_IMODE(extra.stat().st_mode) & 0o077 == 0
