"""Staff notices carry facts a second desk (a web inbox) can use, and every desk reads the same."""

import json

from flows.notices import render
from flows.ports import Outgoing


async def test_a_handoff_notice_says_who_which_guide_what_was_said_and_since_when(bot):
    await bot.say("đăng ký kết hôn", name="Trần Thị B")
    await bot.say("cho tôi gặp cán bộ")
    notice = bot.desk.notices[-1]
    assert notice.event == "queued"
    assert notice.conversation_id is not None
    assert notice.citizen is not None
    assert notice.citizen.display_name == "Trần Thị B"
    assert notice.citizen.channel == "sim"
    assert notice.citizen.contact == "…"  # the platform id is not shown in full
    assert notice.guide is not None and notice.guide.title == "Đăng ký kết hôn"
    assert notice.handoff is not None and notice.handoff.status == "waiting"
    assert notice.handoff.waiting_since == bot.clock.now()
    said = [(m.direction, m.text) for m in notice.recent]
    assert ("in", "đăng ký kết hôn") in said
    assert ("in", "cho tôi gặp cán bộ") in said
    assert any(direction == "out" for direction, _ in said)


async def test_claim_and_citizen_messages_are_facts_too(bot):
    await bot.say("cho tôi gặp cán bộ", name="Lê C")
    await bot.say("tôi muốn hỏi về đất")
    message = bot.desk.notices[-1]
    assert (message.event, message.text, message.kind) == (
        "message",
        "tôi muốn hỏi về đất",
        "citizen",
    )
    await bot.staff(action="claim", staff="Chị Lan")
    await bot.staff(action="claim", staff="Anh Minh")
    events = [(n.event, n.staff, n.other) for n in bot.desk.notices[-3:]]
    assert events == [
        ("claimed", "Chị Lan", None),
        ("taken_over", "Anh Minh", "Chị Lan"),
        ("claimed", "Anh Minh", None),
    ]
    assert bot.desk.notices[-1].handoff is not None
    assert bot.desk.notices[-1].handoff.claimed_by == "Anh Minh"


async def test_a_notice_survives_the_outbox_and_renders_the_same(bot):
    await bot.say("khai sinh", name="Trần Thị B")
    await bot.say("cho tôi gặp cán bộ")
    notice = bot.desk.notices[-1]
    stored = Outgoing(notice=notice).model_dump_json()
    loaded = Outgoing.model_validate_json(stored).notice
    assert loaded == notice
    assert render(loaded) == render(notice)
    assert "Trần Thị B" in render(loaded).text
    assert [b.label for b in render(loaded).buttons] == ["Nhận xử lý", "Trả về bot", "Đóng"]


def test_an_outbox_row_from_before_structured_notices_still_loads() -> None:
    legacy = {
        "key": None,
        "notice": {
            "key": {"channel": "telegram", "user_id": "123456"},
            "reply": {"text": "Chị Lan đã nhận xử lý.", "buttons": []},
            "kind": "info",
            "at": "2026-12-01T09:00:00+07:00",
        },
    }
    loaded = Outgoing.model_validate_json(json.dumps(legacy))
    assert loaded.notice is not None
    assert loaded.notice.event is None
    assert render(loaded.notice).text == "Chị Lan đã nhận xử lý."
