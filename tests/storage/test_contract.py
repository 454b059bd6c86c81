"""The Storage contract: every implementation must pass the same tests.

Written from the side of the conversation core: what a caller of the store would notice.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.storage import MemoryStorage, SqliteStorage, open_storage
from flows.models import Button, ConversationKey
from flows.ports import (
    VN_TZ,
    Conversation,
    ConversationState,
    Event,
    Storage,
    TranscriptLine,
    Turn,
)

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=VN_TZ)
ALICE = ConversationKey(channel="telegram", user_id="1001")
BOB = ConversationKey(channel="telegram", user_id="1002")


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def line(direction: str, text: str, minutes: float = 0) -> TranscriptLine:
    return TranscriptLine.model_validate({"direction": direction, "text": text, "at": at(minutes)})


async def new_conversation(store: Storage, key: ConversationKey = ALICE) -> Conversation:
    return await store.conversations.get_or_create(key, T0, display_name="Nguyễn Văn An")


def test_open_storage_picks_the_implementation(tmp_path: Path) -> None:
    assert isinstance(open_storage(None), MemoryStorage)
    assert isinstance(open_storage(str(tmp_path / "x.db")), SqliteStorage)


class TestConversations:
    async def test_get_or_create_returns_the_same_conversation(self, store: Storage) -> None:
        first = await new_conversation(store)
        again = await store.conversations.get_or_create(ALICE, at(5), display_name="Other name")
        assert again.id == first.id
        assert again.display_name == "Nguyễn Văn An"  # a lookup does not rename
        assert again.created_at == T0

    async def test_new_conversation_starts_fresh(self, store: Storage) -> None:
        conv = await new_conversation(store)
        assert conv.key == ALICE
        assert conv.state == ConversationState()
        assert conv.created_at == conv.last_seen_at == T0
        assert await store.conversations.transcript(conv.id, 10) == []

    async def test_keys_are_channel_and_user(self, store: Storage) -> None:
        a = await new_conversation(store)
        b = await new_conversation(store, BOB)
        zalo = await new_conversation(store, ConversationKey(channel="zalo", user_id="1001"))
        assert len({a.id, b.id, zalo.id}) == 3

    async def test_find(self, store: Storage) -> None:
        conv = await new_conversation(store)
        assert await store.conversations.find(conv.id) == conv
        assert await store.conversations.by_key(ALICE) == conv
        assert await store.conversations.find(conv.id + 100) is None
        assert await store.conversations.by_key(BOB) is None

    async def test_times_come_back_aware_with_their_offset(self, store: Storage) -> None:
        utc_now = dt.datetime(2026, 3, 2, 1, 0, 0, 123456, tzinfo=dt.UTC)
        conv = await store.conversations.get_or_create(ALICE, T0)
        await store.commit(
            Turn(
                conversation_id=conv.id,
                state=conv.state,
                seen_at=utc_now,
                transcript=[line("in", "x", 1)],
            )
        )
        found = await store.conversations.find(conv.id)
        assert found is not None
        assert found.created_at == T0
        assert found.created_at.utcoffset() == dt.timedelta(hours=7)
        assert found.last_seen_at == utc_now
        assert found.last_seen_at.utcoffset() == dt.timedelta(0)
        [back] = await store.conversations.transcript(conv.id, 1)
        assert back.at == at(1)
        assert back.at.utcoffset() == dt.timedelta(hours=7)

    async def test_naive_times_are_refused(self, store: Storage) -> None:
        with pytest.raises(ValueError, match="aware"):
            await store.conversations.get_or_create(ALICE, dt.datetime(2026, 3, 2, 8, 0))
        conv = await new_conversation(store)
        with pytest.raises(ValueError, match="aware"):
            await store.events.log(conv.id, Event(kind="x", at=dt.datetime(2026, 3, 2)))
        with pytest.raises(ValueError, match="aware"):
            await store.events.between(since=dt.datetime(2026, 3, 2))
        with pytest.raises(ValueError, match="aware"):
            await store.dedup.first_seen("telegram", "m1", dt.datetime(2026, 3, 2))
        assert await store.events.between() == []
        assert await store.dedup.first_seen("telegram", "m1", T0)


class TestCommit:
    async def test_state_round_trips(self, store: Storage) -> None:
        conv = await new_conversation(store)
        state = ConversationState(
            mode="waiting",
            flow="collect",
            guide_id="ho-tich/khai-sinh",
            step=3,
            data={"child": {"name": "Lê Thị Bình", "born": "2026-02-01"}, "tries": [1, 2]},
            buttons=[Button(label="Có", data="y"), Button(label="Không", data="n")],
            pages=["trang 1", "trang 2"],
            misses=2,
        )
        await store.commit(Turn(conversation_id=conv.id, state=state, seen_at=at(1)))
        found = await store.conversations.find(conv.id)
        assert found is not None
        assert found.state == state
        assert found.state.buttons[0] == Button(label="Có", data="y")

    async def test_data_is_normalised_like_json(self, store: Storage) -> None:
        conv = await new_conversation(store)
        state = ConversationState(data={"pair": (1, 2), "when": at(3)})
        await store.commit(Turn(conversation_id=conv.id, state=state, seen_at=at(1)))
        found = await store.conversations.find(conv.id)
        assert found is not None
        assert found.state.data["pair"] == [1, 2]
        assert dt.datetime.fromisoformat(found.state.data["when"]) == at(3)

    async def test_commit_writes_state_transcript_and_events_together(self, store: Storage) -> None:
        conv = await new_conversation(store)
        turn = Turn(
            conversation_id=conv.id,
            state=ConversationState(guide_id="g1", step=1),
            seen_at=at(2),
            display_name="An",
            transcript=[line("in", "khai sinh", 2), line("out", "Hồ sơ gồm...", 2)],
            events=[
                Event(kind="question", at=at(2), data={"text": "khai sinh"}),
                Event(kind="answer", at=at(2), data={"guide": "g1", "score": 0.9}),
            ],
        )
        await store.commit(turn)
        found = await store.conversations.find(conv.id)
        assert found is not None
        assert found.state.guide_id == "g1"
        assert found.display_name == "An"
        assert found.last_seen_at == at(2)
        assert found.created_at == T0
        assert await store.conversations.transcript(conv.id, 10) == turn.transcript
        assert await store.events.between() == [(conv.id, e) for e in turn.events]

    async def test_missing_display_name_keeps_the_known_one(self, store: Storage) -> None:
        conv = await new_conversation(store)
        for name in (None, ""):
            await store.commit(
                Turn(conversation_id=conv.id, state=conv.state, seen_at=at(1), display_name=name)
            )
        found = await store.conversations.find(conv.id)
        assert found is not None
        assert found.display_name == "Nguyễn Văn An"

    async def test_commit_for_an_unknown_conversation_fails_and_writes_nothing(
        self, store: Storage
    ) -> None:
        turn = Turn(
            conversation_id=999,
            state=ConversationState(),
            seen_at=at(1),
            transcript=[line("in", "x")],
            events=[Event(kind="question", at=at(1))],
        )
        with pytest.raises(LookupError):
            await store.commit(turn)
        assert await store.events.between() == []
        assert await store.conversations.transcript(999, 10) == []

    async def test_recent_transcript_is_the_tail_oldest_first(self, store: Storage) -> None:
        conv = await new_conversation(store)
        other = await new_conversation(store, BOB)
        for n in range(5):
            await store.commit(
                Turn(
                    conversation_id=conv.id,
                    state=conv.state,
                    seen_at=at(n),
                    transcript=[line("in", f"q{n}", n), line("out", f"a{n}", n)],
                )
            )
        await store.commit(
            Turn(
                conversation_id=other.id,
                state=other.state,
                seen_at=at(9),
                transcript=[line("staff", "bob", 9)],
            )
        )
        texts = [x.text for x in await store.conversations.transcript(conv.id, 3)]
        assert texts == ["a3", "q4", "a4"]
        assert len(await store.conversations.transcript(conv.id, 100)) == 10
        assert await store.conversations.transcript(conv.id, 0) == []
        assert [x.text for x in await store.conversations.transcript(other.id, 5)] == ["bob"]


class TestEvents:
    async def test_filtered_by_half_open_period_in_time_order(self, store: Storage) -> None:
        conv = await new_conversation(store)
        await store.events.log(conv.id, Event(kind="late", at=at(30)))
        await store.events.log(None, Event(kind="early", at=at(10), data={"n": 1}))
        await store.events.log(conv.id, Event(kind="edge", at=at(20)))
        # the same instant as at(15), written in UTC: ordering is by instant, not by text
        utc = at(15).astimezone(dt.UTC)
        await store.events.log(conv.id, Event(kind="utc", at=utc))

        everything = await store.events.between()
        assert [e.kind for _, e in everything] == ["early", "utc", "edge", "late"]
        assert everything[0] == (None, Event(kind="early", at=at(10), data={"n": 1}))

        window = await store.events.between(since=at(15), until=at(30))
        assert [e.kind for _, e in window] == ["utc", "edge"]
        assert [e.kind for _, e in await store.events.between(since=at(20))] == ["edge", "late"]
        assert [e.kind for _, e in await store.events.between(until=at(20))] == ["early", "utc"]

    async def test_same_time_keeps_insertion_order(self, store: Storage) -> None:
        for kind in ("b", "a", "c"):
            await store.events.log(None, Event(kind=kind, at=at(1)))
        assert [e.kind for _, e in await store.events.between()] == ["b", "a", "c"]

    async def test_event_for_unknown_conversation_is_refused(self, store: Storage) -> None:
        with pytest.raises(LookupError):
            await store.events.log(42, Event(kind="x", at=at(1)))


class TestHandoffs:
    async def test_open_returns_the_existing_open_handoff(self, store: Storage) -> None:
        conv = await new_conversation(store)
        first = await store.handoffs.open(conv.id, at(1), "g1", "asked for staff")
        assert first.status == "waiting"
        assert (first.guide_id, first.reason, first.created_at) == ("g1", "asked for staff", at(1))
        again = await store.handoffs.open(conv.id, at(2), None, "again")
        assert again == first
        assert await store.handoffs.current(conv.id) == first
        assert await store.handoffs.queue() == [first]

    async def test_status_changes_via_save(self, store: Storage) -> None:
        conv = await new_conversation(store)
        handoff = await store.handoffs.open(conv.id, at(1), None, "")
        claimed = handoff.model_copy(
            update={
                "status": "claimed",
                "claimed_at": at(2),
                "claimed_by": "cán bộ Hoa",
                "first_response_at": at(3),
                "reminded_at": at(2.5),
            }
        )
        await store.handoffs.save(claimed)
        assert await store.handoffs.current(conv.id) == claimed
        assert await store.handoffs.queue() == [claimed]

        closed = claimed.model_copy(update={"status": "closed", "ended_at": at(9)})
        await store.handoffs.save(closed)
        assert await store.handoffs.current(conv.id) is None
        assert await store.handoffs.queue() == []

        fresh = await store.handoffs.open(conv.id, at(10), "g2", "later")
        assert fresh.id != handoff.id
        assert fresh.status == "waiting"

    async def test_second_open_handoff_via_save_is_refused(self, store: Storage) -> None:
        conv = await new_conversation(store)
        old = await store.handoffs.open(conv.id, at(1), None, "")
        await store.handoffs.save(old.model_copy(update={"status": "returned"}))
        current = await store.handoffs.open(conv.id, at(2), None, "")
        with pytest.raises(ValueError):
            await store.handoffs.save(old.model_copy(update={"status": "waiting"}))
        assert await store.handoffs.queue() == [current]

    async def test_save_unknown_handoff_is_refused(self, store: Storage) -> None:
        conv = await new_conversation(store)
        handoff = await store.handoffs.open(conv.id, at(1), None, "")
        with pytest.raises(LookupError):
            await store.handoffs.save(handoff.model_copy(update={"id": handoff.id + 50}))
        with pytest.raises(LookupError):
            await store.handoffs.save(handoff.model_copy(update={"conversation_id": conv.id + 50}))

    async def test_handoff_for_unknown_conversation_is_refused(self, store: Storage) -> None:
        with pytest.raises(LookupError):
            await store.handoffs.open(77, at(1), None, "")

    async def test_queue_is_oldest_first(self, store: Storage) -> None:
        convs = [
            await new_conversation(store, ConversationKey(channel="t", user_id=u)) for u in "abcd"
        ]
        # created out of order; one in UTC to check instants, not text, decide
        h_b = await store.handoffs.open(convs[1].id, at(3), None, "")
        h_a = await store.handoffs.open(convs[0].id, at(1).astimezone(dt.UTC), None, "")
        h_c = await store.handoffs.open(convs[2].id, at(2), None, "")
        h_d = await store.handoffs.open(convs[3].id, at(0.5), None, "")
        await store.handoffs.save(h_d.model_copy(update={"status": "cancelled"}))
        await store.handoffs.save(h_c.model_copy(update={"status": "claimed", "claimed_by": "x"}))
        assert [h.id for h in await store.handoffs.queue()] == [h_a.id, h_c.id, h_b.id]


class TestFeedback:
    async def test_refs_are_unique_increasing_and_per_year(self, store: Storage) -> None:
        conv = await new_conversation(store)
        items = [
            await store.feedback.add(conv.id, f"góp ý {n}", at(n), name="An", phone="0901")
            for n in range(3)
        ]
        anonymous = await store.feedback.add(None, "ẩn danh", at(5))
        next_year = await store.feedback.add(None, "năm mới", dt.datetime(2027, 1, 1, tzinfo=VN_TZ))
        refs = [i.ref for i in [*items, anonymous]]
        assert refs == [f"PA-2026-{n:06d}" for n in range(1, 5)]
        assert next_year.ref == "PA-2027-000001"
        assert all(re.fullmatch(r"PA-\d{4}-\d{6}", i.ref) for i in [*items, next_year])
        assert items[0].status == "new"
        assert (items[0].name, items[0].phone, items[0].conversation_id) == ("An", "0901", conv.id)
        assert anonymous.conversation_id is None

    async def test_feedback_items_oldest_first(self, store: Storage) -> None:
        a = await store.feedback.add(None, "một", at(1))
        b = await store.feedback.add(None, "hai", at(2), phone="0912")
        assert await store.feedback.items() == [a, b]
        assert b.content == "hai"
        assert b.created_at == at(2)

    async def test_feedback_for_unknown_conversation_is_refused(self, store: Storage) -> None:
        with pytest.raises(LookupError):
            await store.feedback.add(5, "x", at(1))
        assert await store.feedback.items() == []


class TestRatings:
    async def test_add_and_give_a_reason(self, store: Storage) -> None:
        conv = await new_conversation(store)
        good = await store.ratings.add(conv.id, "g1", True, at(1))
        bad = await store.ratings.add(None, None, False, at(2))
        assert (good.helpful, good.guide_id, good.reason) == (True, "g1", None)
        await store.ratings.set_reason(bad.id, "thiếu lệ phí")
        assert await store.ratings.all() == [
            good,
            bad.model_copy(update={"reason": "thiếu lệ phí"}),
        ]

    async def test_unknown_rating(self, store: Storage) -> None:
        with pytest.raises(LookupError):
            await store.ratings.set_reason(3, "x")
        with pytest.raises(LookupError):
            await store.ratings.add(3, None, True, at(1))


class TestDeleteConversation:
    async def test_erases_the_citizens_data(self, store: Storage) -> None:
        conv = await new_conversation(store)
        bob = await new_conversation(store, BOB)
        for c in (conv, bob):
            await store.commit(
                Turn(
                    conversation_id=c.id,
                    state=ConversationState(guide_id="g1", data={"phone": "0901"}),
                    seen_at=at(1),
                    transcript=[line("in", "số tôi 0901", 1)],
                    events=[
                        Event(
                            kind="question",
                            at=at(1),
                            data={"guide": "g1", "text": "số tôi 0901", "intent": "guide"},
                        )
                    ],
                )
            )
            await store.handoffs.open(c.id, at(2), "g1", "")
            await store.ratings.add(c.id, "g1", False, at(3))
        item = await store.feedback.add(conv.id, "đường hỏng", at(4), name="An", phone="0901")
        await store.events.log(conv.id, Event(kind="feedback", at=at(4)))
        await store.events.log(
            conv.id, Event(kind="rating_reason", at=at(5), data={"reason": "dở"})
        )
        assert await store.dedup.first_seen("telegram", f"{ALICE.user_id}/77", at(1))
        assert await store.dedup.first_seen("telegram", f"{BOB.user_id}/77", at(1))

        await store.conversations.delete(conv.id)

        assert await store.conversations.find(conv.id) is None
        assert await store.conversations.by_key(ALICE) is None
        assert await store.conversations.transcript(conv.id, 10) == []
        assert await store.handoffs.current(conv.id) is None
        assert [h.conversation_id for h in await store.handoffs.queue()] == [bob.id]
        assert [r.conversation_id for r in await store.ratings.all()] == [bob.id]
        # events stay for the statistics, detached
        assert sorted((c or 0, e.kind) for c, e in await store.events.between()) == [
            (0, "feedback"),
            (0, "question"),
            (0, "rating_reason"),
            (bob.id, "question"),
        ]
        # ... without what the citizen typed: the counted fields stay
        detached = {e.kind: e.data for c, e in await store.events.between() if c is None}
        assert detached["question"] == {"guide": "g1", "intent": "guide"}
        assert detached["rating_reason"] == {}
        # feedback stays counted, without its content or who sent it
        assert await store.feedback.items() == [
            item.model_copy(
                update={"conversation_id": None, "content": "", "name": None, "phone": None}
            )
        ]
        # message ids are forgotten (a new message with the same id is new)
        assert await store.dedup.first_seen("telegram", f"{ALICE.user_id}/77", at(6))
        # the other citizen is untouched
        assert len(await store.conversations.transcript(bob.id, 10)) == 1
        assert not await store.dedup.first_seen("telegram", f"{BOB.user_id}/77", at(6))
        [(_, bobs)] = [(c, e) for c, e in await store.events.between() if c == bob.id]
        assert bobs.data["text"] == "số tôi 0901"

    async def test_the_citizen_starts_fresh_afterwards(self, store: Storage) -> None:
        conv = await new_conversation(store)
        await store.commit(
            Turn(
                conversation_id=conv.id,
                state=ConversationState(step=4),
                seen_at=at(1),
                transcript=[line("in", "x", 1)],
            )
        )
        await store.conversations.delete(conv.id)
        await store.conversations.delete(conv.id)  # twice is harmless
        again = await store.conversations.get_or_create(ALICE, at(10))
        assert again.id != conv.id
        assert again.state == ConversationState()
        assert again.display_name == ""
        assert again.created_at == at(10)
        assert await store.conversations.transcript(again.id, 10) == []


class TestRetention:
    async def test_old_conversations_go_and_old_texts_are_stripped(self, store: Storage) -> None:
        old = await new_conversation(store)
        recent = await new_conversation(store, BOB)
        waiting = await new_conversation(store, ConversationKey(channel="zalo", user_id="9"))
        for c, minutes in ((old, 1), (recent, 500), (waiting, 2)):
            await store.commit(
                Turn(
                    conversation_id=c.id,
                    state=ConversationState(),
                    seen_at=at(minutes),
                    transcript=[line("in", "làm khai sinh", minutes)],
                    events=[
                        Event(kind="question", at=at(minutes), data={"text": "x", "guide": "g"})
                    ],
                )
            )
        await store.handoffs.open(waiting.id, at(2), None, "")
        rating = await store.ratings.add(old.id, "g", False, at(1))
        await store.ratings.set_reason(rating.id, "khó hiểu")
        await store.feedback.add(recent.id, "đường hỏng ở thôn 3", at(3), phone="0901234567")

        erased = await store.conversations.purge_older_than(at(100))

        assert erased == 1
        assert await store.conversations.find(old.id) is None
        assert await store.conversations.find(recent.id) is not None
        assert await store.conversations.find(waiting.id) is not None  # open handoff: kept
        # every question is still counted; the old ones lost their text
        events = await store.events.between()
        assert [e.kind for _, e in events] == ["question"] * 3
        assert [e.data for _, e in events] == [
            {"guide": "g"},
            {"guide": "g"},
            {"text": "x", "guide": "g"},
        ]
        [item] = await store.feedback.items()
        assert (item.content, item.phone) == ("", None)
        assert all(r.reason is None for r in await store.ratings.all())
        assert await store.conversations.purge_older_than(at(100)) == 0


class TestFirstSeen:
    async def test_duplicates_are_detected_per_channel(self, store: Storage) -> None:
        assert await store.dedup.first_seen("telegram", "m1", at(0))
        assert not await store.dedup.first_seen("telegram", "m1", at(1))
        assert await store.dedup.first_seen("zalo", "m1", at(1))
        assert await store.dedup.first_seen("telegram", "m2", at(1))
        assert not await store.dedup.first_seen("telegram", "m1", at(60 * 24 * 6))

    async def test_old_ids_are_forgotten(self, store: Storage) -> None:
        assert await store.dedup.first_seen("telegram", "m1", at(0))
        assert await store.dedup.first_seen("telegram", "m2", at(60 * 24 * 8))
        assert await store.dedup.first_seen("telegram", "m1", at(60 * 24 * 8))


class TestCopies:
    async def test_mutating_returned_models_does_not_change_the_store(self, store: Storage) -> None:
        conv = await new_conversation(store)
        await store.commit(
            Turn(
                conversation_id=conv.id,
                state=ConversationState(data={"a": {"b": 1}}, pages=["p"]),
                seen_at=at(1),
            )
        )
        found = await store.conversations.find(conv.id)
        assert found is not None
        found.state.data["a"]["b"] = 2
        found.state.pages.append("q")
        found.state.step = 9
        found.display_name = "changed"
        again = await store.conversations.by_key(ALICE)
        assert again is not None
        assert again.state.data == {"a": {"b": 1}}
        assert again.state.pages == ["p"]
        assert again.state.step == 0
        assert again.display_name == "Nguyễn Văn An"

        handoff = await store.handoffs.open(conv.id, at(2), None, "")
        handoff.status = "closed"
        assert (await store.handoffs.queue())[0].status == "waiting"

        rating = await store.ratings.add(conv.id, None, True, at(3))
        rating.reason = "changed"
        assert (await store.ratings.all())[0].reason is None

    async def test_mutating_what_was_written_does_not_change_the_store(
        self, store: Storage
    ) -> None:
        conv = await new_conversation(store)
        state = ConversationState(data={"k": [1]})
        event = Event(kind="question", at=at(1), data={"text": "hỏi"})
        await store.commit(
            Turn(conversation_id=conv.id, state=state, seen_at=at(1), events=[event])
        )
        await store.events.log(None, event)
        state.data["k"].append(2)
        event.data["text"] = "changed"
        found = await store.conversations.find(conv.id)
        assert found is not None
        assert found.state.data == {"k": [1]}
        assert [e.data for _, e in await store.events.between()] == [{"text": "hỏi"}] * 2

        [(_, got), _] = await store.events.between()
        got.data["text"] = "changed"
        assert [e.data for _, e in await store.events.between()] == [{"text": "hỏi"}] * 2


async def test_feedback_status_can_be_changed_by_reference(store) -> None:
    import datetime as dt

    from flows.ports import VN_TZ

    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    item = await store.feedback.add(None, "Hồ sơ chậm quá", now)
    changed = await store.feedback.set_status(item.ref.lower(), "answered")
    assert changed is not None and changed.status == "answered" and changed.ref == item.ref
    assert [f.status for f in await store.feedback.items()] == ["answered"]
    assert await store.feedback.set_status("PA-1999-000001", "answered") is None
