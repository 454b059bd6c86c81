"""The web chat API as the widget uses it: answers, buttons, typed numbers, the handoff, and a
transport that neither loses nor repeats a message when requests are resent or replayed."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import pytest

from bot.channels.web.channel import MAX_TEXT
from bot.http import build_http_app
from bot.inbox_worker import LEASE, MAX_ATTEMPTS
from flows.ports import ManualClock
from tests.hangup import post_and_hang_up
from tests.web.webrig import OPEN_TIME, web_rig


def texts(data: dict[str, object]) -> list[str]:
    return [str(m["text"]) for m in data["messages"]]  # type: ignore[attr-defined,index]


async def test_a_question_gets_the_guide_and_a_resend_is_answered_once(tmp_path: Path) -> None:
    async with web_rig(tmp_path) as rig:
        session = await rig.session()
        first = await rig.send(session, "m1", text="làm giấy khai sinh cho con")
        assert first.json() == {"ok": True, "duplicate": False}
        again = await rig.send(session, "m1", text="làm giấy khai sinh cho con")
        assert again.json() == {"ok": True, "duplicate": True}
        await rig.settle()
        data = await rig.lines(session)
        lines = data["messages"]
        assert [m["from"] for m in lines][:2] == ["me", "bot"]
        assert lines[0]["text"] == "làm giấy khai sinh cho con" and lines[0]["id"] == "m1"
        assert sum(1 for m in lines if m["from"] == "me") == 1
        bot_text = " ".join(texts(data)[1:])
        assert "khai sinh" in bot_text.lower()
        assert "trợ lý tự động" in bot_text  # the first answer says it is an automated assistant
        seqs = [m["seq"] for m in lines]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert data["last"] == seqs[-1]
        assert (await rig.lines(session, after=data["last"]))["messages"] == []


async def test_buttons_and_typed_numbers_choose(tmp_path: Path) -> None:
    async with web_rig(tmp_path) as rig:
        session = await rig.session()
        await rig.send(session, "a", text="xin chào")
        await rig.settle()
        data = await rig.lines(session)
        offered = data["messages"][-1]["buttons"]
        assert len(offered) >= 2
        await rig.send(session, "b", button=offered[0]["data"], label=offered[0]["label"])
        await rig.settle()
        after_press = await rig.lines(session, after=data["last"])
        echo, *answer = after_press["messages"]
        assert echo["from"] == "me" and echo["text"] == offered[0]["label"]
        assert answer and answer[-1]["buttons"]
        choices = answer[-1]["buttons"]
        await rig.send(session, "c", text="1")
        await rig.settle()
        typed = await rig.lines(session, after=after_press["last"])
        pressed = await rig_answer_for(rig, choices[0]["data"], choices[0]["label"])
        assert texts(typed)[1:] == pressed


async def rig_answer_for(rig: object, data: str, label: str) -> list[str]:
    """What pressing the button gives, in a fresh conversation that reached the same point."""
    from tests.web.webrig import WebRig

    assert isinstance(rig, WebRig)
    session = await rig.session()
    await rig.send(session, "a", text="xin chào")
    await rig.settle()
    first = (await rig.lines(session))["messages"][-1]["buttons"][0]
    await rig.send(session, "b", button=first["data"], label=first["label"])
    await rig.settle()
    mark = (await rig.lines(session))["last"]
    await rig.send(session, "c", button=data, label=label)
    await rig.settle()
    return texts(await rig.lines(session, after=mark))[1:]


async def test_a_staff_reply_reaches_the_widget_and_wakes_a_waiting_poll(tmp_path: Path) -> None:
    async with web_rig(tmp_path) as rig:
        session = await rig.session()
        await rig.send(session, "h1", text="/canbo")
        await rig.settle()
        assert any(n.kind == "handoff" for n in rig.desk.notices)
        mark = (await rig.lines(session))["last"]
        conversation = await rig.storage.conversations.by_key(rig.key(session))
        assert conversation is not None
        waiting = asyncio.create_task(rig.lines(session, after=mark, wait=10))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        assert await rig.engine.staff_action("Chị Lan", conversation.id, "claim")
        assert await rig.engine.staff_reply("Chị Lan", conversation.id, "Chào anh, tôi là Lan.")
        await rig.settle()
        data = await asyncio.wait_for(waiting, 5)
        assert data["messages"]  # woken by the first line (the claim is announced)
        rest = await rig.lines(session, after=data["last"])
        said = texts(data) + texts(rest)
        assert sum("Chào anh, tôi là Lan." in t for t in said) == 1


async def test_bad_input_gets_a_clean_4xx(tmp_path: Path) -> None:
    async with web_rig(tmp_path) as rig:
        session = await rig.session()
        url = f"{rig.url}/chat/api/send"
        s = session
        cases = [
            (b"not json", 400),
            (b"[1, 2]", 400),
            (b'{"session": "short", "id": "x", "text": "a"}', 400),
            (f'{{"session": "{s}", "id": "bad id!", "text": "a"}}'.encode(), 400),
            (f'{{"session": "{s}", "id": "x", "text": "  "}}'.encode(), 400),
            (f'{{"session": "{s}", "id": "x", "text": 5}}'.encode(), 400),
            (f'{{"session": "{s}", "id": "x", "button": "a b"}}'.encode(), 400),
            (f'{{"session": "{s}", "id": "x", "text": "\\ud800"}}'.encode(), 400),
            (b"{" * 3000, 400),
            (b"x" * 5000, 413),
        ]
        for body, status in cases:
            response = await rig.http.post(url, content=body)
            assert response.status_code == status, (body[:60], response.text)
            assert response.json()["ok"] is False
        long = await rig.send(session, "x", text="a" * (MAX_TEXT + 1))
        assert long.status_code == 413
        for query in ("after=-1", "after=x", "wait=nan", "session=short"):
            params = f"session={session}&{query}" if "session" not in query else query
            response = await rig.http.get(f"{rig.url}/chat/api/messages?{params}")
            assert response.status_code == 400, query
        assert await rig.storage.inbox.pending("web") == 0


async def test_rate_limited_per_session_and_refilled_with_time(tmp_path: Path) -> None:
    clock = ManualClock(OPEN_TIME)
    async with web_rig(tmp_path, clock, burst=3, per_second=0.5) as rig:
        session, other = await rig.session(), await rig.session()
        codes = [(await rig.send(session, f"m{i}", text="xin chào")).status_code for i in range(4)]
        assert codes == [200, 200, 200, 429]
        assert (await rig.send(other, "m0", text="xin chào")).status_code == 200
        clock.advance(dt.timedelta(seconds=2))
        assert (await rig.send(session, "m4", text="xin chào")).status_code == 200


async def test_cross_origin_requests_need_no_preflight_and_are_allowed(tmp_path: Path) -> None:
    async with web_rig(tmp_path) as rig:
        widget = await rig.http.get(f"{rig.url}/widget.js")
        assert widget.status_code == 200 and "javascript" in widget.headers["content-type"]
        assert "XMLHttpRequest" in widget.text and "=>" not in widget.text  # ES5: no arrows
        for word in ("let ", "const ", "fetch(", "`"):
            assert word not in widget.text, word
        session = await rig.session()
        response = await rig.send(session, "m1", text="xin chào")
        assert response.headers["access-control-allow-origin"] == "*"
        options = await rig.http.options(f"{rig.url}/chat/api/send")
        assert options.status_code == 204
        privacy = await rig.http.get(f"{rig.url}/chat/privacy")
        assert "Quyền riêng tư" in privacy.text and 'lang="vi"' in privacy.text


async def test_erasing_the_conversation_erases_what_the_widget_shows(tmp_path: Path) -> None:
    async with web_rig(tmp_path) as rig:
        session = await rig.session()
        await rig.send(session, "m1", text="số điện thoại của tôi 0912345678")
        await rig.settle()
        conversation = await rig.storage.conversations.by_key(rig.key(session))
        assert conversation is not None
        await rig.storage.conversations.delete(conversation.id)
        assert (await rig.lines(session))["messages"] == []
        rows = await rig.storage.database.read("SELECT count(*) FROM web_chat_lines")
        assert rows[0][0] == 0


@pytest.mark.parametrize("count", [3])
async def test_a_replayed_reply_is_shown_once(tmp_path: Path, count: int) -> None:
    """The outbox delivers again after a crash between writing the log and removing the
    entry: the log keeps one copy."""
    async with web_rig(tmp_path) as rig:
        session = await rig.session()
        await rig.send(session, "m1", text="xin chào")
        await rig.web.drain()
        items = await rig.storage.outbox.claim(OPEN_TIME, dt.timedelta(seconds=1), 10)
        web_items = [i for i in items if i.outgoing.target == "web"]
        assert web_items
        for _ in range(count):
            await rig.web.outbox.attempt(web_items[0])
        bot_lines = [m for m in (await rig.lines(session))["messages"] if m["from"] == "bot"]
        assert len(bot_lines) == len({m["text"] for m in bot_lines}) >= 1


async def test_xoadulieu_in_the_widget_erases_and_still_confirms(tmp_path: Path) -> None:
    async with web_rig(tmp_path) as rig:
        session = await rig.session()
        await rig.send(session, "m1", text="số điện thoại của tôi 0912345678")
        await rig.send(session, "m2", text="/xoadulieu")
        await rig.settle()
        data = await rig.lines(session)
        confirm = data["messages"][-1]["buttons"]
        yes = next(b for b in confirm if b["data"] == "del:y")
        await rig.send(session, "m3", button=yes["data"], label=yes["label"])
        await rig.settle()
        shown = texts(await rig.lines(session))
        assert not any("0912345678" in t for t in shown)
        assert any("Đã xóa dữ liệu" in t for t in shown)
        assert await rig.storage.outbox.pending() == 0  # the confirmation was not stuck


async def test_a_page_hanging_up_mid_request_stores_nothing_and_logs_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_rig(tmp_path) as rig:
        app = build_http_app(rig.web.routes())
        with caplog.at_level(logging.INFO):
            statuses = await post_and_hang_up(app, "/chat/api/send", {}, b'{"session": "')
        assert statuses == [400]
        assert await rig.storage.inbox.pending("web") == 0
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_message_whose_handling_killed_every_process_gets_an_apology(
    tmp_path: Path,
) -> None:
    """Every process that took the message died (its claims ran out MAX_ATTEMPTS times): it is
    not handled again, and the citizen reads that it was not handled instead of nothing."""
    clock = ManualClock(OPEN_TIME)
    async with web_rig(tmp_path, clock) as rig:
        session = await rig.session()
        await rig.send(session, "m1", text="khai sinh")
        for _ in range(MAX_ATTEMPTS):
            assert len(await rig.storage.inbox.claim("web", clock.now(), LEASE)) == 1
            clock.advance(LEASE + dt.timedelta(seconds=1))
        await rig.settle()
        said = texts(await rig.lines(session))
        assert said[0] == "khai sinh"
        assert len(said) == 2 and "chưa xử lý được tin nhắn vừa rồi" in said[1], said
        assert await rig.storage.inbox.pending("web") == 0
