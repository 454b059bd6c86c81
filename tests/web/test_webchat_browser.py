"""The widget in a real Chromium, embedded in a portal page served from another origin: a citizen
asks and gets a guide, presses a button, types a number, asks for a person and reads the staff
reply; the network drops mid-conversation (a message reaches the server but its answer is lost)
and after reconnecting nothing is lost or shown twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Page, Route
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route as HttpRoute

from bot.storage.files import SqliteStaffFiles
from flows.desk import DeskService
from tests.browser import chromium_page, shot
from tests.loopback import LoopbackServer
from tests.web.webrig import WebRig, web_rig

PORTAL = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cổng thông tin điện tử Phường Mẫu</title>
<style>body{{font:18px/1.5 Arial,sans-serif;margin:0;color:#1a1a1a}}
header{{background:#8a1c1c;color:#fff;padding:16px}}main{{padding:16px;max-width:50em}}</style>
</head><body><header><h1>Ủy ban nhân dân Phường Mẫu</h1></header>
<main><h2>Thủ tục hành chính</h2><p>Trang thông tin về các thủ tục hành chính của phường:
hộ tịch, chứng thực, cư trú, bảo trợ xã hội.</p><p>Giờ làm việc: thứ Hai đến thứ Sáu.</p></main>
<script src="{bot}/widget.js" data-title="Hỏi đáp thủ tục – Phường Mẫu" data-wait="2" async>
</script></body></html>"""


def portal(bot_url: str) -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(PORTAL.format(bot=bot_url))

    return Starlette(routes=[HttpRoute("/", page)])


async def bot_texts(page: Page) -> list[str]:
    return [t.strip() for t in await page.locator(".tt-log .tt-bot").all_text_contents()]


async def my_texts(page: Page) -> list[str]:
    return [t.strip() for t in await page.locator(".tt-log .tt-me").all_text_contents()]


async def ask(page: Page, text: str) -> None:
    await page.fill(".tt-input", text)
    await page.press(".tt-input", "Enter")


async def wait_bot(page: Page, count: int) -> None:
    """Until more than `count` bot bubbles are shown."""
    await page.wait_for_function(
        f"document.querySelectorAll('.tt-log .tt-bot').length > {count}", timeout=15_000
    )


async def conversation_id(rig: WebRig) -> int:
    rows = await rig.storage.database.read("SELECT id FROM conversations WHERE channel = 'web'")
    assert len(rows) == 1
    return int(rows[0][0])


