"""The durable inbox and outbox: part of the Storage contract, run on every implementation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.storage import SqliteStorage
from flows.models import ConversationKey, Reply, StaffNotice
from flows.ports import (
    VN_TZ,
    ConversationState,
    Event,
    Handoff,
    InboxEntryTaken,
    Outgoing,
    Storage,
    TranscriptLine,
    Turn,
)

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=VN_TZ)
LEASE = dt.timedelta(seconds=30)
ALICE = ConversationKey(channel="telegram", user_id="1001")
BOB = ConversationKey(channel="zalo", user_id="2002")


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def to(key: ConversationKey, text: str, conversation_id: int | None = None) -> Outgoing:
    return Outgoing(key=key, reply=Reply(text=text), conversation_id=conversation_id)


def desk(key: ConversationKey | None, text: str) -> Outgoing:
    return Outgoing(notice=StaffNotice(key=key, reply=Reply(text=text), at=T0))


class TestInbox:
    async def test_a_redelivered_update_is_stored_once(self, store: Storage) -> None:
        assert await store.inbox.receive("telegram", "u1", '{"a": 1}', T0)
        assert not await store.inbox.receive("telegram", "u1", '{"a": 1}', at(1))
        assert await store.inbox.receive("zalo", "u1", "{}", T0)  # keys are per channel
        assert await store.inbox.pending() == 2
        assert await store.inbox.pending("telegram") == 1

    async def test_claims_oldest_first_and_not_twice_while_leased(self, store: Storage) -> None:
        for n in range(3):
            await store.inbox.receive("telegram", f"u{n}", f"p{n}", T0)
        first = await store.inbox.claim("telegram", T0, LEASE, limit=2)
        assert [i.payload for i in first] == ["p0", "p1"]
        assert [i.attempts for i in first] == [0, 0]
        again = await store.inbox.claim("telegram", at(1), LEASE)
        assert [i.payload for i in again] == ["p2"]
        assert await store.inbox.claim("zalo", at(1), LEASE) == []
        # the claimer died: after the lease the updates are taken again
        expired = await store.inbox.claim("telegram", at(30.5), LEASE)
        assert [i.payload for i in expired] == ["p0", "p1"]
        # the claims that ran out count (their holder died or stalled), the first ones did not
        assert [i.attempts for i in expired] == [1, 1]

    async def test_a_renewed_claim_is_not_taken_over(self, store: Storage) -> None:
        """A turn (or a group of turns) longer than the lease: its worker renews the claim,
        so no other worker or process takes the update while it is being answered."""
        await store.inbox.receive("zalo", "u1", "{}", T0)
        [item] = await store.inbox.claim("zalo", T0, LEASE)
        [item] = await store.inbox.renew([item], at(20), LEASE)
        [item] = await store.inbox.renew([item], at(40), LEASE)
        assert await store.inbox.claim("zalo", at(60), LEASE) == []  # first lease long over
        assert len(await store.inbox.claim("zalo", at(70.5), LEASE)) == 1  # renewals stopped

    async def test_a_claim_taken_over_or_finished_cannot_be_renewed(self, store: Storage) -> None:
        await store.inbox.receive("zalo", "u1", "{}", T0)
        await store.inbox.receive("zalo", "u2", "{}", T0)
        stalled, finished = await store.inbox.claim("zalo", T0, LEASE)
        [other] = await store.inbox.claim("zalo", at(31), LEASE, limit=1)  # the lease ran out
        assert other.id == stalled.id
        await store.inbox.done(finished.id, at(31))
        assert await store.inbox.renew([stalled, finished], at(32), LEASE) == []
        # the worker that took it over keeps it
        assert [i.id for i in await store.inbox.renew([other], at(32), LEASE)] == [other.id]
        assert await store.inbox.claim("zalo", at(61.5), LEASE) == []

    async def test_failures_and_claims_that_ran_out_count_renewals_do_not(
        self, store: Storage
    ) -> None:
        """An update whose handling kills its process never fails: its claims run out. Each
        one taken over counts, so such an update reaches the give-up limit instead of being
        handled (and killing the process) forever; a slow turn whose claim is renewed does
        not count."""
        await store.inbox.receive("zalo", "u1", "{}", T0)
        [item] = await store.inbox.claim("zalo", T0, LEASE)
        assert item.attempts == 0  # a first claim
        await store.inbox.failed(item, at(1), dt.timedelta(seconds=10))
        assert await store.inbox.claim("zalo", at(10), LEASE) == []  # not before the retry
        [again] = await store.inbox.claim("zalo", at(11), LEASE)
        assert again.attempts == 1  # the failure
        for n in (20, 40, 60):  # renewed for more than a minute: a slow turn
            [again] = await store.inbox.renew([again], at(n), LEASE)
        assert await store.inbox.claim("zalo", at(89), LEASE) == []
        for n in range(3):  # then its holders die, one after the other
            [again] = await store.inbox.claim("zalo", at(90.5 + 31 * n), LEASE)
        assert again.attempts == 4  # the failure and three claims that ran out
        # a failure reported under a claim that was taken over is not counted
        await store.inbox.failed(item, at(160), dt.timedelta(seconds=10))
        assert await store.inbox.claim("zalo", at(160), LEASE) == []  # still held
        [again] = await store.inbox.claim("zalo", at(183), LEASE)
        assert again.attempts == 5

    async def test_a_turn_of_an_update_answered_elsewhere_commits_nothing(
        self, store: Storage
    ) -> None:
        """Two workers hold the same update (one stalled past its lease): the first turn to
        commit answers it, the other's turn fails whole, so the citizen is answered once."""
        conv = await store.conversations.get_or_create(ALICE, T0)
        await store.inbox.receive("telegram", "u1", "{}", T0)
        [slow] = await store.inbox.claim("telegram", T0, LEASE)
        [fast] = await store.inbox.claim("telegram", at(31), LEASE)

        def turn(text: str, receipt: int) -> Turn:
            return Turn(
                conversation_id=conv.id,
                state=ConversationState(),
                seen_at=at(32),
                transcript=[TranscriptLine(direction="out", text=text, at=at(32))],
                outgoing=[to(ALICE, text, conv.id)],
                receipt=receipt,
            )

        await store.commit(turn("một lần", fast.id))
        with pytest.raises(InboxEntryTaken):
            await store.commit(turn("hai lần", slow.id))
        with pytest.raises(InboxEntryTaken):
            await store.outbox.enqueue([to(ALICE, "ba lần")], at(33), receipt=slow.id)
        sent = await store.outbox.claim(at(33), LEASE)
        assert [i.outgoing.reply.text for i in sent if i.outgoing.reply] == ["một lần"]
        assert [line.text for line in await store.conversations.transcript(conv.id, 10)] == [
            "một lần"
        ]
        await store.inbox.done(slow.id, at(34))  # marking it done again is harmless

    async def test_the_daily_purge_keeps_the_keys_of_recent_updates(self, store: Storage) -> None:
        """A processed update may still come again (Telegram re-delivers everything after the
        last confirmed offset when a process dies before the next getUpdates): the retention
        purge must not forget its key, or the update is stored and answered a second time.
        Seen in the PostgreSQL soak: the purge of a restarted process ran between the turns
        of its predecessor and the redelivery, and 18 questions were answered twice."""
        await store.inbox.receive("telegram", "u1", "{}", T0)
        [item] = await store.inbox.claim("telegram", T0, LEASE)
        await store.inbox.done(item.id, T0)
        await store.conversations.purge_older_than(T0 - dt.timedelta(days=365))
        assert not await store.inbox.receive("telegram", "u1", "{}", at(40))
        assert await store.inbox.pending() == 0
        assert await store.inbox.claim("telegram", at(60), LEASE) == []

    async def test_done_updates_are_not_claimed_and_keep_their_key(self, store: Storage) -> None:
        await store.inbox.receive("telegram", "u1", "secret text", T0)
        [item] = await store.inbox.claim("telegram", T0, LEASE)
        await store.inbox.done(item.id, T0)
        assert await store.inbox.claim("telegram", at(60), LEASE) == []
        assert not await store.inbox.receive("telegram", "u1", "secret text", at(2))
        assert await store.inbox.pending() == 0

    async def test_a_turn_marks_its_update_done_in_its_commit(self, store: Storage) -> None:
        conv = await store.conversations.get_or_create(ALICE, T0)
        await store.inbox.receive("telegram", "u1", "{}", T0)
        [item] = await store.inbox.claim("telegram", T0, LEASE)
        await store.commit(
            Turn(conversation_id=conv.id, state=ConversationState(), seen_at=T0, receipt=item.id)
        )
        assert await store.inbox.pending() == 0

    async def test_release_makes_claimed_updates_available(self, store: Storage) -> None:
        """Released at the start of the only process: a claim released was held by the
        process that died (it counts, as a claim taken over would); an unclaimed update
        does not."""
        await store.inbox.receive("telegram", "u1", "{}", T0)
        await store.inbox.claim("telegram", T0, LEASE)
        await store.inbox.receive("telegram", "u2", "{}", T0)
        await store.inbox.release_claims()
        await store.outbox.release_claims()
        items = await store.inbox.claim("telegram", at(1), LEASE)
        assert [(i.event_key, i.attempts) for i in items] == [("u1", 1), ("u2", 0)]


