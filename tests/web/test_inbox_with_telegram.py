"""The web inbox and the Telegram desk on one engine and database: a claim made at one desk
shows at the other (the real Telegram channel against the fake Bot API, the real console)."""

from __future__ import annotations

import httpx

from bot.http import build_http_app
from bot.storage.accounts import SqliteAccountStore
from bot.storage.files import SqliteStaffFiles
from bot.web.app import WebConsole, console_routes
from bot.web.auth import AuthService, LoginLimiter
from bot.web.inbox_backend import FlowsInbox
from knowledge.holder import LibraryHolder
from knowledge.loader import DEFAULT_DIR
from tests.telegram.conftest import CITIZEN, STAFF_CHAT, STAFF_USER, TelegramRig, rig  # noqa: F401
from tests.telegram.fakewire import Upload
from tests.telegram.test_channel import buttons, handoff, wait_citizen
from tests.web.console import FAST, PASSWORD, csrf_of, login


async def console_on(rig: TelegramRig) -> httpx.AsyncClient:  # noqa: F811
    holder = LibraryHolder(DEFAULT_DIR, lambda: rig.clock.now().date())
    holder.load()
    accounts = SqliteAccountStore(rig.storage)
    auth = AuthService(accounts, rig.clock, LoginLimiter(rig.clock), hasher=FAST)
    await auth.create_account("minh", PASSWORD, "Anh Minh", roles={"default": {"staff"}})
    files = SqliteStaffFiles(rig.storage)
    rig.channel.outbox.files = files  # as the bootstrap wires it
    inbox = FlowsInbox(rig.engine, rig.storage, accounts, holder.current, rig.clock, files)
    console = WebConsole(auth, inbox, secure_cookies=False, live_poll_seconds=0.05)
    app = build_http_app(console_routes(console), middleware=[console.middleware()])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


def topic_texts(rig: TelegramRig, thread: int) -> list[str]:  # noqa: F811
    """What the Telegram desk shows: messages in the topic and edited staff messages."""
    return [
        str(c.params.get("text", ""))
        for method in ("sendMessage", "editMessageText")
        for c in rig.api.calls_to(method)
        if c.ok
        and (
            c.params.get("message_thread_id") == thread
            or (method == "editMessageText" and int(c.params["chat_id"]) == STAFF_CHAT)
        )
    ]


async def test_a_claim_on_the_web_shows_in_telegram_and_back(rig: TelegramRig) -> None:  # noqa: F811
    thread = await handoff(rig)
    header = rig.staff_calls()[0]
    cid = (await rig.storage.handoffs.queue())[0].conversation_id
    async with await console_on(rig) as web:
        await login(web, "minh")
        queue = await web.get("/admin/default/hop-thu")
        assert f"/admin/default/hop-thu/{cid}" in queue.text  # the handoff is in both desks
        page = await web.get(f"/admin/default/hop-thu/{cid}")
        claimed = await web.post(
            f"/admin/default/hop-thu/{cid}/nhan",
            data={"csrf": csrf_of(page.text)},
            follow_redirects=True,
        )
        assert "Bạn đã nhận xử lý" in claimed.text
        told = await wait_citizen(rig, 3)
        assert "Anh Minh đã nhận hỗ trợ bạn" in told[2].params["text"]
        await rig.settle()
        assert any("Anh Minh" in text for text in topic_texts(rig, thread))  # seen in Telegram

        # Chị Lan takes it over from the Telegram topic: the web page shows her as the holder.
        claim = next(data for label, data in buttons(header) if label == "Nhận xử lý")
        rig.api.push_group_callback(
            STAFF_CHAT, thread, STAFF_USER, claim, header.result["message_id"]
        )
        await wait_citizen(rig, 4)
        page = await web.get(f"/admin/default/hop-thu/{cid}")
        assert "Chị Lan đang xử lý cuộc trò chuyện này" in page.text
        assert "Nhận thay Chị Lan" in page.text


async def test_a_file_sent_from_the_web_reaches_the_telegram_citizen(rig: TelegramRig) -> None:  # noqa: F811
    await handoff(rig)
    cid = (await rig.storage.handoffs.queue())[0].conversation_id
    pdf = b"%PDF-1.7\n" + b"x" * 5000
    async with await console_on(rig) as web:
        await login(web, "minh")
        page = await web.get(f"/admin/default/hop-thu/{cid}")
        sent = await web.post(
            f"/admin/default/hop-thu/{cid}/gui-tep",
            data={"csrf": csrf_of(page.text)},
            files={"file": ("mẫu đơn.pdf", pdf, "application/pdf")},
            follow_redirects=True,
        )
        assert "Đã gửi tệp cho người dân." in sent.text
        [call] = await rig.api.wait_for(
            "sendDocument", predicate=lambda c: c.ok and int(c.params["chat_id"]) == CITIZEN
        )
        document = call.params["document"]
        assert isinstance(document, Upload)
        assert document.data == pdf and document.filename == "mẫu đơn.pdf"
        await rig.settle()
        assert await rig.storage.outbox.pending() == 0
