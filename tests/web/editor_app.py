"""The editor and dashboard on a test console app, with a test-only sign-in.

13a's real session middleware is not on this branch: `TestAuth` plays its contract (it sets
`request.state.user` and `request.state.csrf`, and refuses an /admin/ POST without the token),
taking the user from the `as` cookie. The production routes are used unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.auth import StaffUser
from bot.web.editor import EditorDeps, StoreEditorData, editor_routes, report_routes
from knowledge.loader import DEFAULT_DIR
from tests.flows.driver import Driver

STATIC = Path(__file__).resolve().parents[2] / "bot" / "web" / "static"
CSRF = "csrf-token-for-tests"
COMMUNE = "default"


USERS = {
    "lan": StaffUser("lan", "Chị Lan", roles={COMMUNE: {"editor", "staff"}}),
    "minh": StaffUser("minh", "Anh Minh", roles={COMMUNE: {"editor", "staff"}}),
    "hoa": StaffUser("hoa", "Chị Hoa", roles={COMMUNE: {"staff"}}),
}


class TestAuth:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = dict(
            part.strip().split("=", 1)
            for part in headers.get("cookie", "").split(";")
            if "=" in part
        )
        state = scope.setdefault("state", {})
        state["user"] = USERS.get(cookies.get("as", ""))
        state["csrf"] = CSRF
        if scope["method"] in ("POST", "PUT", "PATCH", "DELETE") and scope["path"].startswith(
            "/admin/"
        ):
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            given = (
                headers.get("x-csrf-token")
                or parse_qs(body.decode("utf-8", "replace")).get("csrf", [""])[0]
            )
            if given != CSRF:
                await send({"type": "http.response.start", "status": 403, "headers": []})
                await send({"type": "http.response.body", "body": b"csrf"})
                return
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if sent:
                    return await receive()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)


def copy_knowledge(tmp: Path) -> Path:
    root = tmp / "knowledge"
    shutil.copytree(DEFAULT_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def console_app(driver: Driver) -> Starlette:
    """The console as the lead mounts it: pages under /admin, static files under /admin/static."""
    data = StoreEditorData(lambda commune: driver.storage)
    holders = {COMMUNE: driver.holder}
    deps = EditorDeps(holders=holders.get, clock=driver.clock, data=data)
    admin = [
        *editor_routes(deps),
        *report_routes(holders.get, driver.clock, data),
        Mount("/static", app=StaticFiles(directory=str(STATIC))),
    ]
    return Starlette(routes=[Mount("/admin", routes=admin)], middleware=[Middleware(TestAuth)])
