"""Every kind of message as a citizen on Telegram receives it (through the fake Bot API).

Telegram shows every choice as a button: sentences say "bấm «…»" with the label of a button
that is there, never "gõ số", and button labels carry no numbers of their own.
"""

from __future__ import annotations

from typing import Any

from tests.readable import Seen, problems
from tests.telegram.conftest import CITIZEN, STAFF_CHAT, STAFF_USER, TelegramRig


def seen(call: Any) -> Seen:
    markup = call.params.get("reply_markup") or {}
    labels = tuple(b["text"] for row in markup.get("inline_keyboard", []) for b in row)
    return Seen(str(call.params["text"]), labels)


def data_of(call: Any, label: str) -> str:
    markup = call.params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if button["text"] == label:
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r}")


class Citizen:
    def __init__(self, rig: TelegramRig) -> None:
        self.rig = rig
        self.calls: list[Any] = []

    async def _wait(self, expect: int) -> list[Seen]:
        total = len(self.calls) + expect
        calls = await self.rig.api.wait_for(
            "sendMessage",
            count=total,
            predicate=lambda c: c.ok and int(c.params["chat_id"]) == CITIZEN,
        )
        new = calls[len(self.calls) : total]
        self.calls += new
        out = [seen(c) for c in new]
        for message in out:
            assert problems(message, max_chars=4096, markup="html") == [], message
            assert "gõ số" not in message.text
        return out

    async def say(self, text: str, expect: int = 1) -> list[Seen]:
        self.rig.api.push_private_text(CITIZEN, text, first_name="Hoa")
        return await self._wait(expect)

    async def press(self, label: str, expect: int = 1) -> list[Seen]:
        last = self.calls[-1]
        data = data_of(last, label)
        self.rig.api.push_callback(CITIZEN, data, last.result["message_id"])
        return await self._wait(expect)


async def test_every_kind_of_message_is_readable_on_telegram(rig: TelegramRig) -> None:
    citizen = Citizen(rig)
    [welcome] = await citizen.say("/start")
    assert "trợ lý tự động" in welcome.text
    assert "bấm «Gặp cán bộ»" in welcome.text and "bấm «Quyền riêng tư»" in welcome.text
    assert "Phản ánh, kiến nghị" not in welcome.buttons

    [field] = await citizen.press("🤝 Bảo trợ xã hội")
    [card] = await citizen.press(field.buttons[0])
    assert len(card.buttons) <= 7 and len(card.text) <= 700
    [faq] = await citizen.press("Câu hỏi thường gặp")
    assert not any(label[0].isdigit() for label in faq.buttons)
    [answer] = await citizen.press(faq.buttons[1])
    assert answer.text.startswith(faq.buttons[1].rstrip("…"))

    await citizen.say("khai sinh")
    await citizen.press("Giấy tờ cần mang")
    [checklist] = await citizen.press("Đánh dấu giấy tờ đã có")
    assert "Xong thì bấm «Xong»" in checklist.text
    await citizen.say("/menu")
    await citizen.say("mất giấy khai sinh")
    await citizen.say("xyz qqq")
    [fallback] = await citizen.say("qqq xyz")
    assert "bấm «Gặp cán bộ»" in fallback.text

    await citizen.say("chứng thực bản sao")
    await citizen.press("Lệ phí")
    [pages] = await citizen.press("Tính lệ phí")
    assert "bao nhiêu trang" in pages.text
    await citizen.say("3")
    [quote] = await citizen.say("2")
    assert "10.000 đồng" in quote.text

    rig.api.push_private_sticker(CITIZEN)
    [media] = await citizen._wait(1)
    assert "bấm «Gặp cán bộ»" in media.text

    [queued] = await citizen.say("/canbo")
    assert "vị trí số 1" in queued.text
    header = await rig.api.wait_for(
        "sendMessage", predicate=lambda c: c.ok and int(c.params["chat_id"]) == STAFF_CHAT
    )
    thread = header[0].params["message_thread_id"]
    rig.api.push_group_callback(
        STAFF_CHAT, thread, STAFF_USER, "close:1", header[0].result["message_id"]
    )
    [closed] = await citizen._wait(1)
    assert "👍 Hữu ích" in closed.buttons
