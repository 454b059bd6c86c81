"""Contract tests for the console's account store, run on every implementation."""

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.storage import Database
from bot.storage.accounts import (
    Account,
    AccountExistsError,
    AccountStore,
    AuditEntry,
    StoredSession,
    account_store,
)
from flows.models import DEFAULT_COMMUNE, ConversationKey
from flows.ports import VN_TZ

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)


@pytest.fixture
async def store(database: Database) -> AsyncIterator[tuple[AccountStore, int]]:
    """The account store of each backend (conftest's `database`: memory, SQLite, PostgreSQL)
    and a conversation to write notes on."""
    storage = database.for_commune(DEFAULT_COMMUNE)
    conversation = await storage.conversations.get_or_create(
        ConversationKey(channel="web", user_id="1"), T0
    )
    yield account_store(storage), conversation.id


def account(name: str = "lan", **extra) -> Account:
    return Account(
        username=name,
        display_name="Chị Lan",
        password_hash="$argon2id$x",
        roles={"phuong-1": {"staff", "editor"}},
        created_at=T0,
        **extra,
    )


async def test_accounts_round_trip_and_names_are_unique(store):
    accounts, _ = store
    await accounts.add_account(account())
    await accounts.add_account(account("minh", province_admin=True))
    with pytest.raises(AccountExistsError):
        await accounts.add_account(account())
    found = await accounts.account("lan")
    assert found is not None
    assert found.roles == {"phuong-1": {"staff", "editor"}}
    assert not found.province_admin
    assert [a.username for a in await accounts.accounts()] == ["lan", "minh"]
    assert await accounts.account("nobody") is None


async def test_a_saved_account_keeps_its_changes(store):
    accounts, _ = store
    await accounts.add_account(account())
    changed = account()
    changed.roles = {"phuong-2": {"admin"}}
    changed.display_name = "Chị Lan (một cửa)"
    await accounts.save_account(changed)
    found = await accounts.account("lan")
    assert found is not None
    assert found.roles == {"phuong-2": {"admin"}}
    assert found.display_name == "Chị Lan (một cửa)"


async def test_sessions_expire_and_can_be_dropped(store):
    accounts, _ = store
    await accounts.add_account(account())
    session = StoredSession(
        token_hash="abc",
        username="lan",
        csrf="c",
        created_at=T0,
        expires_at=T0 + dt.timedelta(hours=1),
    )
    await accounts.add_session(session)
    assert await accounts.session("abc", T0) == session
    assert await accounts.session("abc", T0 + dt.timedelta(hours=1)) is None
    assert await accounts.session("other", T0) is None
    await accounts.drop_session("abc")
    assert await accounts.session("abc", T0) is None


async def test_deactivating_an_account_ends_its_sessions(store):
    accounts, _ = store
    await accounts.add_account(account())
    await accounts.add_session(
        StoredSession(
            token_hash="abc",
            username="lan",
            csrf="c",
            created_at=T0,
            expires_at=T0 + dt.timedelta(hours=1),
        )
    )
    gone = account()
    gone.active = False
    await accounts.save_account(gone)
    assert await accounts.session("abc", T0) is None


async def test_audit_is_newest_first_and_filters_by_commune(store):
    accounts, _ = store
    for minute, commune in [(0, "a"), (1, "b"), (2, "a")]:
        stored = await accounts.add_audit(
            AuditEntry(at=T0 + dt.timedelta(minutes=minute), username="lan", action="claim",
                       commune=commune, target=f"conversation:{minute}")
        )  # fmt: skip
        assert stored.id > 0
    assert [e.target for e in await accounts.audit()] == [
        "conversation:2", "conversation:1", "conversation:0"
    ]  # fmt: skip
    assert [e.target for e in await accounts.audit(commune="a")] == [
        "conversation:2", "conversation:0"
    ]  # fmt: skip
    assert len(await accounts.audit(limit=1)) == 1


async def test_notes_belong_to_their_conversation(store):
    accounts, cid = store
    note = await accounts.add_note(cid, "Chị Lan", "Đã gọi điện hẹn chiều mai", T0)
    assert [n.text for n in await accounts.notes(cid)] == ["Đã gọi điện hẹn chiều mai"]
    assert note.author == "Chị Lan"
    assert await accounts.notes(cid + 1000) == []


async def test_failed_logins_are_counted_per_user_and_address_within_the_window(store):
    accounts, _ = store
    for minute in range(3):
        await accounts.login_failed("lan", "10.0.0.1", T0 + dt.timedelta(minutes=minute))
    await accounts.login_failed("minh", "10.0.0.1", T0 + dt.timedelta(minutes=3))
    assert await accounts.login_failures("lan", "10.0.0.1", T0 - dt.timedelta(seconds=1)) == (3, 4)
    assert await accounts.login_failures("lan", "10.0.0.2", T0) == (2, 0)  # after 9:00 only
    await accounts.login_succeeded("lan")
    assert await accounts.login_failures("lan", "10.0.0.1", T0 - dt.timedelta(hours=1)) == (0, 1)


async def test_old_failed_logins_are_forgotten(store):
    accounts, _ = store
    await accounts.login_failed("lan", "10.0.0.1", T0)
    await accounts.login_failed("lan", "10.0.0.1", T0 + dt.timedelta(days=2))
    assert await accounts.login_failures("lan", "10.0.0.1", T0 - dt.timedelta(days=9)) == (1, 1)


async def test_a_conversation_erased_takes_its_notes_with_it(store, database):
    accounts, cid = store
    await accounts.add_note(cid, "Chị Lan", "Ghi chú", T0)
    await database.for_commune(DEFAULT_COMMUNE).conversations.delete(cid)
    assert await accounts.notes(cid) == []
