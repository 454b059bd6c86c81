"""The fake Zalo OA API answers a real httpx client the way openapi.zalo.me / oauth do.

These tests pin the fake's wire behaviour (errors as HTTP 200 bodies, rotating single-use
refresh tokens, string ids) so the channel tests built on it test the channel, not the fake.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.zalo.fakezalo import (
    EVENT_KINDS,
    OAUTH_TOKEN,
    USER_DETAIL,
    V2_SEND,
    V3_SEND,
    FakeZalo,
    make_event,
    sign,
    signed_request,
)

APP_ID = "1234567890123456789"
CITIZEN = "8214663940393719432"


@pytest.fixture
async def z() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(
        app_id=APP_ID, app_secret="APPSECRET", access_token="AT-1", refresh_token="RT-1"
    ) as fake:
        yield fake


@pytest.fixture
async def client(z: FakeZalo) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=z.api_base_url, timeout=2) as c:
        yield c


def _text(user_id: str = CITIZEN, text: str = "Chào anh/chị") -> dict:
    return {"recipient": {"user_id": user_id}, "message": {"text": text}}


def _buttons(count: int) -> dict:
    buttons = [
        {"title": f"Bước {i}", "type": "oa.query.hide", "payload": f"#g:ks:{i}"}
        for i in range(count)
    ]
    payload = {"buttons": buttons}
    message = {"text": "Chọn", "attachment": {"type": "template", "payload": payload}}
    return {"recipient": {"user_id": CITIZEN}, "message": message}


async def _send(client: httpx.AsyncClient, body: dict, token: str = "AT-1", path: str = V3_SEND):
    return await client.post(path, json=body, headers={"access_token": token})


async def _refresh(z: FakeZalo, refresh_token: str, secret: str = "APPSECRET") -> httpx.Response:
    form = {"refresh_token": refresh_token, "app_id": APP_ID, "grant_type": "refresh_token"}
    async with httpx.AsyncClient(base_url=z.oauth_base_url) as c:
        return await c.post(OAUTH_TOKEN, data=form, headers={"secret_key": secret})


async def test_send_text_v3(z: FakeZalo, client: httpx.AsyncClient) -> None:
    response = await _send(client, _text())
    assert response.status_code == 200
    body = response.json()
    assert body["error"] == 0 and body["message"] == "Success"
    assert re.fullmatch(r"[0-9a-f]{32}", body["data"]["message_id"])
    assert body["data"]["user_id"] == CITIZEN
    assert await z.wait_sent(user_id=CITIZEN) == [{"text": "Chào anh/chị"}]
    assert z.sent("other") == []
    [call] = z.calls
    assert (call.method, call.path, call.ok) == ("POST", V3_SEND, True)
    assert call.headers["access_token"] == "AT-1" and call.body == _text()


async def test_wrong_or_expired_token_is_216(z: FakeZalo, client: httpx.AsyncClient) -> None:
    response = await _send(client, _text(), token="AT-WRONG")
    assert response.status_code == 200
    assert response.json() == {"error": -216, "message": "Access token is invalid"}
    z.expire_access_token()
    assert (await _send(client, _text())).json()["error"] == -216
    assert (await _refresh(z, "RT-1")).status_code == 200
    assert (await _send(client, _text(), token="AT-2")).json()["error"] == 0
    assert len(z.sent()) == 1 and not z.calls[0].ok


async def test_refresh_rotates_both_tokens(z: FakeZalo, client: httpx.AsyncClient) -> None:
    response = await _refresh(z, "RT-1")
    assert response.json() == {
        "access_token": "AT-2",
        "refresh_token": "RT-2",
        "expires_in": "90000",
    }
    assert z.calls[-1].body == {
        "refresh_token": "RT-1",
        "app_id": APP_ID,
        "grant_type": "refresh_token",
    }
    assert (await _refresh(z, "RT-1")).json()["error"] == -14014  # single use
    assert (await _send(client, _text(), token="AT-1")).json()["error"] == -216
    assert (await _refresh(z, "RT-2", secret="WRONG")).json()["error"] == -14002
    assert (await _refresh(z, "RT-2")).json()["access_token"] == "AT-3"
    assert z.refreshes == 2 and (z.access_token, z.refresh_token) == ("AT-3", "RT-3")


async def test_refresh_rejects_json_body(z: FakeZalo) -> None:
    form = {"refresh_token": "RT-1", "app_id": APP_ID, "grant_type": "refresh_token"}
    async with httpx.AsyncClient(base_url=z.oauth_base_url) as c:
        response = await c.post(OAUTH_TOKEN, json=form, headers={"secret_key": "APPSECRET"})
    assert response.json()["error"] < 0 and z.refreshes == 0


async def test_concurrent_refreshes_only_one_wins(z: FakeZalo) -> None:
    z.refresh_delay = 0.02
    results = await asyncio.gather(_refresh(z, "RT-1"), _refresh(z, "RT-1"))
    bodies = sorted((r.json() for r in results), key=lambda b: "error" in b)
    assert bodies[0]["refresh_token"] == "RT-2" and bodies[1]["error"] == -14014


async def test_v3_unsupported_falls_back_to_v2(z: FakeZalo, client: httpx.AsyncClient) -> None:
    z.v3_unsupported = True
    v3 = (await _send(client, _text())).json()
    assert v3 == {"error": -235, "message": "The API is not supported for this OA type"}
    assert (await _send(client, _text(), path=V2_SEND)).json()["error"] == 0
    assert z.sent() == [{"text": "Chào anh/chị"}]
    z.v2_disabled = True
    assert (await _send(client, _text(), path=V2_SEND)).json()["error"] == -240


async def test_fail_next_rate_limit_and_http_500(z: FakeZalo, client: httpx.AsyncClient) -> None:
    z.fail_next("message/cs", error=-32, times=2)
    for _ in range(2):
        response = await _send(client, _text())
        assert response.status_code == 200
        assert response.json() == {"error": -32, "message": "Exceeded rate limit"}
    z.fail_next("message/cs", http_status=500)
    response = await _send(client, _text())
    assert response.status_code == 500 and "text/html" in response.headers["content-type"]
    assert (await _send(client, _text())).json()["error"] == 0
    assert [c.status for c in z.calls] == [200, 200, 500, 200] and len(z.sent()) == 1


async def test_window_closed_and_not_following(z: FakeZalo, client: httpx.AsyncClient) -> None:
    z.window_closed.add(CITIZEN)
    z.not_following.add("111")
    assert (await _send(client, _text())).json()["error"] == -230
    assert (await _send(client, _text("111"))).json()["error"] == -213
    assert (await _send(client, _text("222"))).json()["error"] == 0
    assert z.sent(CITIZEN) == [] and len(z.sent()) == 1


async def test_validation_errors_are_201(z: FakeZalo, client: httpx.AsyncClient) -> None:
    assert (await _send(client, _text(text="a" * 2000))).json()["error"] == 0
    assert (await _send(client, _text(text="a" * 2001))).json()["error"] == -201
    assert (await _send(client, _buttons(5))).json()["error"] == 0
    assert (await _send(client, _buttons(6))).json()["error"] == -201
    assert (await _send(client, {"message": {"text": "x"}})).json()["error"] == -201
    as_int = {"recipient": {"user_id": int(CITIZEN)}, "message": {"text": "x"}}
    assert (await _send(client, as_int)).json()["error"] == -201
    bad_url = _buttons(1)
    bad_url["message"]["attachment"]["payload"]["buttons"][0]["type"] = "oa.open.url"
    assert (await _send(client, bad_url)).json()["error"] == -201
    assert len(z.sent()) == 2


async def test_user_detail_returns_profile(z: FakeZalo, client: httpx.AsyncClient) -> None:
    z.profiles[CITIZEN] = "Trần Thị Bình"

    async def detail(user_id: str) -> dict:
        params = {"data": json.dumps({"user_id": user_id})}
        response = await client.get(USER_DETAIL, params=params, headers={"access_token": "AT-1"})
        return response.json()

    body = await detail(CITIZEN)
    assert body["error"] == 0 and body["data"]["display_name"] == "Trần Thị Bình"
    assert body["data"]["user_id"] == CITIZEN and body["data"]["user_is_follower"] is True
    assert (await detail("999"))["data"]["display_name"] == "Người dùng Zalo"
    assert (await client.get(USER_DETAIL, headers={"access_token": "AT-1"})).json()["error"] == -201


async def test_wait_sent_timeout_lists_calls(z: FakeZalo, client: httpx.AsyncClient) -> None:
    await _send(client, _text(), token="AT-WRONG")
    with pytest.raises(AssertionError, match=r"-216"):
        await z.wait_sent(timeout=0.05)


@pytest.mark.parametrize("kind", sorted(EVENT_KINDS))
def test_make_event_ids_are_strings(kind: str) -> None:
    event = make_event(kind, CITIZEN, text="ảnh giấy tờ" if "image" in kind else None)
    assert event["event_name"] == kind and event["app_id"].isdigit()
    assert re.fullmatch(r"\d{13}", event["timestamp"])
    assert re.fullmatch(r"\d{18,19}", event["user_id_by_app"])
    if kind in ("follow", "unfollow"):
        assert "sender" not in event and event["follower"] == {"id": CITIZEN}
        assert re.fullmatch(r"\d{18,19}", event["oa_id"])
    else:
        assert event["sender"] == {"id": CITIZEN}
        assert re.fullmatch(r"\d{18,19}", event["recipient"]["id"])
    if kind.startswith("user_send_") and kind != "user_send_text":
        [attachment] = event["message"]["attachments"]
        assert attachment["type"] == kind.removeprefix("user_send_")
        assert isinstance(event["message"]["msg_id"], str)


def test_make_event_details(z: FakeZalo) -> None:
    text = make_event(
        "user_send_text", CITIZEN, "khai sinh", msg_id="abc", timestamp="1700000000000"
    )
    assert text["message"] == {"text": "khai sinh", "msg_id": "abc"}
    assert text["timestamp"] == "1700000000000"
    coordinates = make_event("user_send_location", CITIZEN)["message"]["attachments"][0]
    assert all(isinstance(v, str) for v in coordinates["payload"]["coordinates"].values())
    flat = make_event("user_submit_info", CITIZEN, shape="flat")["info"]
    assert {"name", "phone", "address", "city", "district", "ward"} <= set(flat)
    new = make_event("user_submit_info", CITIZEN, shape="new")["info"]
    assert set(new["full_address"]) == {"user_city", "user_ward", "user_address"}
    bound = z.make_event("follow", CITIZEN, num_extra="x")
    assert bound["oa_id"] == z.oa_id and bound["app_id"] == APP_ID and bound["num_extra"] == "x"
    with pytest.raises(TypeError):
        make_event("user_send_text", int(CITIZEN))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        make_event("user_sends_telepathy", CITIZEN)


def test_sign_and_signed_request() -> None:
    event = make_event("user_send_text", CITIZEN, "Tôi muốn làm giấy khai sinh")
    body, headers = signed_request(event, "OASECRET")
    assert body == json.dumps(event, ensure_ascii=False).encode("utf-8")
    assert "Tôi muốn".encode() in body  # raw UTF-8, not \u escapes
    manual = hashlib.sha256(
        (event["app_id"] + body.decode("utf-8") + event["timestamp"] + "OASECRET").encode()
    ).hexdigest()
    assert headers == {"Content-Type": "application/json", "X-ZEvent-Signature": f"mac={manual}"}
    assert sign(body, event["app_id"], event["timestamp"], "OASECRET") == f"mac={manual}"
    assert sign(body + b" ", event["app_id"], event["timestamp"], "OASECRET") != f"mac={manual}"


async def test_server_stops_without_leftover_tasks() -> None:
    before = asyncio.all_tasks()
    async with FakeZalo() as fake, httpx.AsyncClient(base_url=fake.api_base_url) as c:
        await _send(c, _text())
    assert asyncio.all_tasks() == before
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=fake.api_base_url) as c:
            await _send(c, _text())
