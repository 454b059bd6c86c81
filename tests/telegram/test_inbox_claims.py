"""A Telegram update whose processing outlived its inbox lease is answered once.

The inbox processor claims again every round; a claim made after an update's lease ran out
returns that update while it is still being processed. PostgreSQL answers that claim and the
update's own commit on two connections, so the claim's rows can arrive after the update ended
(seen in the PostgreSQL soak: the same question answered twice). Here the claim is held until
the update has ended, which is that ordering made certain.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.channels.telegram.channel import INBOX_LEASE, MAX_UPDATE_ATTEMPTS
from bot.channels.telegram.convert import CHANNEL
from flows.models import ConversationKey
from flows.ports import InboxItem, InboxRepo
from tests.telegram.conftest import CITIZEN, TelegramRig


class HeldClaims(InboxRepo):
    """The rig's real inbox; once `hold` is set, the next claim that reads something returns
    only when `release` is set (its rows read before that, as a slow answer would be)."""

    def __init__(self, inner: InboxRepo) -> None:
        self.inner = inner
        self.hold = False
        self.read = asyncio.Event()
        self.release = asyncio.Event()

    async def receive(self, channel: str, event_key: str, payload: str, now: dt.datetime) -> bool:
        return await self.inner.receive(channel, event_key, payload, now)

    async def claim(
        self, channel: str, now: dt.datetime, lease: dt.timedelta, limit: int = 100
    ) -> list[InboxItem]:
        items = await self.inner.claim(channel, now, lease, limit)
        if self.hold and items:
            self.hold = False
            self.read.set()
            await self.release.wait()
        return items

    async def renew(
        self, items: Sequence[InboxItem], now: dt.datetime, lease: dt.timedelta
    ) -> list[InboxItem]:
        return await self.inner.renew(items, now, lease)

    async def failed(self, item: InboxItem, now: dt.datetime, retry_after: dt.timedelta) -> None:
        await self.inner.failed(item, now, retry_after)

    async def done(self, item_id: int, now: dt.datetime) -> None:
        await self.inner.done(item_id, now)

    async def pending(self, channel: str | None = None) -> int:
        return await self.inner.pending(channel)

    async def release_claims(self) -> None:
        await self.inner.release_claims()


async def test_an_update_that_ends_while_a_claim_reads_it_is_not_answered_again(
    rig: TelegramRig,
) -> None:
    inbox = HeldClaims(rig.storage.inbox)
    rig.storage.inbox = inbox
    entered, go_on = asyncio.Event(), asyncio.Event()
    commit = rig.storage.commit

    async def slow_commit(turn: Any) -> None:
        entered.set()
        await go_on.wait()
        await commit(turn)

    rig.storage.commit = slow_commit  # type: ignore[method-assign]

    rig.api.push_private_text(CITIZEN, "khai sinh")
    await asyncio.wait_for(entered.wait(), 30)  # the turn is being committed...
    rig.clock.advance(INBOX_LEASE + dt.timedelta(seconds=1))  # ...past its lease
    inbox.hold = True
    await asyncio.wait_for(inbox.read.wait(), 30)  # a claim has read it again
    go_on.set()
    await asyncio.wait_for(rig.channel.drain(), 30)  # the update is answered and ended
    inbox.release.set()  # only now does that claim answer
    await rig.settle()

    sent = await rig.citizen_texts()
    answers = [text for text in sent if "Đăng ký khai sinh" in text]
    assert len(answers) == 1, sent  # the guide once (it may come in several parts)
    conversation = await rig.storage.conversations.by_key(
        ConversationKey(channel="telegram", user_id=str(CITIZEN))
    )
    assert conversation is not None
    heard = [
        x
        for x in await rig.storage.conversations.transcript(conversation.id, 50)
        if x.direction == "in"
    ]
    assert [x.text for x in heard] == ["khai sinh"]  # one turn, not two


class DeadClaims(HeldClaims):
    """While `dead` is set, this process takes nothing from the inbox (it stores what it
    polls): the other processes, which die while holding their claims, are the test's."""

    def __init__(self, inner: InboxRepo) -> None:
        super().__init__(inner)
        self.dead = True

    async def claim(
        self, channel: str, now: dt.datetime, lease: dt.timedelta, limit: int = 100
    ) -> list[InboxItem]:
        return [] if self.dead else await super().claim(channel, now, lease, limit)


async def test_an_update_whose_processes_all_died_is_skipped_and_the_next_one_answered(
    rig: TelegramRig,
) -> None:
    """A message whose handling killed each process that took it (MAX_UPDATE_ATTEMPTS times):
    it is not handled again, and the citizen's next message is answered."""
    inbox = DeadClaims(rig.storage.inbox)
    rig.storage.inbox = inbox
    rig.api.push_private_text(CITIZEN, "kết hôn")
    rig.api.push_private_text(CITIZEN, "khai sinh")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while await inbox.inner.pending(CHANNEL) < 2 and loop.time() < deadline:
        await asyncio.sleep(0.01)
    for _ in range(MAX_UPDATE_ATTEMPTS):  # a process takes both, dies on the first
        assert len(await inbox.inner.claim(CHANNEL, rig.clock.now(), INBOX_LEASE)) == 2
        rig.clock.advance(INBOX_LEASE + dt.timedelta(seconds=1))
    inbox.dead = False
    await rig.settle()

    sent = await rig.citizen_texts()
    assert any("Đăng ký khai sinh" in text for text in sent), sent
    # the skipped message is not silently dropped: the citizen is told, once
    assert sum("chưa xử lý được tin nhắn vừa rồi" in text for text in sent) == 1, sent
    conversation = await rig.storage.conversations.by_key(
        ConversationKey(channel="telegram", user_id=str(CITIZEN))
    )
    assert conversation is not None
    heard = [
        x
        for x in await rig.storage.conversations.transcript(conversation.id, 50)
        if x.direction == "in"
    ]
    assert [x.text for x in heard] == ["khai sinh"]  # the first one was not handled again
    assert await inbox.inner.pending(CHANNEL) == 0
