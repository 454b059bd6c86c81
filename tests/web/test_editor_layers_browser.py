"""The province editor in a real Chromium: a commune's editor sees where each guide comes from,
makes the commune's own copy of a provincial guide with «Tạo bản riêng cho xã», edits it,
and a second editor publishes it; the bot serves the copy and the province file stays
byte-identical. Screenshots: 12w-<page>."""

from __future__ import annotations

import contextlib
from pathlib import Path

from playwright.async_api import expect

from bot.storage import MemoryStorage
from flows.ports import Event
from tests.browser import chromium_page, shot
from tests.editing.test_province_edits import Province
from tests.loopback import LoopbackServer
from tests.web.test_editor_browser import SLOW, sign_in
from tests.web.test_editor_layers import BASE, SHARED, SHARED_TITLE, console

NEW_TITLE = f"{SHARED_TITLE} tại phường An Khánh"
QUESTION = "đăng ký kết hôn ở phường An Khánh cần gì"


async def test_a_commune_editor_copies_a_provincial_guide_and_edits_the_copy(
    tmp_path: Path,
) -> None:
    province = Province(tmp_path)
    before = province.province_files()
    async with chromium_page() as page, contextlib.AsyncExitStack() as stack:
        server = await stack.enter_async_context(LoopbackServer(await console(province)))
        page.set_default_timeout(SLOW)
        await sign_in(page, server.url, "lan")
        await page.goto(f"{server.url}{BASE}")
        row = page.locator("tr", has=page.locator(f'a[href="{BASE}/sua/{SHARED}"]'))
        await expect(row.locator("[data-nguon]")).to_have_text("Tỉnh")
        own_row = page.locator("tr", has=page.locator(f'a[href="{BASE}/rieng/sua/khai-sinh"]'))
        await expect(own_row.locator("[data-nguon]")).to_have_text("Riêng của xã")
        await row.locator("[data-nguon]").scroll_into_view_if_needed()
        await shot(page, "12w-list-layers", full_page=False)

        await page.click(f'a[href="{BASE}/sua/{SHARED}"]')
        await expect(page.locator("#ban-rieng")).to_contain_text("hướng dẫn chung của tỉnh")
        await expect(page.locator("#bieu-mau")).to_have_count(0)  # nothing to save here
        await shot(page, "12w-provincial-offer")
        await page.get_by_role("button", name="Tạo bản riêng cho xã").click()
        await page.wait_for_url(f"**{BASE}/rieng/sua/{SHARED}**")
        await expect(page.get_by_role("status")).to_contain_text("Đã tạo bản riêng")
        await expect(page.locator("#nguon")).to_have_text("Riêng của xã")
        await expect(page.locator("#trang-thai")).not_to_contain_text("Đã duyệt")  # a copy
        await shot(page, "12w-own-copy", full_page=False)

        await page.fill("#f-title", NEW_TITLE)
        await page.get_by_role("button", name="Lưu bản nháp").click()
        await expect(page.get_by_role("status")).to_contain_text("Đã lưu bản nháp")
        await page.get_by_role("button", name="Gửi duyệt").click()
        await expect(page.get_by_role("status")).to_contain_text("Đã gửi duyệt")

        await sign_in(page, server.url, "minh")
        await page.goto(f"{server.url}{BASE}/rieng/sua/{SHARED}")
        await page.get_by_role("button", name="Duyệt và đăng").click()
        await expect(page.locator("#trang-thai")).to_contain_text("Đã duyệt: minh")
        await shot(page, "12w-own-published", full_page=False)
        await page.goto(f"{server.url}{BASE}")
        copied = page.locator("tr", has=page.locator(f'a[href="{BASE}/rieng/sua/{SHARED}"]'))
        await expect(copied.locator("[data-nguon]")).to_have_text("Riêng của xã")
        await expect(copied.locator("a")).to_have_text(NEW_TITLE)

    assert province.province_files() == before
    guide = province.holder.current().guide("ket-hon")
    assert guide is not None and guide.title == NEW_TITLE


async def test_a_commune_editor_adds_a_question_to_a_provincial_guide(tmp_path: Path) -> None:
    """«Thêm câu này» on a question the bot could not answer, for a provincial guide: the page
    says beforehand what will happen, the guide becomes the commune's own copy with the
    question in it, and no province file changes. Screenshot: 12v-add-question."""
    province = Province(tmp_path)
    before = province.province_files()
    storage = MemoryStorage()
    await storage.events.log(
        None, Event(kind="fallback", at=province.clock.now(), data={"query": QUESTION})
    )
    async with chromium_page() as page, contextlib.AsyncExitStack() as stack:
        server = await stack.enter_async_context(LoopbackServer(await console(province, storage)))
        page.set_default_timeout(SLOW)
        await sign_in(page, server.url, "lan")
        await page.goto(f"{server.url}{BASE}")
        await expect(page.locator("#them-cau-tinh")).to_contain_text("tạo bản riêng của xã")
        row = page.locator("tr", has_text=QUESTION)
        await row.get_by_label("Thủ tục").select_option(label=SHARED_TITLE)
        await row.get_by_role("button", name="Thêm câu này").click()
        await expect(page.get_by_role("status")).to_contain_text("đã tạo bản riêng")
        await expect(page.get_by_role("status")).to_contain_text(QUESTION)
        own = page.locator("tr", has=page.locator(f'a[href="{BASE}/rieng/sua/{SHARED}"]'))
        await expect(own.locator("[data-nguon]")).to_have_text("Riêng của xã")
        await shot(page, "12v-add-question", full_page=False)
    assert province.province_files() == before
    guide = province.holder.current().guide("ket-hon")
    assert guide is not None and QUESTION in guide.phrases
