"""In a real Chromium: a staff member logs in, a handoff appears live, they claim and reply,
and the citizen receives the answer (from the durable outbox). Screenshots of every page."""

from __future__ import annotations

from pathlib import Path

from tests.browser import chromium_page, shot
from tests.loopback import LoopbackServer
from tests.web.console import PASSWORD, World


async def test_staff_sees_a_handoff_live_claims_and_replies(tmp_path: Path) -> None:
    async with (
        World(tmp_path / "db.sqlite3") as world,
        LoopbackServer(world.app) as server,
        chromium_page() as page,
    ):
        await page.goto(server.url + "/admin/")
        assert page.url.endswith("/admin/login?next=/admin/")
        await shot(page, "13a-login")
        await page.fill("#username", "lan")
        await page.fill("#password", "sai mật khẩu")
        await page.click("button.primary")
        await page.wait_for_selector(".error")
        await shot(page, "13a-login-error")
        await page.fill("#username", "lan")
        await page.fill("#password", PASSWORD)
        await page.click("button.primary")
        await page.wait_for_url("**/admin/default/hop-thu")
        await page.wait_for_selector("text=Hiện không có ai đang chờ cán bộ.")
        await shot(page, "13a-inbox-empty")

        await world.citizen("/canbo")  # the bot creates a handoff while the page is open
        await page.wait_for_selector("#queue >> text=Nguyễn Văn An")
        assert await page.text_content("#queue .tag") == "Đang chờ"
        await shot(page, "13a-inbox")

        await page.click("#queue >> text=Nguyễn Văn An")
        await page.wait_for_selector("#claim")
        await shot(page, "13a-conversation")
        await page.click("#claim")
        await page.wait_for_selector("text=Bạn đã nhận xử lý cuộc trò chuyện này.")
        await page.fill("#reply-text", "Chào anh, anh mang CCCD bản gốc đến bộ phận một cửa nhé.")
        await page.click("#send")
        await page.wait_for_selector("text=Đã gửi trả lời cho người dân.")
        await page.wait_for_selector(".line.staff")
        await shot(page, "13a-conversation-replied")

        delivered = await world.drain()
        assert any("Chị Lan" in text for text in delivered)
        assert any(text.startswith("Chào anh, anh mang CCCD bản gốc") for text in delivered), (
            delivered
        )

        await page.goto(server.url + "/admin/default/nhat-ky")
        assert "Bạn không có quyền" in (await page.content())  # staff: no audit log
        await page.goto(server.url + "/admin/default/hop-thu")
        await page.click("text=Đăng xuất")
        await page.wait_for_url("**/admin/login")
        await page.fill("#username", "quantri")
        await page.fill("#password", PASSWORD)
        await page.click("button.primary")
        await page.goto(server.url + "/admin/default/nhat-ky")
        await page.wait_for_selector("text=Trả lời người dân")
        await shot(page, "13a-audit")
