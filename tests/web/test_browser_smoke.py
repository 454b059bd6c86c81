"""The browser harness itself: Chromium renders a loopback page and a click changes it."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.browser import chromium_page, shot
from tests.loopback import LoopbackServer

PAGE = """<!doctype html><html lang="vi"><body>
<button id="b" onclick="document.getElementById('o').textContent='Đã bấm'">Bấm</button>
<p id="o">Chưa bấm</p></body></html>"""


async def test_chromium_clicks_a_button_on_a_loopback_page() -> None:
    app = Starlette(routes=[Route("/", lambda request: HTMLResponse(PAGE))])
    async with LoopbackServer(app) as server, chromium_page(mobile=True) as page:
        await page.goto(server.url + "/")
        assert await page.text_content("#o") == "Chưa bấm"
        await page.click("#b")
        assert await page.text_content("#o") == "Đã bấm"
        assert (await shot(page, "harness")).stat().st_size > 0
