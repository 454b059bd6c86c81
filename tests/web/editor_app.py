"""The editor and dashboard on the console app as production wires it: the real session
middleware, accounts in the same SQLite database, and sign-in through the real login form
(`signed_in`), so what the tests exercise is the production auth, CSRF included.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from starlette.applications import Starlette

from bot.http import build_http_app
from bot.storage.accounts import AccountExistsError, SqliteAccountStore
from bot.web.app import WebConsole, console_routes
from bot.web.auth import AuthService, LoginLimiter, Role
from bot.web.editor import EditorDeps, StoreEditorData, editor_routes, report_routes
from knowledge.loader import DEFAULT_DIR
from tests.flows.driver import Driver
from tests.web.console import FAST, PASSWORD, csrf_of, login

COMMUNE = "default"

USERS: dict[str, tuple[str, set[Role]]] = {
    "lan": ("Chị Lan", {"editor", "staff"}),
    "minh": ("Anh Minh", {"editor", "staff"}),
    "hoa": ("Chị Hoa", {"staff"}),
}


def copy_knowledge(tmp: Path) -> Path:
    root = tmp / "knowledge"
    shutil.copytree(DEFAULT_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


async def console_app(driver: Driver) -> Starlette:
    """The console as bot/app.py mounts it, with the editor and dashboard pages, and the test
    accounts (lan, minh: editors; hoa: staff) created once per database."""
    auth = AuthService(
        SqliteAccountStore(driver.storage), driver.clock, LoginLimiter(driver.clock), hasher=FAST
    )
    for username, (name, roles) in USERS.items():
        with contextlib.suppress(AccountExistsError):
            await auth.create_account(username, PASSWORD, name, roles={COMMUNE: roles})
    data = StoreEditorData(lambda commune: driver.storage)
    holders = {COMMUNE: driver.holder}
    deps = EditorDeps(holders=holders.get, clock=driver.clock, data=data)
    pages = [*editor_routes(deps), *report_routes(holders.get, driver.clock, data)]
    console = WebConsole(auth, secure_cookies=False)
    return build_http_app(console_routes(console, pages), middleware=[console.middleware()])


@contextlib.asynccontextmanager
async def signed_in(driver: Driver, user: str | None) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client on the console, signed in as `user` through the login form (or
    a visitor without a session when None)."""
    app = await console_app(driver)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console.test"
    ) as http:
        if user is not None:
            answer = await login(http, user)
            assert answer.status_code == 303, answer.text
        yield http


async def token(http: httpx.AsyncClient) -> str:
    """The CSRF token of the client's session (or visitor cookie), as a page's forms carry it."""
    return csrf_of((await http.get("/admin/login", follow_redirects=True)).text)
