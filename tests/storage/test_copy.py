"""`python -m bot migrate`: a commune's data copied from SQLite to PostgreSQL, read back."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from bot.storage import open_database
from bot.storage.files import staff_files
from bot.storage.webchat import NewLine, web_chat_log
from flows.models import ConversationKey, Reply
from flows.ports import VN_TZ, ConversationState, Event, Handoff, Outgoing, TranscriptLine, Turn
from tests.storage.conftest import fresh_postgres_database

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=VN_TZ)
LEASE = dt.timedelta(seconds=30)
ALICE = ConversationKey(channel="telegram", user_id="1001")


async def test_a_commune_is_copied_with_its_ids(tmp_path: Path, postgres_url: str) -> None:
    path = tmp_path / "bot.db"
    source = open_database(path)
    await source.open()
    store = source.for_commune("default")
    other = source.for_commune("xa-khac")
    await other.conversations.get_or_create(ALICE, T0)  # another commune's: not copied
    conv = await store.conversations.get_or_create(ALICE, T0, "An")
    hid = await store.handoffs.reserve_id()
    handoff = Handoff(id=hid, conversation_id=conv.id, status="waiting", created_at=T0)
    await store.commit(
        Turn(
            conversation_id=conv.id,
            state=ConversationState(mode="waiting"),
            seen_at=T0,
            transcript=[TranscriptLine(direction="in", text="gặp cán bộ", at=T0)],
            events=[Event(kind="handoff", at=T0, data={"open": True})],
            handoffs=[handoff],
            outgoing=[Outgoing(key=ALICE, reply=Reply(text="chờ"), conversation_id=conv.id)],
        )
    )
    item = await store.feedback.add(conv.id, "đường hỏng", T0)
    rating = await store.ratings.add(conv.id, "khai-sinh", True, T0)
    await store.kv.set("zalo.tokens", "T", T0)
    await store.desk_links.set_topic(conv.id, -100, 7, T0)
    await web_chat_log(store).append("w1", conv.id, [NewLine("me", "khai sinh", "c1")], T0)
    file_id = await staff_files(store).put(conv.id, "đơn.pdf", "application/pdf", b"%PDF-1", T0)
    assert file_id is not None
    await source.close()

    url = await fresh_postgres_database(postgres_url)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--from", f"sqlite:{path}", "--to", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "conversations    1" in done.stdout

    target = open_database(url)
    await target.open()
    try:
        pg = target.for_commune("default")
        found = await pg.conversations.by_key(ALICE)
        assert found is not None and (found.id, found.display_name) == (conv.id, "An")
        assert found.state.mode == "waiting" and found.last_seen_at == T0
        assert [line.text for line in await pg.conversations.transcript(conv.id, 5)] == [
            "gặp cán bộ"
        ]
        assert await pg.handoffs.queue() == [handoff]
        assert await pg.feedback.items() == [item]
        assert await pg.ratings.all() == [rating]
        assert await pg.kv.get("zalo.tokens") == "T"
        assert await pg.desk_links.topic(conv.id) == (-100, 7)
        assert [x.text for x in await web_chat_log(pg).after("w1", 0)] == ["khai sinh"]
        copied = await staff_files(pg).get(file_id)
        assert copied is not None and (copied.name, copied.data) == ("đơn.pdf", b"%PDF-1")
        assert [o.outgoing.reply for o in await pg.outbox.claim(T0, LEASE)] == [Reply(text="chờ")]
        assert [e.kind for _, e in await pg.events.between()] == ["handoff"]
        assert await target.for_commune("xa-khac").conversations.by_key(ALICE) is None
        # sequences were advanced: new rows never collide with copied ids
        assert await pg.handoffs.reserve_id() > hid
        bob = await pg.conversations.get_or_create(ALICE.model_copy(update={"user_id": "2"}), T0)
        assert bob.id > conv.id
        assert (await pg.feedback.add(None, "x", T0)).ref == "PA-2026-000002"
    finally:
        await target.close()
