"""The staff inbox: queue with waiting time and promise, conversation view, desk actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.web.console import World, csrf_of, login


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with World(tmp_path / "db.sqlite3") as world:
        yield world


async def test_the_queue_shows_waiting_time_and_the_promise(world):
    cid = await world.citizen("/canbo")
    world.clock.advance(dt.timedelta(minutes=7))
    async with world.client() as staff:
        await login(staff, "lan")
        page = await staff.get("/admin/default/hop-thu")
        assert "Nguyễn Văn An" in page.text
        assert "7 phút" in page.text
        assert "09:15 01/12/2026" in page.text  # asked at 9:00 in office hours: 15 minutes
        assert "Đang chờ" in page.text
        assert f"/admin/default/hop-thu/{cid}" in page.text


async def test_claim_reply_reaches_the_citizen_through_the_outbox(world):
    cid = await world.citizen("/canbo")
    await world.drain()
    async with world.client() as staff:
        await login(staff, "lan")
        page = await staff.get(f"/admin/default/hop-thu/{cid}")
        assert "Người dân" in page.text and "/canbo" in page.text  # the transcript
        assert "Trợ lý tự động" in page.text  # and what the bot answered
        token = csrf_of(page.text)
        claimed = await staff.post(
            f"/admin/default/hop-thu/{cid}/nhan", data={"csrf": token}, follow_redirects=True
        )
        assert "Bạn đã nhận xử lý" in claimed.text
        assert any("Chị Lan" in t for t in await world.drain())  # told who helps them
        sent = await staff.post(
            f"/admin/default/hop-thu/{cid}/tra-loi",
            data={"csrf": token, "text": "Chị mang CCCD bản gốc nhé."},
            follow_redirects=True,
        )
        assert "Đã gửi trả lời" in sent.text
        assert "Chị mang CCCD bản gốc nhé." in sent.text  # now in the transcript
        delivered = await world.drain()
        assert any(t.startswith("Chị mang CCCD bản gốc nhé.") and "Chị Lan" in t for t in delivered)
        closed = await staff.post(
            f"/admin/default/hop-thu/{cid}/ket-thuc", data={"csrf": token}, follow_redirects=True
        )
        assert "Đã kết thúc hỗ trợ" in closed.text
        assert await world.storage.handoffs.current(cid) is None
        assert "Hiện không có ai đang chờ" in (await staff.get("/admin/default/hop-thu")).text


async def test_claiming_what_a_colleague_holds_warns_first(world):
    cid = await world.citizen("/canbo")
    await world.engine.staff_action("Anh Minh", cid, "claim")  # e.g. from Telegram
    async with world.client() as staff:
        await login(staff, "lan")
        page = await staff.get(f"/admin/default/hop-thu/{cid}")
        assert "Anh Minh đang xử lý cuộc trò chuyện này" in page.text
        assert "Nhận thay Anh Minh" in page.text
        stale = await staff.post(  # a page loaded before Anh Minh claimed: no take-over
            f"/admin/default/hop-thu/{cid}/nhan",
            data={"csrf": csrf_of(page.text)},
            follow_redirects=True,
        )
        assert "Anh Minh vừa nhận cuộc trò chuyện này" in stale.text
        handoff = await world.storage.handoffs.current(cid)
        assert handoff is not None and handoff.claimed_by == "Anh Minh"
        took = await staff.post(  # the «Nhận thay Anh Minh» button confirms
            f"/admin/default/hop-thu/{cid}/nhan",
            data={"csrf": csrf_of(stale.text), "take_over": "Anh Minh"},
            follow_redirects=True,
        )
        assert "Bạn đã nhận thay Anh Minh" in took.text
    handoff = await world.storage.handoffs.current(cid)
    assert handoff is not None and handoff.claimed_by == "Chị Lan"


async def test_hand_back_transfer_and_internal_notes(world):
    cid = await world.citizen("/canbo")
    async with world.client() as staff:
        await login(staff, "lan")
        page = await staff.get(f"/admin/default/hop-thu/{cid}")
        token = csrf_of(page.text)
        noted = await staff.post(
            f"/admin/default/hop-thu/{cid}/ghi-chu",
            data={"csrf": token, "text": "Hồ sơ thiếu giấy xác nhận cư trú"},
            follow_redirects=True,
        )
        assert "Hồ sơ thiếu giấy xác nhận cư trú" in noted.text
        assert not any("xác nhận cư trú" in t for t in await world.drain())  # staff only
        moved = await staff.post(
            f"/admin/default/hop-thu/{cid}/chuyen",
            data={"csrf": token, "to": "minh"},
            follow_redirects=True,
        )
        assert "Đã chuyển cho Anh Minh" in moved.text
        handoff = await world.storage.handoffs.current(cid)
        assert handoff is not None and handoff.claimed_by == "Anh Minh"
        nobody = await staff.post(
            f"/admin/default/hop-thu/{cid}/chuyen",
            data={"csrf": token, "to": "xakhac"},  # not staff of this commune
            follow_redirects=True,
        )
        assert "Không tìm thấy đồng nghiệp" in nobody.text
        back = await staff.post(
            f"/admin/default/hop-thu/{cid}/tra-bot", data={"csrf": token}, follow_redirects=True
        )
        assert "Đã trả cuộc trò chuyện cho trợ lý tự động" in back.text
        conversation = await world.storage.conversations.find(cid)
        assert conversation is not None and conversation.state.mode == "bot"
    actions = [e.action for e in await world.accounts.audit()]
    assert {"note", "transfer", "hand_back"} <= set(actions)


async def test_empty_replies_and_unknown_conversations(world):
    cid = await world.citizen("/canbo")
    async with world.client() as staff:
        await login(staff, "lan")
        page = await staff.get(f"/admin/default/hop-thu/{cid}")
        token = csrf_of(page.text)
        empty = await staff.post(
            f"/admin/default/hop-thu/{cid}/tra-loi",
            data={"csrf": token, "text": "   "},
            follow_redirects=True,
        )
        assert "Nội dung trống" in empty.text
        assert (await staff.get("/admin/default/hop-thu/9999")).status_code == 404
        gone = await staff.post("/admin/default/hop-thu/9999/nhan", data={"csrf": token})
        assert gone.status_code == 404
