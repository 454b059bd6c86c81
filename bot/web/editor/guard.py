"""Who may open the editor and dashboard pages.

Codes against the console's auth contract: a middleware puts `request.state.user` (with
`can(commune, role)`) and `request.state.csrf` on every request and refuses POSTs without the
token. This guard has the same behaviour as `bot.web.auth.require`, which the console provides;
at merge either may stand for the other.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

Role = Literal["staff", "editor", "admin"]
Endpoint = Callable[[Request], Awaitable[Response]]


class Person(Protocol):
    username: str
    display_name: str

    def can(self, commune: str, role: Any) -> bool: ...


def user_of(request: Request) -> Person | None:
    return getattr(request.state, "user", None)


def require(role: Role) -> Callable[[Endpoint], Endpoint]:
    """No session: to the login page. A session without `role` in this commune: 403."""

    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            user = user_of(request)
            if user is None:
                target = quote(
                    request.url.path + (f"?{request.url.query}" if request.url.query else "")
                )
                return RedirectResponse(f"/admin/login?next={target}", status_code=303)
            commune = str(request.path_params.get("commune", ""))
            if not user.can(commune, role):
                return PlainTextResponse("Bạn không có quyền mở trang này.", status_code=403)
            return await endpoint(request)

        return guarded

    return wrap
