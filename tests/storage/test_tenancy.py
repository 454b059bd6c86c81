"""Several communes in one database: each Storage sees and changes only its own rows."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.storage import Database, SqliteStorage, open_database
from bot.storage.migrations import MIGRATIONS
from flows.models import ConversationKey, Reply
from flows.ports import VN_TZ, ConversationState, Event, Outgoing, TranscriptLine, Turn

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=VN_TZ)
LEASE = dt.timedelta(seconds=30)
# the same platform user id in two communes (two Telegram bots): two different citizens
USER = ConversationKey(channel="telegram", user_id="1001")


async def test_two_communes_share_nothing(database: Database) -> None:
    a, b = database.for_commune("xa-a"), database.for_commune("xa-b")
    ca = await a.conversations.get_or_create(USER, T0, "An")
    cb = await b.conversations.get_or_create(USER, T0, "Bình")
    assert ca.id != cb.id
    assert (ca.key.commune, cb.key.commune) == ("xa-a", "xa-b")
    assert await a.conversations.find(cb.id) is None
    assert await b.conversations.by_key(USER) == cb

    line = TranscriptLine(direction="in", text="khai sinh", at=T0)
    await a.commit(
        Turn(
            conversation_id=ca.id,
            state=ConversationState(flow="x"),
            seen_at=T0,
            transcript=[line],
            events=[Event(kind="question", at=T0, data={"text": "khai sinh"})],
            outgoing=[Outgoing(key=ca.key, reply=Reply(text="chào"), conversation_id=ca.id)],
        )
    )
    with pytest.raises(LookupError):  # a turn of one commune cannot touch another's rows
        await b.commit(Turn(conversation_id=ca.id, state=ConversationState(), seen_at=T0))
    assert await b.conversations.transcript(ca.id, 10) == []
    assert await b.events.between() == []
    assert await b.outbox.pending() == 0 and await b.outbox.claim(T0, LEASE) == []
    assert [o.outgoing.reply for o in await a.outbox.claim(T0, LEASE)] == [Reply(text="chào")]

    ha = await a.handoffs.open(ca.id, T0, None, "")
    assert await b.handoffs.queue() == [] and await b.handoffs.current(ca.id) is None
    assert await b.reports.handoffs_created(T0, T0 + LEASE) == []
    assert [h.id for h in await a.reports.handoffs_created(T0, T0 + LEASE)] == [ha.id]
    assert await b.reports.citizens() == {cb.id: cb.key}

    fa = await a.feedback.add(ca.id, "đường hỏng", T0)
    fb = await b.feedback.add(cb.id, "đèn hỏng", T0)
    assert fa.ref == fb.ref  # reference codes are numbered per commune
    assert [f.content for f in await b.feedback.items()] == ["đèn hỏng"]
    assert (await b.feedback.set_status(fa.ref, "answered")).id == fb.id  # type: ignore[union-attr]
    assert [f.status for f in await a.feedback.items()] == ["new"]
    await a.ratings.add(ca.id, None, True, T0)
    assert await b.ratings.all() == []

    assert await a.dedup.first_seen("telegram", "1001/5", T0)
    assert await b.dedup.first_seen("telegram", "1001/5", T0)
    assert await a.inbox.receive("telegram", "u1", "{}", T0)
    assert await b.inbox.receive("telegram", "u1", "{}", T0)
    assert await a.inbox.pending() == 1
    [item] = await a.inbox.claim("telegram", T0, LEASE)
    await b.inbox.done(item.id, T0)  # not b's: nothing happens
    assert await a.inbox.pending() == 1

    await a.kv.set("zalo.tokens", "A", T0)
    assert await b.kv.get("zalo.tokens") is None and await a.kv.get("zalo.tokens") == "A"
    await a.desk_links.set_topic(ca.id, -100, 7, T0)
    assert await b.desk_links.conversation_for_thread(-100, 7) is None

    await b.conversations.delete(ca.id)  # erasing in b cannot erase a's citizen
    assert await a.conversations.find(ca.id) is not None
    assert await b.conversations.purge_older_than(T0 + dt.timedelta(days=1)) == 1
    assert await a.conversations.find(ca.id) is not None
    assert await b.conversations.find(cb.id) is None


async def test_leases_give_one_holder_at_a_time(database: Database) -> None:
    a, b = database.for_commune("xa-a"), database.for_commune("xa-b")
    ttl = dt.timedelta(seconds=60)
    assert await a.leases.acquire("telegram-poller:bot1", "p1", T0, ttl)
    assert not await b.leases.acquire("telegram-poller:bot1", "p2", T0, ttl)  # one per bot
    assert await a.leases.acquire("telegram-poller:bot1", "p1", T0, ttl)  # the holder renews
    assert await a.leases.renew("telegram-poller:bot1", "p1", T0 + ttl / 2, ttl)
    assert not await a.leases.renew("telegram-poller:bot1", "p2", T0, ttl)
    later = T0 + ttl * 2  # p1 died and did not renew: p2 takes over
    assert await b.leases.acquire("telegram-poller:bot1", "p2", later, ttl)
    assert not await a.leases.renew("telegram-poller:bot1", "p1", later, ttl)
    await a.leases.release("telegram-poller:bot1", "p1")  # not p1's any more: kept
    assert not await a.leases.acquire("telegram-poller:bot1", "p1", later, ttl)
    await b.leases.release("telegram-poller:bot1", "p2")
    assert await a.leases.acquire("telegram-poller:bot1", "p1", later, ttl)


async def test_open_database_picks_the_backend(tmp_path: Path) -> None:
    for url in (tmp_path / "a.db", str(tmp_path / "b.db"), f"sqlite:{tmp_path / 'c.db'}"):
        db = open_database(url)
        await db.open()
        store = db.for_commune("default")
        assert isinstance(store, SqliteStorage)
        await db.close()
    assert (tmp_path / "c.db").exists()


async def test_rows_of_an_older_database_belong_to_the_default_commune(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = SqliteStorage(path, migrations=MIGRATIONS[:4])
    await old.open()
    await old.database.write_one(
        "INSERT INTO conversations (channel, user_id, state, created_at, last_seen_at)"
        " VALUES ('telegram', '1001', '{}', ?, ?)",
        (T0.isoformat(), T0.isoformat()),
    )
    await old.database.write_one(
        "INSERT INTO settings_kv (key, value, updated_at) VALUES ('zalo.tokens', 'T', '')"
    )
    await old.close()

    db = open_database(path)
    await db.open()
    found = await db.for_commune("default").conversations.by_key(USER)
    assert found is not None and found.key.commune == "default"
    assert await db.for_commune("default").kv.get("zalo.tokens") == "T"
    assert await db.for_commune("xa-a").conversations.by_key(USER) is None
    again = await db.for_commune("default").conversations.get_or_create(USER, T0)
    assert again.id == found.id
    fresh = await db.for_commune("xa-a").conversations.get_or_create(USER, T0)
    assert fresh.id > found.id
    await db.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
