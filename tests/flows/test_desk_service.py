"""Desk operations through the one service every desk calls (Telegram today, a web inbox next)."""

from bot.channels.fanout import FanOutDesk
from bot.channels.local import LocalDesk
from flows.callbacks import Act, Callback
from flows.desk import DeskService
from flows.models import Reply, StaffNotice
from tests.flows.driver import texts, to_citizen


async def _waiting(bot) -> int:
    await bot.say("đăng ký kết hôn", name="Trần Thị B")
    await bot.say("cho tôi gặp cán bộ")
    conversation = await bot.storage.conversations.by_key(bot.desk.notices[-1].key)
    assert conversation is not None
    return conversation.id


async def test_a_claim_held_by_a_colleague_is_reported_before_taking_it(bot):
    cid = await _waiting(bot)
    desk = DeskService(bot.engine, bot.storage)
    assert (await desk.claim("Chị Lan", cid)).ok
    asked = await desk.claim("Anh Minh", cid, take_over=False)
    assert (asked.ok, asked.held_by) == (False, "Chị Lan")
    handoff = await bot.storage.handoffs.current(cid)
    assert handoff is not None and handoff.claimed_by == "Chị Lan"  # nothing changed
    taken = await desk.claim("Anh Minh", cid)
    assert (taken.ok, taken.held_by) == (True, "Chị Lan")
    handoff = await bot.storage.handoffs.current(cid)
    assert handoff is not None and handoff.claimed_by == "Anh Minh"


async def test_a_note_reaches_the_desk_and_never_the_citizen(bot):
    cid = await _waiting(bot)
    desk = DeskService(bot.engine, bot.storage)
    before = bot.out.getvalue()
    assert await desk.note("Chị Lan", cid, "Hồ sơ này cần hỏi thêm tư pháp, SĐT 0912345678")
    after = bot.out.getvalue()[len(before) :]
    assert '"to": "citizen"' not in after
    note = bot.desk.notices[-1]
    assert (note.event, note.staff) == ("note", "Chị Lan")
    assert note.text is not None and "0912345678" not in note.text  # masked like transcripts
    assert "Ghi chú nội bộ" in after
    assert not await desk.note("Chị Lan", cid, "   ")


async def test_transfer_hands_the_conversation_to_a_colleague(bot):
    cid = await _waiting(bot)
    desk = DeskService(bot.engine, bot.storage)
    records = await bot.staff(action="claim", staff="Chị Lan")
    assert records
    before = len(bot.out.getvalue())
    assert await desk.transfer("Chị Lan", cid, "Anh Minh")
    handoff = await bot.storage.handoffs.current(cid)
    assert handoff is not None and (handoff.status, handoff.claimed_by) == ("claimed", "Anh Minh")
    said = bot.out.getvalue()[before:]
    assert "Anh Minh sẽ tiếp tục hỗ trợ bạn" in said
    assert "Chị Lan đã chuyển cuộc trò chuyện cho Anh Minh" in said
    assert await desk.reply("Anh Minh", cid, "Chào chị, tôi là Minh.")
    assert await desk.close("Anh Minh", cid)
    assert await bot.storage.handoffs.current(cid) is None
    assert not await desk.transfer("Anh Minh", cid, "Chị Lan")  # nothing open any more


async def test_buttons_and_stale_buttons(bot):
    cid = await _waiting(bot)
    desk = DeskService(bot.engine, bot.storage)
    assert not await desk.press("Chị Lan", Callback(Act.UNKNOWN, raw="zzz"))
    assert not await desk.press("Chị Lan", Callback(Act.MENU))
    assert await desk.press("Chị Lan", Callback(Act.CLAIM, number=cid))
    assert await desk.press("Chị Lan", Callback(Act.RETURN, number=cid))
    out = to_citizen(await bot.say("khai sinh"))
    assert out[-1]["text"].startswith("Đăng ký khai sinh")  # back with the bot
    assert not await desk.press("Chị Lan", Callback(Act.CLOSE, number=cid))


async def test_every_desk_sees_every_notice_once():
    seen: list[tuple[str, str]] = []
    telegram = LocalDesk(lambda to, key, reply: seen.append(("telegram", reply.text)))
    web = LocalDesk(lambda to, key, reply: seen.append(("web", reply.text)))

    class Broken(LocalDesk):
        async def post(self, notice: StaffNotice) -> None:
            raise RuntimeError("down")

    fan = FanOutDesk(telegram, [Broken(lambda *a: None), web])
    await fan.post(StaffNotice(key=None, reply=Reply(text="Hàng chờ trống.")))
    assert seen == [("telegram", "Hàng chờ trống."), ("web", "Hàng chờ trống.")]


async def test_staff_lines_in_the_simulation_still_work(bot):
    await _waiting(bot)
    records = await bot.staff(action="claim")
    assert "Chị Lan đã nhận hỗ trợ bạn" in texts(to_citizen(records))
