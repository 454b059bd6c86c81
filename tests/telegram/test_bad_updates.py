"""An update python-telegram-bot cannot read is skipped, never a stall; /healthz tells."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import httpx
import pytest

from bot.http import build_http_app, telegram_route
from tests.hangup import post_and_hang_up
from tests.loopback import LoopbackServer
from tests.telegram.conftest import CITIZEN, TelegramRig


async def test_an_unreadable_polled_update_is_skipped_and_the_next_is_answered(
    rig: TelegramRig,
) -> None:
    rig.api.push_update({"message": {"message_id": 1, "text": "Quoxitrang"}})  # no date, chat
    rig.api.push_update({"message": "not a message"})
    rig.api.push_private_text(CITIZEN, "khai sinh")
    [answer] = await rig.citizen_texts()
    assert "Đăng ký khai sinh" in answer
    await rig.api.wait_updates_consumed(confirmed=True)


async def test_webhook_bodies_of_the_wrong_shape_are_a_400(rig: TelegramRig) -> None:
    app = build_http_app([telegram_route(rig.channel.feed, "s3cret")])
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    async with LoopbackServer(app) as server, httpx.AsyncClient(timeout=5) as http:
        url = f"{server.url}/telegram/webhook"
        for body in (
            {"update_id": 5, "message": "x"},
            {"update_id": 6, "message": {"message_id": 1}},
            {"update_id": 7, "callback_query": []},
            [1, 2],
            {"update_id": "8"},
        ):
            response = await http.post(url, json=body, headers=headers)
            assert response.status_code == 400, body
        response = await http.post(url, content=b"[" * 50_000, headers=headers)
        assert response.status_code == 400


async def test_healthz_reports_a_stalled_poll(rig: TelegramRig) -> None:
    app = build_http_app([], [rig.channel.health])
    async with LoopbackServer(app) as server, httpx.AsyncClient(timeout=5) as http:
        await rig.api.wait_for("getUpdates")
        assert (await http.get(f"{server.url}/healthz")).status_code == 200
        rig.clock.advance(dt.timedelta(minutes=10))  # no successful getUpdates since
        response = await http.get(f"{server.url}/healthz")
        assert response.status_code == 503
        assert "telegram" in response.json()["problems"][0]


async def test_a_webhook_sender_hanging_up_mid_body_stores_nothing_and_logs_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A proxy or Telegram giving up mid-request (it delivers the update again) is not a bug."""
    fed: list[dict[str, Any]] = []

    async def feed(data: dict[str, Any]) -> None:
        fed.append(data)

    app = build_http_app([telegram_route(feed, "s3cret")])
    headers = {"x-telegram-bot-api-secret-token": "s3cret"}
    with caplog.at_level(logging.INFO):
        statuses = await post_and_hang_up(
            app, "/telegram/webhook", headers, b'{"update_id": 9, "mess'
        )
    assert fed == []
    assert statuses == [400]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
