"""Every kind of message as a citizen on Zalo receives it (through the fake Zalo API).

Zalo shows at most 5 buttons and 2,000 characters: more choices come as a numbered list that
keeps the full label, and every sentence that says what to press matches what is shown.
"""

from __future__ import annotations

from typing import Any

from tests.readable import Seen, number_of, problems
from tests.telegram.conftest import STAFF_CHAT, STAFF_USER
from tests.zalo.conftest import CITIZEN, ZaloRig

TITLE_ELDERLY = "Trợ cấp hằng tháng cho người cao tuổi (trợ cấp xã hội, trợ cấp hưu trí xã hội)"


def seen(message: dict[str, Any]) -> Seen:
    payload = message.get("attachment", {}).get("payload", {})
    return Seen(message["text"], tuple(b["title"] for b in payload.get("buttons", [])))


class Citizen:
    """Types on Zalo, one message at a time, and reads what comes back."""

    def __init__(self, zrig: ZaloRig) -> None:
        self.zrig = zrig
        self.read: list[Seen] = []

    async def _wait(self, expect: int) -> list[Seen]:
        total = len(self.read) + expect
        sent = await self.zrig.zalo.wait_sent(total, CITIZEN)
        new = [seen(m) for m in sent[len(self.read) : total]]
        self.read += new
        for message in new:
            assert problems(message, max_chars=2000, max_buttons=5) == [], message
        return new

    async def say(self, text: str, expect: int = 1) -> list[Seen]:
        await self.zrig.say(text)
        return await self._wait(expect)

    async def follow(self) -> list[Seen]:
        await self.zrig.post(self.zrig.event("follow"))
        return await self._wait(1)


async def test_every_kind_of_message_is_readable_on_zalo(zrig: ZaloRig) -> None:
    citizen = Citizen(zrig)

    # Welcome: automated assistant, a person, privacy and deletion, worded as shown here.
    [welcome] = await citizen.follow()
    assert "trợ lý tự động" in welcome.text and "/xoadulieu" in welcome.text
    person = number_of(welcome, "Gặp cán bộ")
    privacy = number_of(welcome, "Quyền riêng tư")
    assert f"gõ số {person}" in welcome.text and f"gõ số {privacy}" in welcome.text
    assert "bấm" not in welcome.text
    assert "Phản ánh, kiến nghị" not in welcome.choices().values()  # one way in, by its field

    [menu] = await citizen.say("/menu")
    [field] = await citizen.say(str(number_of(menu, "🤝 Bảo trợ xã hội")))
    assert TITLE_ELDERLY in field.choices().values()  # the full title, not 20 characters of it

    [card] = await citizen.say(str(number_of(field, TITLE_ELDERLY)))
    assert card.text.startswith(TITLE_ELDERLY)
    assert len(card.choices()) <= 7

    [faq] = await citizen.say(str(number_of(card, "Câu hỏi thường gặp")))
    questions = [q for n, q in sorted(faq.choices().items()) if n <= 5]
    assert all(len(q) > 20 for q in questions)  # whole questions, numbered once
    [answer] = await citizen.say("2")
    assert answer.text.startswith(questions[1])

    [checklist] = await citizen.say("#ck:khai-sinh")
    done = number_of(checklist, "Xong")
    assert f"Xong thì gõ số {done}" in checklist.text
    [ticked] = await citizen.say("2")
    assert ticked.choices()[2] == "☑ Giấy chứng sinh"
    [missing] = await citizen.say(str(done))
    assert "Tờ khai đăng ký khai sinh" in missing.text

    [choose] = await citizen.say("#st:khai-sinh")
    assert choose.buttons[:2] == ("Nộp tại quầy", "Nộp trực tuyến")  # few: real buttons
    [step] = await citizen.say("#s:khai-sinh:p:0")
    assert step.text.startswith("Bước 1/")

    [ask_pages] = await citizen.say("#fc:chung-thuc-ban-sao")
    assert "bao nhiêu trang" in ask_pages.text and "Hủy" in ask_pages.buttons
    [ask_copies] = await citizen.say("3")
    assert "bao nhiêu bản" in ask_copies.text
    [quote] = await citizen.say("2")
    assert "10.000 đồng" in quote.text

    await citizen.say("mất giấy khai sinh")  # clarify or an answer, readable either way
    await citizen.say("xyz qqq")
    [fallback] = await citizen.say("qqq xyz")
    assert "gõ số" in fallback.text  # "... hoặc gõ số N để được cán bộ trả lời"

    await zrig.post(zrig.event("user_send_image"))
    [media] = await citizen._wait(1)
    assert "Gặp cán bộ" in media.buttons and "bấm «Gặp cán bộ»" in media.text

    [privacy_notice] = await citizen.say("/riengtu")
    assert "/xoadulieu" in privacy_notice.text

    [queued] = await citizen.say("gặp cán bộ")
    assert "vị trí số 1" in queued.text
    header = await zrig.telegram_api.wait_for(
        "sendMessage", predicate=lambda c: c.ok and int(c.params["chat_id"]) == STAFF_CHAT
    )
    thread = header[0].params["message_thread_id"]
    zrig.telegram_api.push_group_callback(
        STAFF_CHAT, thread, STAFF_USER, "claim:1", header[0].result["message_id"]
    )
    [claimed] = await citizen._wait(1)
    assert "Chị Lan" in claimed.text
    zrig.telegram_api.push_group_callback(
        STAFF_CHAT, thread, STAFF_USER, "close:1", header[0].result["message_id"]
    )
    [closed] = await citizen._wait(1)
    assert "👍 Hữu ích" in closed.buttons

    assert len(zrig.zalo.sent(CITIZEN)) == len(citizen.read)  # nothing unexpected was sent


async def test_first_message_without_follow_says_it_is_automated(zrig: ZaloRig) -> None:
    citizen = Citizen(zrig)
    [card] = await citizen.say("lam giay khai sinh")
    assert "🤖 Đây là trợ lý tự động" in card.text
    assert f"gõ số {number_of(card, 'Gặp cán bộ')}" in card.text
    assert "gõ /riengtu" in card.text  # the card has no privacy button: the command instead
    [again] = await citizen.say("khai tử")
    assert "trợ lý tự động" not in again.text  # once per conversation
    assert "Giấy báo tử" in again.text.split("Cần mang:", 1)[1].split(";", 1)[0]


async def test_refused_template_falls_back_to_a_list_worded_to_match(zrig: ZaloRig) -> None:
    zrig.zalo.fail_next("message/cs", error=-201)
    await zrig.say("#st:khai-sinh")
    sent = await zrig.zalo.wait_sent(1, CITIZEN)
    message = seen(sent[-1])
    assert message.buttons == ()
    assert message.choices()[1] == "Nộp tại quầy"
    assert problems(message, max_chars=2000, max_buttons=5) == []
