"""End to end on Zalo: what a citizen on the commune's OA experiences, and what staff see."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from bot.channels.zalo.client import V2, TokenStore
from bot.inbox_worker import LEASE, MAX_ATTEMPTS
from tests.telegram.conftest import STAFF_CHAT, STAFF_USER
from tests.zalo.conftest import CITIZEN, ZaloRig
from tests.zalo.fakezalo import sign


def buttons(message: dict) -> list[dict]:
    return message.get("attachment", {}).get("payload", {}).get("buttons", [])


async def test_question_gets_an_answer_within_zalo_limits(zrig: ZaloRig) -> None:
    await zrig.say("lam giay khai sinh cho con")
    [card] = await zrig.zalo.wait_sent(1, CITIZEN)
    assert card["text"].startswith("Đăng ký khai sinh")
    assert len(card["text"]) <= 2000
    # nine choices do not fit Zalo's five buttons: a numbered list the citizen can type
    assert buttons(card) == []
    assert "1. Các bước" in card["text"] and "(Gõ số để chọn.)" in card["text"]
    await zrig.say("1")
    sent = await zrig.zalo.wait_sent(2, CITIZEN)
    choice = sent[1]
    assert choice["text"] == "Bạn muốn làm theo cách nào?"
    assert [b["payload"] for b in buttons(choice)][:2] == ["#s:khai-sinh:p:0", "#s:khai-sinh:o:0"]
    assert all(b["type"] == "oa.query.hide" and len(b["title"]) <= 20 for b in buttons(choice))


async def test_button_payload_comes_back_as_a_message_and_works(zrig: ZaloRig) -> None:
    await zrig.say("#s:khai-sinh:p:0")
    [step] = await zrig.zalo.wait_sent(1, CITIZEN)
    assert "Bước 1/" in step["text"]
    assert "#s:khai-sinh:p:1" in [b["payload"] for b in buttons(step)]


async def test_follow_gets_a_welcome(zrig: ZaloRig) -> None:
    response = await zrig.post(zrig.event("follow"))
    assert response.status_code == 200
    [welcome] = await zrig.zalo.wait_sent(1, CITIZEN)
    assert "Xin chào" in welcome["text"]


async def test_contact_details_in_both_shapes_are_acknowledged(zrig: ZaloRig) -> None:
    await zrig.post(zrig.event("user_submit_info", shape="flat"))
    await zrig.post(
        zrig.event("user_submit_info", shape="new", timestamp=str(int(zrig.stamp()) + 1))
    )
    sent = await zrig.zalo.wait_sent(2, CITIZEN)
    assert all("thông tin liên hệ" in m["text"] for m in sent)


@pytest.mark.parametrize(
    "case", ["bad signature", "no signature", "malformed", "oversized", "stale", "wrong secret"]
)
async def test_bad_webhooks_are_rejected_and_change_nothing(zrig: ZaloRig, case: str) -> None:
    event = zrig.event("user_send_text", text="khai sinh")
    body = json.dumps(event, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "X-ZEvent-Signature": sign(body, event["app_id"], event["timestamp"], "OAsecretKEY123"),
    }
    expected = 401
    if case == "bad signature":
        headers["X-ZEvent-Signature"] = "mac=" + "0" * 64
    elif case == "no signature":
        del headers["X-ZEvent-Signature"]
    elif case == "malformed":
        body = b'{"event_name": "user_send_text", '
        expected = 400
    elif case == "oversized":
        body = body[:-1] + b', "pad": "' + b"x" * 70_000 + b'"}'
        expected = 413
    elif case == "stale":
        event["timestamp"] = str(int(event["timestamp"]) - 2 * 24 * 3600 * 1000)
        body = json.dumps(event, ensure_ascii=False).encode()
        headers["X-ZEvent-Signature"] = sign(
            body, event["app_id"], event["timestamp"], "OAsecretKEY123"
        )
    elif case == "wrong secret":
        headers["X-ZEvent-Signature"] = sign(
            body, event["app_id"], event["timestamp"], "not-the-secret"
        )
    response = await zrig.http.post(zrig.url, content=body, headers=headers)
    assert response.status_code == expected
    await asyncio.sleep(0.2)
    assert await zrig.stored_events() == 0
    assert zrig.zalo.sent() == []


async def test_duplicate_msg_id_is_processed_once(zrig: ZaloRig) -> None:
    event = zrig.event("user_send_text", text="khai sinh", msg_id="a" * 32)
    assert (await zrig.post(event)).status_code == 200
    assert (await zrig.post(event)).status_code == 200  # Zalo's retry of the same delivery
    await zrig.zalo.wait_sent(1, CITIZEN)
    await asyncio.sleep(0.3)
    assert len(zrig.zalo.sent(CITIZEN)) == 1
    assert await zrig.stored_events() == 1


async def test_unsupported_v3_falls_back_to_v2_and_remembers(zrig: ZaloRig) -> None:
    zrig.zalo.v3_unsupported = True
    await zrig.say("khai sinh")
    await zrig.zalo.wait_sent(1, CITIZEN)
    await zrig.say("ket hon")
    await zrig.zalo.wait_sent(2, CITIZEN)
    assert zrig.channel.client.path == V2
    v3_calls = [c for c in zrig.zalo.calls if c.path.endswith("/v3.0/oa/message/cs")]
    assert len(v3_calls) == 1  # tried once, then v2 only
    assert len(zrig.zalo.sent(CITIZEN)) == 2


async def test_expired_token_is_refreshed_the_new_pair_stored_and_the_message_sent_once(
    zrig: ZaloRig,
) -> None:
    zrig.zalo.expire_access_token()
    await zrig.say("khai sinh")
    await zrig.zalo.wait_sent(1, CITIZEN)
    assert zrig.zalo.refreshes == 1
    stored = await TokenStore(zrig.storage).load()
    assert stored is not None and stored.refresh == zrig.zalo.refresh_token == "RT-2"
    assert stored.access == "AT-2"
    await asyncio.sleep(0.2)
    assert len(zrig.zalo.sent(CITIZEN)) == 1


async def test_rate_limit_and_server_error_are_retried(zrig: ZaloRig) -> None:
    zrig.zalo.fail_next("/oa/message/cs", error=-32)
    zrig.zalo.fail_next("/oa/message/cs", http_status=500)
    await zrig.say("khai sinh")
    await zrig.zalo.wait_sent(1, CITIZEN)
    await asyncio.sleep(0.2)
    assert len(zrig.zalo.sent(CITIZEN)) == 1


async def test_zalo_handoff_goes_to_the_telegram_topic_and_staff_reply_arrives_on_zalo(
    zrig: ZaloRig,
) -> None:
    zrig.zalo.profiles[CITIZEN] = "Nguyễn Thị Hoa"
    await zrig.say("đăng ký kết hôn")
    await zrig.say("gặp cán bộ")
    header = await zrig.telegram_api.wait_for(
        "sendMessage", predicate=lambda c: c.ok and int(c.params["chat_id"]) == STAFF_CHAT
    )
    assert "Nguyễn Thị Hoa (zalo)" in header[0].params["text"]  # the name from the Zalo profile
    topic = zrig.telegram_api.calls_to("createForumTopic")[0]
    assert topic.params["name"].startswith("Nguyễn Thị Hoa")
    thread = header[0].params["message_thread_id"]
    await zrig.say("chồng tôi là người nước ngoài")  # told for the officer: no bot answer
    await zrig.telegram_api.wait_for(
        "sendMessage",
        predicate=lambda c: (
            c.ok
            and c.params.get("message_thread_id") == thread
            and "nước ngoài" in c.params["text"]
        ),
    )
    zrig.telegram_api.push_group_text(STAFF_CHAT, thread, STAFF_USER, "Anh chị mang hộ chiếu nhé.")
    sent = await zrig.zalo.wait_sent(3, CITIZEN)
    assert sent[-1]["text"].startswith("Anh chị mang hộ chiếu nhé.")
    assert "Chị Lan" in sent[-1]["text"]


async def test_reply_window_closed_is_told_to_staff(zrig: ZaloRig) -> None:
    await zrig.say("gặp cán bộ")
    header = await zrig.telegram_api.wait_for(
        "sendMessage", predicate=lambda c: c.ok and int(c.params["chat_id"]) == STAFF_CHAT
    )
    thread = header[0].params["message_thread_id"]
    zrig.zalo.window_closed.add(CITIZEN)
    zrig.telegram_api.push_group_text(STAFF_CHAT, thread, STAFF_USER, "Chào anh")
    note = await zrig.telegram_api.wait_for(
        "sendMessage",
        predicate=lambda c: (
            c.ok
            and c.params.get("message_thread_id") == thread
            and "Không gửi được" in c.params["text"]
        ),
    )
    # the reason, not just the text: Zalo's 7-day reply window
    assert "trong vòng 7 ngày kể từ tin nhắn cuối" in note[0].params["text"]
    assert "Chào anh" in note[0].params["text"]


async def test_event_stored_before_a_crash_is_processed_after_restart(zrig: ZaloRig) -> None:
    await zrig.channel.receiver.stop()  # as if the process died right after answering 200
    assert (await zrig.post(zrig.event("user_send_text", text="khai sinh"))).status_code == 200
    await asyncio.sleep(0.2)
    assert zrig.zalo.sent() == [] and await zrig.stored_events() == 1
    zrig.channel.receiver.start()  # the next start picks it up
    [card] = await zrig.zalo.wait_sent(1, CITIZEN)
    assert card["text"].startswith("Đăng ký khai sinh")


async def test_image_gets_a_polite_answer(zrig: ZaloRig) -> None:
    await zrig.post(zrig.event("user_send_image"))
    [reply] = await zrig.zalo.wait_sent(1, CITIZEN)
    assert "chưa đọc được" in reply["text"]


async def test_unknown_event_is_ignored(zrig: ZaloRig) -> None:
    assert (await zrig.post(zrig.event("user_reacted_message"))).status_code == 200
    await asyncio.sleep(0.3)
    assert zrig.zalo.sent() == []


async def test_a_message_whose_handling_killed_every_process_is_answered_with_an_apology(
    zrig: ZaloRig,
) -> None:
    """Each process that took the message died (MAX_ATTEMPTS claims ran out): it is not handled
    again, but the citizen is told it was not handled instead of hearing nothing; their next
    message is answered as usual."""
    await zrig.channel.receiver.stop()  # the processes that die are the test's
    await zrig.say("kết hôn")
    for _ in range(MAX_ATTEMPTS):
        claimed = await zrig.storage.inbox.claim("zalo", zrig.clock.now(), LEASE)
        assert len(claimed) == 1
        zrig.clock.advance(LEASE + dt.timedelta(seconds=1))
    zrig.channel.receiver.start()
    [apology] = await zrig.zalo.wait_sent(1, CITIZEN)
    assert "chưa xử lý được tin nhắn vừa rồi" in apology["text"]
    assert "Gặp cán bộ" in json.dumps(apology, ensure_ascii=False)  # a person one tap away
    assert await zrig.storage.inbox.pending("zalo") == 0
    await zrig.say("khai sinh")
    [_, card] = await zrig.zalo.wait_sent(2, CITIZEN)
    assert card["text"].startswith("Đăng ký khai sinh")