class TestOutbox:
    async def test_a_turn_queues_its_messages_with_its_state(self, store: Storage) -> None:
        conv = await store.conversations.get_or_create(ALICE, T0)
        state = ConversationState(mode="waiting")
        await store.commit(
            Turn(
                conversation_id=conv.id,
                state=state,
                seen_at=T0,
                outgoing=[to(ALICE, "một"), desk(ALICE, "cán bộ")],
            )
        )
        assert await store.outbox.pending() == 2
        claimed = await store.outbox.claim(T0, LEASE)
        assert [i.outgoing.reply.text for i in claimed if i.outgoing.reply] == ["một"]
        assert [i.outgoing.notice.reply.text for i in claimed if i.outgoing.notice] == ["cán bộ"]

    async def test_a_failing_turn_queues_nothing(self, store: Storage) -> None:
        bad = Turn(conversation_id=999, state=ConversationState(), seen_at=T0, outgoing=[
            to(ALICE, "never")
        ])  # fmt: skip
        with pytest.raises(LookupError):
            await store.commit(bad)
        assert await store.outbox.pending() == 0

    async def test_one_queue_is_delivered_in_order(self, store: Storage) -> None:
        await store.outbox.enqueue([to(ALICE, "1"), to(ALICE, "2"), to(BOB, "b1")], T0)
        claimed = await store.outbox.claim(T0, LEASE)
        assert sorted(i.outgoing.reply.text for i in claimed if i.outgoing.reply) == ["1", "b1"]
        assert await store.outbox.claim(at(1), LEASE) == []  # both heads are claimed
        first = next(i for i in claimed if i.outgoing.reply and i.outgoing.reply.text == "1")
        await store.outbox.sent(first.id)
        [second] = await store.outbox.claim(at(2), LEASE)
        assert second.outgoing.reply is not None and second.outgoing.reply.text == "2"

    async def test_a_retried_message_waits_and_holds_back_its_queue(self, store: Storage) -> None:
        await store.outbox.enqueue([to(ALICE, "1"), to(ALICE, "2")], T0)
        [head] = await store.outbox.claim(T0, LEASE)
        await store.outbox.retry(head.id, at(10), "network", progress=1)
        assert await store.outbox.claim(at(5), LEASE) == []
        [again] = await store.outbox.claim(at(10), LEASE)
        assert (again.id, again.attempts, again.progress) == (head.id, 1, 1)

    async def test_an_expired_claim_is_taken_again(self, store: Storage) -> None:
        await store.outbox.enqueue([desk(None, "note")], T0)
        [item] = await store.outbox.claim(T0, LEASE)
        assert await store.outbox.claim(at(29), LEASE) == []
        [again] = await store.outbox.claim(at(31), LEASE)
        assert again.id == item.id
        await store.inbox.release_claims()
        await store.outbox.release_claims()
        assert len(await store.outbox.claim(at(31), LEASE)) == 1

    async def test_a_failed_message_is_reported_in_the_same_step(self, store: Storage) -> None:
        conv = await store.conversations.get_or_create(ALICE, T0)
        await store.outbox.enqueue([to(ALICE, "1", conv.id)], T0)
        [item] = await store.outbox.claim(T0, LEASE)
        event = Event(kind="unreachable", at=at(1), data={"reason": "blocked"})
        await store.outbox.failed(item.id, at(1), [desk(ALICE, "không gửi được")], event)
        [report] = await store.outbox.claim(at(1), LEASE)
        assert report.outgoing.notice is not None
        assert [(cid, e.kind) for cid, e in await store.events.between()] == [
            (conv.id, "unreachable")
        ]

    async def test_a_turn_creates_its_handoff_under_a_reserved_id(self, store: Storage) -> None:
        conv = await store.conversations.get_or_create(ALICE, T0)
        hid = await store.handoffs.reserve_id()
        assert await store.handoffs.reserve_id() != hid
        handoff = Handoff(id=hid, conversation_id=conv.id, status="waiting", created_at=T0)
        await store.commit(
            Turn(conversation_id=conv.id, state=ConversationState(mode="waiting"), seen_at=T0,
                 handoffs=[handoff])
        )  # fmt: skip
        assert await store.handoffs.current(conv.id) == handoff
        opened = await store.handoffs.open(conv.id, at(1), None, "")
        assert opened.id == hid  # already open: the same one
        closed = handoff.model_copy(update={"status": "closed", "ended_at": at(2)})
        await store.commit(
            Turn(conversation_id=conv.id, state=ConversationState(), seen_at=at(2),
                 handoffs=[closed])
        )  # fmt: skip
        assert await store.handoffs.current(conv.id) is None
        fresh = await store.handoffs.open(conv.id, at(3), None, "")
        assert fresh.id not in (hid,)

    async def test_a_second_open_handoff_fails_the_whole_turn(self, store: Storage) -> None:
        conv = await store.conversations.get_or_create(ALICE, T0)
        first = await store.handoffs.open(conv.id, T0, None, "")
        other = Handoff(
            id=await store.handoffs.reserve_id(), conversation_id=conv.id, status="waiting",
            created_at=T0,
        )  # fmt: skip
        with pytest.raises(ValueError):
            await store.commit(
                Turn(conversation_id=conv.id, state=ConversationState(), seen_at=T0,
                     handoffs=[other], outgoing=[to(ALICE, "x")])
            )  # fmt: skip
        assert await store.outbox.pending() == 0
        assert [h.id for h in await store.handoffs.queue()] == [first.id]


async def test_queued_sends_of_an_older_version_survive_the_upgrade(tmp_path: Path) -> None:
    from bot.storage.migrations import MIGRATIONS

    path = tmp_path / "old.db"
    old = SqliteStorage(path, migrations=MIGRATIONS[:3])
    await old.open()
    await old.database.write_one(
        "INSERT INTO pending_sends (channel, user_id, reply, reason, created_at, due_us)"
        " VALUES ('telegram', '42', ?, 'down', ?, 0)",
        (Reply(text="chờ gửi").model_dump_json(), T0.isoformat()),
    )
    await old.close()
    new = SqliteStorage(path)
    await new.open()
    [item] = await new.outbox.claim(T0, LEASE)
    assert item.outgoing.key == ConversationKey(channel="telegram", user_id="42")
    assert item.outgoing.reply == Reply(text="chờ gửi")
    await new.close()
