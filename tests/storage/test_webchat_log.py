"""Contract tests for the web chat's line log, on memory, SQLite and PostgreSQL."""

import datetime as dt

from bot.storage import Database
from bot.storage.webchat import NewLine, web_chat_log
from flows.models import Button, ConversationKey
from flows.ports import VN_TZ

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)


def line(text: str, ref: str, sender: str = "bot", **extra) -> NewLine:
    return NewLine(sender=sender, text=text, ref=ref, **extra)


async def conversation(database: Database, commune: str, user: str) -> int:
    storage = database.for_commune(commune)
    found = await storage.conversations.get_or_create(
        ConversationKey(channel="web", user_id=user), T0
    )
    return found.id


async def test_lines_come_back_in_order_after_a_sequence_number(database: Database) -> None:
    log = web_chat_log(database.for_commune("default"))
    cid = await conversation(database, "default", "u1")
    await log.append("u1", cid, [line("khai sinh", "c1", "me", client_id="c1")], T0)
    buttons = (Button(label="Giấy tờ", data="g:1"),)
    await log.append(
        "u1", cid, [line("Phần 1", "o1:0", buttons=buttons), line("Phần 2", "o1:1")], T0
    )
    lines = await log.after("u1", 0)
    assert [(x.sender, x.text) for x in lines] == [
        ("me", "khai sinh"), ("bot", "Phần 1"), ("bot", "Phần 2")
    ]  # fmt: skip
    assert lines[0].client_id == "c1"
    assert lines[1].buttons == buttons
    assert [x.text for x in await log.after("u1", lines[0].seq)] == ["Phần 1", "Phần 2"]
    assert await log.after("u1", lines[-1].seq) == []
    assert [x.text for x in await log.after("u1", 0, limit=1)] == ["Phần 2"]


async def test_a_retry_stores_nothing_twice(database: Database) -> None:
    log = web_chat_log(database.for_commune("default"))
    cid = await conversation(database, "default", "u1")
    for _ in range(2):
        await log.append("u1", cid, [line("khai sinh", "c1", "me"), line("Trả lời", "o1:0")], T0)
    assert [x.text for x in await log.after("u1", 0)] == ["khai sinh", "Trả lời"]


async def test_erasing_the_conversation_erases_its_lines(database: Database) -> None:
    storage = database.for_commune("default")
    log = web_chat_log(storage)
    cid = await conversation(database, "default", "u1")
    await log.append("u1", cid, [line("khai sinh", "c1", "me")], T0)
    await storage.conversations.delete(cid)
    await log.append("u1", None, [line("Đã xoá dữ liệu", "erased")], T0)
    assert [x.text for x in await log.after("u1", 0)] == ["Đã xoá dữ liệu"]


async def test_lines_without_a_conversation_last_a_day(database: Database) -> None:
    log = web_chat_log(database.for_commune("default"))
    await log.append("u1", None, [line("Đã xoá dữ liệu", "erased")], T0)
    await log.append("u2", None, [line("Đã xoá dữ liệu", "erased")], T0 + dt.timedelta(days=2))
    if type(log).__name__ != "MemoryWebChatLog":  # memory runs are short-lived: no pruning
        assert await log.after("u1", 0) == []
    assert [x.text for x in await log.after("u2", 0)] == ["Đã xoá dữ liệu"]


async def test_communes_never_see_each_others_lines(database: Database) -> None:
    a = web_chat_log(database.for_commune("phuong-a"))
    b = web_chat_log(database.for_commune("xa-b"))
    ca = await conversation(database, "phuong-a", "same-user")
    cb = await conversation(database, "xa-b", "same-user")
    await a.append("same-user", ca, [line("ở A", "r1")], T0)
    await b.append("same-user", cb, [line("ở B", "r1")], T0)  # same ref: another commune's row
    assert [x.text for x in await a.after("same-user", 0)] == ["ở A"]
    assert [x.text for x in await b.after("same-user", 0)] == ["ở B"]
