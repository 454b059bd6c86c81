"""The guide editor in a real Chromium: an editor changes a fee, the preview shows it, another
editor publishes it and the bot answers with it without a restart; a wrong edit shows its error
on the field and changes nothing. Every page is saved as a screenshot (13c-<page>)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser import chromium_page, shot
from tests.flows.driver import Driver, texts, to_citizen
from tests.loopback import LoopbackServer
from tests.web.console import PASSWORD
from tests.web.editor_app import COMMUNE, console_app, copy_knowledge
from tests.web.test_editor_pages import FILE, REL, fee_index

SLOW = 30_000  # ms: the machine running the suite may be busy


async def sign_in(page: Page, url: str, user: str) -> None:
    """Through the real login form, as a person would."""
    await page.context.clear_cookies()
    await page.goto(f"{url}/admin/login")
    await page.fill("#username", user)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(lambda target: "/admin/login" not in target)


async def test_an_editor_changes_a_fee_and_a_reviewer_publishes_it(tmp_path: Path) -> None:
    root = copy_knowledge(tmp_path)
    index = fee_index(root)
    amount = f"#f-fees-{index}-amount"
    async with (
        Driver(tmp_path / "bot.sqlite3", knowledge=root) as driver,
        chromium_page() as page,
        contextlib.AsyncExitStack() as stack,
    ):
        server = await stack.enter_async_context(LoopbackServer(await console_app(driver)))
        page.set_default_timeout(SLOW)
        await driver.say("con mèo nhà tôi bị lạc thì báo ai")
        before = texts(to_citizen(await driver.say("lệ phí trích lục hộ tịch bao nhiêu")))
        assert "8.000" in before

        await sign_in(page, server.url, "lan")
        await page.goto(f"{server.url}/admin/{COMMUNE}/huong-dan")
        await expect(
            page.get_by_role("heading", name="Câu hỏi bot chưa trả lời được (30 ngày qua)")
        ).to_be_visible()
        await shot(page, "13c-list")
        await page.click(f'a[href$="/huong-dan/sua/{FILE}"]')
        await expect(page.locator(amount)).to_have_value("8000")
        await shot(page, "13c-edit")

        # A wrong edit: the message is on the field, nothing changes on disk.
        on_disk = (root / REL).read_text(encoding="utf-8")
        await page.fill(amount, "8.000 đồng")
        await page.get_by_role("button", name="Lưu bản nháp").click()
        await expect(page.locator(amount)).to_have_attribute("aria-invalid", "true")
        await expect(page.locator(f"#f-fees-{index}-amount-loi")).to_contain_text("số nguyên")
        # in words an editor reads, not the YAML path of the field they are looking at
        await expect(page.locator(f"#f-fees-{index}-amount-loi")).not_to_contain_text("fees[")
        await page.locator(amount).scroll_into_view_if_needed()
        await shot(page, "13c-error")
        await page.locator(amount).evaluate("e => e.scrollIntoView({block: 'center'})")
        await shot(page, "13c-error-field", full_page=False)  # the message next to the field
        assert (root / REL).read_text(encoding="utf-8") == on_disk
        assert not (root / ".editor" / "drafts").exists() or not list(
            (root / ".editor" / "drafts").iterdir()
        )

        # The right edit: the preview shows it as Telegram and Zalo would.
        await page.fill(amount, "9000")
        await expect(page.locator(f"#f-fees-{index}-amount-loi")).to_be_hidden()  # out of date
        await page.get_by_role("button", name="Xem trước").click()
        preview = page.locator("#xem-truoc")
        await expect(preview.locator("[data-kenh=Telegram]")).to_contain_text("9.000")
        await expect(preview.locator("[data-kenh=Zalo]")).to_contain_text("9.000")
        await shot(page, "13c-preview")
        await preview.evaluate("e => e.scrollIntoView({block: 'start'})")
        await shot(page, "13c-preview-panel", full_page=False)
        await page.get_by_role("button", name="Lưu bản nháp").click()
        await expect(page.get_by_role("status")).to_contain_text("Đã lưu bản nháp")
        await page.get_by_role("button", name="Gửi duyệt").click()
        await expect(page.get_by_role("status")).to_contain_text("Đã gửi duyệt")
        await expect(page.get_by_role("button", name="Duyệt và đăng")).to_have_count(0)
        assert "amount: 8000" in (root / REL).read_text(encoding="utf-8")

        # Another editor reviews and publishes.
        await sign_in(page, server.url, "minh")
        await page.goto(f"{server.url}/admin/{COMMUNE}/huong-dan/sua/{FILE}")
        await page.get_by_role("button", name="Duyệt và đăng").click()
        await expect(page.locator("#trang-thai")).to_contain_text("Đã duyệt: minh")
        await shot(page, "13c-published")
        assert "amount: 9000" in (root / REL).read_text(encoding="utf-8")

        after = await driver.say("lệ phí trích lục hộ tịch bao nhiêu", user="u2")
        answered = texts(to_citizen(after, user="u2"))
        assert "9.000" in answered and "8.000" not in answered

        await page.get_by_role("link", name="Lịch sử thay đổi").click()
        await expect(page.locator("pre.diff")).to_contain_text("amount: 9000")
        await shot(page, "13c-history")

        await page.goto(f"{server.url}/admin/{COMMUNE}/bao-cao?tu=2026-11-01&den=2026-12-01")
        await expect(page.get_by_role("heading", name="Báo cáo phục vụ người dân")).to_be_visible()
        await page.wait_for_function(
            "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
        )
        await shot(page, "13c-report")
