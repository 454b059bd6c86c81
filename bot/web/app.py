"""The staff console under /admin/: login, logout, the start page, the audit log, the inbox.

Other parts add their pages with `console_routes(..., extra=[...])`; every endpoint is either
`public` (login, static files) or guarded by `require(role)`, which tests check route by route.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.web.auth import (
    SESSION_COOKIE,
    AuthMiddleware,
    AuthService,
    cookie,
    current_user,
    public,
    require,
)
from bot.web.inbox import inbox_routes
from bot.web.inbox_backend import InboxBackend
from flows.ports import VN_TZ

HERE = Path(__file__).resolve().parent
ROLE_NAMES = {"staff": "Cán bộ một cửa", "editor": "Biên tập hướng dẫn", "admin": "Quản trị"}
ACTION_NAMES = {
    "login": "Đăng nhập",
    "logout": "Đăng xuất",
    "claim": "Nhận xử lý",
    "reply": "Trả lời người dân",
    "hand_back": "Trả lại cho trợ lý tự động",
    "close": "Kết thúc hỗ trợ",
    "note": "Ghi chú nội bộ",
    "transfer": "Chuyển cho đồng nghiệp",
}


def _local(moment: Any) -> str:
    return str(moment.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")) if moment else ""


def templates() -> Jinja2Templates:
    """One template set for every console page (other parts add their own folders)."""
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = _local
    env.globals["ROLE_NAMES"] = ROLE_NAMES
    env.globals["ACTION_NAMES"] = ACTION_NAMES
    return Jinja2Templates(env=env)


@dataclasses.dataclass
class WebConsole:
    auth: AuthService
    inbox: InboxBackend | None = None
    secure_cookies: bool = True
    live_poll_seconds: float = 2.0
    pages: Jinja2Templates = dataclasses.field(default_factory=templates)

    def middleware(self) -> Middleware:
        return Middleware(AuthMiddleware, auth=self.auth, secure_cookies=self.secure_cookies)


def _safe_next(target: str | None) -> str:
    """Only console pages: never an open redirect to another site."""
    if (
        target
        and target.startswith("/admin")
        and not target.startswith("//")
        and "\\" not in target
    ):
        return target
    return "/admin/"


def console_routes(console: WebConsole, extra: Sequence[BaseRoute] = ()) -> list[BaseRoute]:
    pages = console.pages
    auth = console.auth

    @public
    async def login_page(request: Request) -> Response:
        if current_user(request) is not None:
            return RedirectResponse(_safe_next(request.query_params.get("next")), 303)
        return pages.TemplateResponse(
            request, "login.html", {"next": _safe_next(request.query_params.get("next"))}
        )

    @public
    async def login(request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username") or "").strip()[:100]
        password = str(form.get("password") or "")[:1000]
        target = _safe_next(str(form.get("next") or ""))
        address = request.client.host if request.client else "-"
        outcome, token = await auth.login(username, password, address)
        if outcome == "ok" and token:
            response = RedirectResponse(target, status_code=303)
            response.headers.append(
                "set-cookie",
                cookie(SESSION_COOKIE, token, console.secure_cookies),
            )
            return response
        error = (
            "Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút."
            if outcome == "limited"
            else "Tên đăng nhập hoặc mật khẩu chưa đúng."
        )
        return pages.TemplateResponse(
            request,
            "login.html",
            {"next": target, "error": error, "username": username},
            status_code=429 if outcome == "limited" else 400,
        )

    @require(None)
    async def logout(request: Request) -> Response:
        user = current_user(request)
        token = getattr(request.state, "session_token", "")
        if user is not None and token:
            await auth.logout(token, user.username)
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @require(None)
    async def home(request: Request) -> Response:
        user = current_user(request)
        assert user is not None
        communes = user.communes
        if user.province_admin and not communes:
            communes = ["default"]
        if len(communes) == 1 and user.can(communes[0], "staff") and console.inbox is not None:
            return RedirectResponse(f"/admin/{communes[0]}/hop-thu", status_code=303)
        return pages.TemplateResponse(request, "home.html", {"communes": communes})

    @require("admin")
    async def audit_log(request: Request) -> Response:
        commune = request.path_params["commune"]
        entries = await auth.store.audit(300, commune)
        return pages.TemplateResponse(
            request, "audit.html", {"commune": commune, "entries": entries}
        )

    static = StaticFiles(directory=str(HERE / "static"))
    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/{commune}/nhat-ky", audit_log, methods=["GET"]),
        Mount("/static", app=static, name="console-static"),
    ]
    if console.inbox is not None:
        routes += inbox_routes(console.inbox, auth, pages, console.live_poll_seconds)
    return [Mount("/admin", routes=[*routes, *extra])]
