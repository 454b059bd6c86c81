"""Hostile or broken webhook bodies get a clean 4xx, never a 500, and change nothing."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from bot.channels.zalo.events import event_key
from bot.http import build_http_app
from tests.flows.test_erasure import every_value
from tests.hangup import post_and_hang_up
from tests.zalo.conftest import CITIZEN, OA_SECRET, ZaloRig
from tests.zalo.fakezalo import sign


def signed(event: dict, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-ZEvent-Signature": sign(body, event["app_id"], event["timestamp"], OA_SECRET),
    }


async def test_deeply_nested_json_is_a_400(zrig: ZaloRig) -> None:
    body = b'{"a": ' * 50_000 + b"1" + b"}" * 50_000
    headers = {"Content-Type": "application/json", "X-ZEvent-Signature": "mac=" + "0" * 64}
    response = await zrig.http.post(zrig.url, content=body[:60_000], headers=headers)
    assert response.status_code == 400
    body = b"[" * 30_000 + b"]" * 30_000
    response = await zrig.http.post(zrig.url, content=body, headers=headers)
    assert response.status_code == 400


async def test_lone_surrogates_in_a_signed_body_are_a_400(zrig: ZaloRig) -> None:
    event = zrig.event("user_send_text", text="khai sinh \ud800 x")
    body = json.dumps(event).encode()  # ASCII escapes: valid JSON, invalid Unicode
    response = await zrig.http.post(zrig.url, content=body, headers=signed(event, body))
    assert response.status_code == 400
    assert await zrig.stored_events() == 0


@pytest.mark.parametrize("sender_id", [8463212345678901234, {"id": "1"}, ["1"], "", "x" * 200])
async def test_signed_events_whose_sender_is_not_an_id_are_refused(
    zrig: ZaloRig, sender_id: object
) -> None:
    event = zrig.event("user_send_text", text="khai sinh")
    event["sender"] = {"id": sender_id}
    body = json.dumps(event, ensure_ascii=False).encode()
    response = await zrig.http.post(zrig.url, content=body, headers=signed(event, body))
    assert response.status_code == 400
    await asyncio.sleep(0.1)
    assert await zrig.stored_events() == 0
    assert zrig.zalo.sent() == []
    # and the channel keeps working
    await zrig.say("khai sinh")
    [card] = await zrig.zalo.wait_sent(1, CITIZEN)
    assert card["text"].startswith("Đăng ký khai sinh")


async def test_a_zalo_citizen_is_told_their_data_was_deleted(zrig: ZaloRig) -> None:
    await zrig.say("khai sinh")
    await zrig.say("/xoadulieu")
    await zrig.zalo.wait_sent(2, CITIZEN)
    await zrig.say("#del:y")
    sent = await zrig.zalo.wait_sent(3, CITIZEN)
    assert "Đã xóa dữ liệu" in sent[2]["text"]
    await asyncio.sleep(0.2)  # let the receiver finish the turn
    # no table holds the citizen's id or words any more (raw payloads, message ids included)
    left = [(t, v) for t, v in every_value(Path(zrig.storage.path)) if CITIZEN in v]
    assert left == []


async def test_a_sender_hanging_up_mid_body_stores_nothing_and_logs_no_error(
    zrig: ZaloRig, caplog: pytest.LogCaptureFixture
) -> None:
    """Zalo sends an event again when it got no answer; a half body is not a server error."""
    app = build_http_app([zrig.channel.receiver.route()])
    headers = {"Content-Type": "application/json", "X-ZEvent-Signature": "mac=" + "0" * 64}
    with caplog.at_level(logging.INFO):
        statuses = await post_and_hang_up(app, "/zalo/webhook", headers, b'{"event_name": "us')
    assert statuses == [400]
    assert await zrig.stored_events() == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_key_of_an_event_without_a_message_id_does_not_name_the_citizen(zrig: ZaloRig) -> None:
    """Processed keys stay until the retention cutoff (re-deliveries must still be recognised)."""
    follow = zrig.event("follow")
    key = event_key(follow)
    assert CITIZEN not in key
    assert event_key(dict(follow)) == key  # the same delivery again is recognised
    assert event_key({**follow, "timestamp": str(int(follow["timestamp"]) + 1)}) != key
