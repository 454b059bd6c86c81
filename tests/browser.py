"""A real headless Chromium for browser tests, driven by Playwright.

The browser is Debian's `chromium` package (`make test` installs it when missing, see
scripts/ensure-chromium); Playwright never downloads one. Screenshots that tests take with
`shot()` land in `artifacts/screenshots/` (git-ignored) so a person can look at every page.

    async with chromium_page() as page:
        await page.goto(f"{server.url}/admin/")
        await shot(page, "login")
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Page, async_playwright

SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Debian's Chromium; a clear failure (not a skip) when it is missing, so CI cannot pass
    without running the browser tests."""
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        raise RuntimeError("Chromium not found: run scripts/ensure-chromium (make test does)")
    return found


@contextlib.asynccontextmanager
async def chromium_page(
    *, width: int = 1280, height: int = 900, mobile: bool = False
) -> AsyncIterator[Page]:
    """A fresh browser and page; `mobile` gives a small touch screen like an old Android phone."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=FLAGS)
        try:
            if mobile:
                context = await browser.new_context(
                    viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True
                )
            else:
                context = await browser.new_context(viewport={"width": width, "height": height})
            page = await context.new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            await browser.close()


async def shot(page: Page, name: str, full_page: bool = True) -> Path:
    """Save a screenshot as artifacts/screenshots/<name>.png: the whole page, or with
    `full_page=False` what the window shows (a long form's part a person looks at)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path
