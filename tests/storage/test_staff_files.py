"""Contract tests for the files staff send from the web inbox, on memory, SQLite and PostgreSQL."""

import datetime as dt

from bot.storage import Database
from bot.storage.files import staff_files
from flows.models import ConversationKey
from flows.ports import VN_TZ

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4


async def conversation(database: Database, commune: str, user: str) -> int:
    storage = database.for_commune(commune)
    found = await storage.conversations.get_or_create(
        ConversationKey(channel="web", user_id=user), T0
    )
    return found.id


async def test_a_stored_file_comes_back_byte_for_byte(database: Database) -> None:
    files = staff_files(database.for_commune("default"))
    cid = await conversation(database, "default", "u1")
    file_id = await files.put(cid, "tờ khai.pdf", "application/pdf", PDF, T0)
    assert file_id is not None
    found = await files.get(file_id)
    assert found is not None
    assert (found.conversation_id, found.name, found.mime, found.data) == (
        cid, "tờ khai.pdf", "application/pdf", PDF
    )  # fmt: skip
    assert await files.get(file_id + 1000) is None


async def test_erasing_the_conversation_erases_its_files(database: Database) -> None:
    storage = database.for_commune("default")
    files = staff_files(storage)
    cid = await conversation(database, "default", "u1")
    file_id = await files.put(cid, "don.pdf", "application/pdf", PDF, T0)
    assert file_id is not None
    await storage.conversations.delete(cid)
    assert await files.get(file_id) is None
    assert await files.put(cid, "muon.pdf", "application/pdf", PDF, T0) is None


async def test_another_commune_never_reads_a_file(database: Database) -> None:
    ours = staff_files(database.for_commune("xa-a"))
    theirs = staff_files(database.for_commune("xa-b"))
    cid = await conversation(database, "xa-a", "u1")
    file_id = await ours.put(cid, "don.pdf", "application/pdf", PDF, T0)
    assert file_id is not None
    assert await theirs.get(file_id) is None
    assert await theirs.put(cid, "x.pdf", "application/pdf", PDF, T0) is None
