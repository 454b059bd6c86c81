"""Staff send a file from the web inbox: a web-chat citizen downloads it (only their own
session), a Telegram citizen gets the document, a Zalo citizen's page says why not, and a
refused file is explained on the page with nothing stored or queued."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from bot.http import build_http_app
from bot.storage.accounts import SqliteAccountStore
from bot.storage.files import SqliteStaffFiles
from bot.web.app import WebConsole, console_routes
from bot.web.auth import AuthService, LoginLimiter
from bot.web.inbox_backend import FlowsInbox
from flows.models import ConversationKey, Inbound
from knowledge.holder import LibraryHolder
from knowledge.loader import DEFAULT_DIR
from tests.web.console import FAST, PASSWORD, csrf_of, login
from tests.web.webrig import WebRig, web_rig

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


@asynccontextmanager
async def console_over(rig: WebRig) -> AsyncIterator[httpx.AsyncClient]:
    holder = LibraryHolder(DEFAULT_DIR, lambda: rig.clock.now().date())
    holder.load()
    accounts = SqliteAccountStore(rig.storage)
    auth = AuthService(accounts, rig.clock, LoginLimiter(rig.clock), hasher=FAST)
    await auth.create_account("lan", PASSWORD, "Chị Lan", roles={"default": {"staff"}})
    inbox = FlowsInbox(
        rig.engine,
        rig.storage,
        accounts,
        holder.current,
        rig.clock,
        SqliteStaffFiles(rig.storage),
    )
    console = WebConsole(auth, inbox, secure_cookies=False, live_poll_seconds=0.05)
    app = build_http_app(console_routes(console), middleware=[console.middleware()])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        await login(client, "lan")
        yield client


async def upload(
    staff: httpx.AsyncClient, cid: int, name: str, data: bytes, mime: str = "application/pdf"
) -> httpx.Response:
    page = await staff.get(f"/admin/default/hop-thu/{cid}")
    return await staff.post(
        f"/admin/default/hop-thu/{cid}/gui-tep",
        data={"csrf": csrf_of(page.text)},
        files={"file": (name, data, mime)},
        follow_redirects=True,
    )


async def web_handoff(rig: WebRig) -> tuple[str, int]:
    session = await rig.session()
    await rig.send(session, "h1", text="/canbo")
    await rig.settle()
    conversation = await rig.storage.conversations.by_key(rig.key(session))
    assert conversation is not None
    return session, conversation.id


async def test_a_pdf_reaches_the_web_citizen_who_alone_can_download_it(tmp_path: Path) -> None:
    async with web_rig(tmp_path) as rig, console_over(rig) as staff:
        session, cid = await web_handoff(rig)
        page = await staff.get(f"/admin/default/hop-thu/{cid}")
        assert 'for="reply-file"' in page.text and 'enctype="multipart/form-data"' in page.text
        sent = await upload(staff, cid, "tờ-khai.pdf", PDF)
        assert "Đã gửi tệp cho người dân." in sent.text
        assert "📎 tờ-khai.pdf" in sent.text  # in the transcript
        await rig.settle()
        lines = (await rig.lines(session))["messages"]
        shown = [m for m in lines if m.get("file")]
        assert len(shown) == 1 and shown[0]["text"] == "📎 tờ-khai.pdf"
        assert shown[0]["buttons"] == []  # a link, not a choice
        file_id = shown[0]["file"]["id"]
        url = f"{rig.url}/chat/api/file/{file_id}"
        got = await rig.http.get(url, params={"session": session})
        assert got.status_code == 200 and got.content == PDF
        assert got.headers["content-type"] == "application/pdf"
        assert "attachment" in got.headers["content-disposition"]

        stranger = await rig.session()
        await rig.send(stranger, "x1", text="xin chào")
        await rig.settle()
        assert (await rig.http.get(url, params={"session": stranger})).status_code == 404
        assert (await rig.http.get(url)).status_code == 404
        missing = await rig.http.get(f"{url}9", params={"session": session})
        assert missing.status_code == 404


async def test_a_wrong_or_too_large_file_is_refused_and_nothing_is_queued(tmp_path: Path) -> None:
    async with web_rig(tmp_path) as rig, console_over(rig) as staff:
        session, cid = await web_handoff(rig)
        before = (await rig.lines(session))["last"]
        cases = [
            ("chuong-trinh.exe", b"MZ\x90\x00", "chỉ nhận tệp PDF"),
            ("gia-pdf.pdf", b"MZ\x90\x00 not a pdf", "nội dung tệp không đúng với đuôi «.pdf»"),
            ("anh.png", b"\xff\xd8\xff\xe0 jpeg bytes", "nội dung tệp không đúng"),
            ("lon.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "tệp lớn hơn 10 MB"),
        ]
        for name, data, message in cases:
            refused = await upload(staff, cid, name, data)
            assert refused.status_code == 422, name
            assert message in refused.text, name
            assert await rig.storage.outbox.pending() == 0, name
        await rig.settle()
        assert (await rig.lines(session, after=before))["messages"] == []
        assert await SqliteStaffFiles(rig.storage).get(1) is None  # nothing stored


async def test_erasing_the_conversation_deletes_its_files(tmp_path: Path) -> None:
    async with web_rig(tmp_path) as rig, console_over(rig) as staff:
        session, cid = await web_handoff(rig)
        await upload(staff, cid, "don.pdf", PDF)
        await rig.settle()
        line = next(m for m in (await rig.lines(session))["messages"] if m.get("file"))
        file_id = line["file"]["id"]
        await rig.send(session, "m2", text="/xoadulieu")
        await rig.settle()
        confirm = (await rig.lines(session))["messages"][-1]["buttons"]
        yes = next(b for b in confirm if b["data"] == "del:y")
        await rig.send(session, "m3", button=yes["data"], label=yes["label"])
        await rig.settle()
        assert await SqliteStaffFiles(rig.storage).get(file_id) is None
        rows = await rig.storage.database.read("SELECT count(*) FROM staff_files")
        assert rows[0][0] == 0
        url = f"{rig.url}/chat/api/file/{file_id}"
        assert (await rig.http.get(url, params={"session": session})).status_code == 404


async def test_a_zalo_citizen_cannot_get_a_file_and_the_page_says_so(tmp_path: Path) -> None:
    async with web_rig(tmp_path) as rig, console_over(rig) as staff:
        key = ConversationKey(channel="zalo", user_id="z1")
        await rig.engine.handle(Inbound(key=key, text="/canbo", display_name="Trần Thị Bình"))
        conversation = await rig.storage.conversations.by_key(key)
        queued = await rig.storage.outbox.pending()
        assert conversation is not None
        page = await staff.get(f"/admin/default/hop-thu/{conversation.id}")
        assert "Zalo: chưa gửi được tệp qua trợ lý" in page.text
        assert 'id="reply-file"' not in page.text
        forced = await upload(staff, conversation.id, "don.pdf", PDF)  # an old page
        assert "Zalo: chưa gửi được tệp qua trợ lý, hãy gửi đường dẫn hoặc nội dung" in forced.text
        assert await rig.storage.outbox.pending() == queued
        assert await SqliteStaffFiles(rig.storage).get(1) is None