async def test_a_citizen_talks_to_the_bot_and_to_staff_through_a_network_drop(
    tmp_path: Path,
) -> None:
    async with (
        web_rig(tmp_path, background=True) as rig,
        LoopbackServer(portal(rig.url)) as site,
        chromium_page(mobile=True) as page,
    ):
        await page.goto(site.url + "/")
        await page.wait_for_selector(".tt-open")
        await shot(page, "13b-portal-mobile")
        await page.click(".tt-open")
        assert await page.is_visible(".tt-note")
        assert "trợ lý tự động" in (await page.text_content(".tt-note") or "")
        href = await page.get_attribute(".tt-note a", "href")
        assert href == rig.url + "/chat/privacy"

        # a question gets the guide, with the assistant saying what it is
        await ask(page, "làm giấy khai sinh cho con")
        await wait_bot(page, 1)
        said = " ".join(await bot_texts(page))
        assert "khai sinh" in said.lower() and "trợ lý tự động" in said
        await shot(page, "13b-widget-mobile-answer")

        # a button press
        choices = page.locator(".tt-choice")
        assert await choices.count() >= 2
        label = (await choices.first.text_content() or "").strip()
        before = len(await bot_texts(page))
        await choices.first.click()
        await wait_bot(page, before)
        assert label.split(". ", 1)[-1] in " ".join(await my_texts(page))

        # a typed number chooses like the button with that number
        before = len(await bot_texts(page))
        await ask(page, "1")
        await wait_bot(page, before)
        await shot(page, "13b-widget-mobile-choices")

        # a person: the desk hears of it, and the staff answer appears in the widget
        before = len(await bot_texts(page))
        await ask(page, "/canbo")
        await wait_bot(page, before)
        for _ in range(100):
            if any(n.kind == "handoff" for n in rig.desk.notices):
                break
            await asyncio.sleep(0.05)
        assert any(n.kind == "handoff" for n in rig.desk.notices)
        cid = await conversation_id(rig)
        assert await rig.engine.staff_action("Chị Lan", cid, "claim")
        assert await rig.engine.staff_reply(
            "Chị Lan", cid, "Chào bạn, tôi là Lan ở bộ phận một cửa."
        )
        await page.wait_for_selector("text=tôi là Lan ở bộ phận một cửa", timeout=15_000)
        await shot(page, "13b-widget-mobile-staff")

        # the network drops: the next message reaches the server but its answer is lost, polls
        # fail; meanwhile staff write again
        passed: list[str] = []

        async def outage(route: Route) -> None:
            if "/chat/api/send" in route.request.url and not passed:
                passed.append(route.request.url)
                await route.fetch()  # the server stores it; the browser never hears back
            await route.abort()

        await page.route("**/chat/api/**", outage)
        await ask(page, "cần mang theo giấy tờ gì ạ")
        await page.wait_for_selector(".tt-status", state="visible", timeout=15_000)
        assert passed, "the message reached the server"
        assert await rig.engine.staff_reply("Chị Lan", cid, "Bạn mang căn cước và giấy chứng sinh.")
        await asyncio.sleep(2.5)  # the long poll that was open when the network dropped ends
        await shot(page, "13b-widget-mobile-offline")
        await page.unroute("**/chat/api/**")
        await page.wait_for_selector("text=mang căn cước và giấy chứng sinh", timeout=20_000)
        await page.wait_for_selector(".tt-status", state="hidden", timeout=20_000)
        await page.wait_for_function(
            "!document.querySelector('.tt-log [data-pending]')", timeout=20_000
        )

        mine, bots = await my_texts(page), await bot_texts(page)
        assert mine.count("cần mang theo giấy tờ gì ạ") == 1
        assert sum("mang căn cước và giấy chứng sinh" in t for t in bots) == 1
        rows = await rig.storage.database.read(
            "SELECT count(*) FROM web_chat_lines WHERE text = 'cần mang theo giấy tờ gì ạ'"
        )
        assert rows[0][0] == 1
        seqs = await page.eval_on_selector_all(
            ".tt-log [data-seq]", "nodes => nodes.map(function (n) { return +n.dataset.seq; })"
        )
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))

        # a reload shows the same conversation, each line once
        await page.reload()
        await page.click(".tt-open")
        await page.wait_for_function(
            f"document.querySelectorAll('.tt-log [data-seq]').length >= {len(seqs)}",
            timeout=15_000,
        )
        again = await page.eval_on_selector_all(
            ".tt-log [data-seq]", "nodes => nodes.map(function (n) { return +n.dataset.seq; })"
        )
        assert again == seqs


async def test_the_widget_on_a_desktop_screen(tmp_path: Path) -> None:
    async with (
        web_rig(tmp_path, background=True) as rig,
        LoopbackServer(portal(rig.url)) as site,
        chromium_page() as page,
    ):
        await page.goto(site.url + "/")
        await page.wait_for_selector(".tt-open")
        await shot(page, "13b-portal-desktop")
        await page.keyboard.press("Tab")  # the button is reachable by keyboard
        await page.focus(".tt-open")
        await page.keyboard.press("Enter")
        await page.wait_for_selector(".tt-panel.tt-shown")
        await ask(page, "chứng thực bản sao bao nhiêu tiền")
        await wait_bot(page, 1)
        await shot(page, "13b-widget-desktop")
        await page.keyboard.press("Escape")
        assert not await page.is_visible(".tt-panel")


async def test_a_file_from_staff_is_a_link_that_downloads_the_same_bytes(tmp_path: Path) -> None:
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 8
    async with (
        web_rig(tmp_path, background=True) as rig,
        LoopbackServer(portal(rig.url)) as site,
        chromium_page() as page,
    ):
        await page.goto(site.url + "/")
        await page.click(".tt-open")
        await ask(page, "/canbo")
        await wait_bot(page, 1)
        cid = await conversation_id(rig)
        file_id = await SqliteStaffFiles(rig.storage).put(
            cid, "tờ khai.pdf", "application/pdf", pdf, rig.clock.now()
        )
        assert file_id is not None
        assert await DeskService(rig.engine, rig.storage).send_file(
            "Chị Lan", cid, file_id, "tờ khai.pdf"
        )
        link = page.locator(".tt-log a.tt-file")
        await link.wait_for(timeout=15_000)
        assert "tờ khai.pdf" in (await link.text_content() or "")
        await shot(page, "13f-widget-file")
        async with page.expect_download() as download_info:
            await link.click()
        download = await download_info.value
        assert download.suggested_filename == "tờ khai.pdf"
        saved = tmp_path / "downloaded.pdf"
        await download.save_as(saved)
        assert saved.read_bytes() == pdf
