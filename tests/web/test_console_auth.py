"""Accounts on the console: login, sessions, CSRF, rate limits, roles on every route, audit."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from starlette.routing import BaseRoute, Mount, Route

from tests.web.console import PASSWORD, World, csrf_of, login


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with World(tmp_path / "db.sqlite3") as world:
        yield world


def console_routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str, Route]]:
    """Every (method, path, route) of the app under /admin, walking mounts."""
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                yield from console_routes(list(route.routes), prefix + route.path)
        elif isinstance(route, Route) and (prefix + route.path).startswith("/admin"):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield method, prefix + route.path, route


def concrete(path: str, cid: int) -> str:
    path = path.replace("{commune}", "default")
    return re.sub(r"\{cid(:int)?\}", str(cid), path)


async def test_every_console_route_needs_a_session_and_the_right_role(world):
    cid = await world.citizen("/canbo")
    found = list(console_routes(world.app.routes))
    assert len(found) >= 10
    checked = 0
    async with world.client() as anonymous, world.client() as editor:
        await login(editor, "bientap")
        for method, path, route in found:
            endpoint = route.endpoint
            if getattr(endpoint, "public", False):
                continue
            role = getattr(endpoint, "required_role", "missing")
            assert role != "missing", f"{method} {path} is neither public nor guarded"
            url = concrete(path, cid)
            page = await anonymous.get("/admin/login")
            headers = {"X-CSRF-Token": csrf_of(page.text)}
            response = await anonymous.request(method, url, headers=headers)
            assert response.status_code in (303, 401), (method, path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/admin/login?next=")
            checked += 1
            if role in ("staff", "admin"):  # an editor is neither desk staff nor admin
                response = await editor.request(method, url, headers=await token_of(editor))
                assert response.status_code == 403, (method, path, response.status_code)
    assert checked >= 10


async def token_of(client) -> dict[str, str]:
    response = await client.get("/admin/login", follow_redirects=False)
    assert response.status_code == 303  # logged in: sent on
    home = await client.get("/admin/")
    return {"X-CSRF-Token": csrf_of(home.text)}


async def test_another_communes_staff_cannot_open_this_inbox(world):
    cid = await world.citizen("/canbo")
    async with world.client() as other:
        await login(other, "xakhac")
        assert (await other.get("/admin/default/hop-thu")).status_code == 403
        assert (await other.get(f"/admin/default/hop-thu/{cid}")).status_code == 403
        assert (await other.get("/admin/xa-khac/nhat-ky")).status_code == 200


async def test_login_sets_a_safe_cookie_and_logout_ends_the_session(world):
    async with world.client() as client:
        assert (await client.get("/admin/")).headers["location"] == "/admin/login?next=/admin/"
        response = await login(client, "lan")
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert (await client.get("/admin/default/hop-thu")).status_code == 200
        home = await client.get("/admin/default/hop-thu")
        await client.post("/admin/logout", data={"csrf": csrf_of(home.text)})
        assert (await client.get("/admin/default/hop-thu")).status_code == 303


async def test_cookies_are_secure_unless_configured_for_plain_http(world):
    world.console.secure_cookies = True
    from bot.http import build_http_app
    from bot.web.app import console_routes as routes

    app = build_http_app(routes(world.console), middleware=[world.console.middleware()])
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://x") as c:
        page = await c.get("/admin/login")
        assert "Secure" in page.headers["set-cookie"]
        response = await c.post(
            "/admin/login",
            data={"username": "lan", "password": PASSWORD, "csrf": csrf_of(page.text)},
        )
        assert "Secure" in response.headers["set-cookie"]


async def test_a_wrong_password_is_refused_in_vietnamese(world):
    async with world.client() as client:
        response = await login(client, "lan", "sai-mat-khau")
        assert response.status_code == 400
        assert "Tên đăng nhập hoặc mật khẩu chưa đúng" in response.text
        response = await login(client, "khong-co-ai", "x")
        assert response.status_code == 400  # the same answer: accounts are not revealed


async def test_posts_without_the_csrf_token_are_refused(world):
    cid = await world.citizen("/canbo")
    async with world.client() as client:
        page = await client.get("/admin/login")
        no_token = await client.post("/admin/login", data={"username": "lan", "password": PASSWORD})
        assert no_token.status_code == 403
        wrong = await client.post(
            "/admin/login", data={"username": "lan", "password": PASSWORD, "csrf": "forged"}
        )
        assert wrong.status_code == 403
        assert (await login(client, "lan")).status_code == 303
        assert csrf_of(page.text)
        claim = await client.post(f"/admin/default/hop-thu/{cid}/nhan")
        assert claim.status_code == 403
        handoff = await world.storage.handoffs.current(cid)
        assert handoff is not None and handoff.status == "waiting"  # nothing happened
        json_post = await client.post(f"/admin/default/hop-thu/{cid}/nhan", json={"csrf": "x"})
        assert json_post.status_code == 403


async def test_login_is_rate_limited_per_username_and_per_address(world):
    async with world.client() as client:
        for _ in range(5):
            assert (await login(client, "lan", "sai")).status_code == 400
        limited = await login(client, "lan")  # even the right password now
        assert limited.status_code == 429
        assert "thử lại sau 15 phút" in limited.text
        assert (await login(client, "minh")).status_code == 303  # another name still works
        world.clock.advance(dt.timedelta(minutes=16))
        await client.post(
            "/admin/logout",
            data={"csrf": csrf_of((await client.get("/admin/default/hop-thu")).text)},
        )
        assert (await login(client, "lan")).status_code == 303
    async with world.client() as client:
        for n in range(20):
            await login(client, f"khach{n}", "sai")
        assert (await login(client, "minh")).status_code == 429  # this address is blocked


async def test_staff_actions_are_audited_and_only_admins_see_the_log(world):
    cid = await world.citizen("/canbo")
    async with world.client() as staff, world.client() as admin:
        await login(staff, "lan")
        page = await staff.get(f"/admin/default/hop-thu/{cid}")
        token = csrf_of(page.text)
        await staff.post(f"/admin/default/hop-thu/{cid}/nhan", data={"csrf": token})
        await staff.post(
            f"/admin/default/hop-thu/{cid}/tra-loi",
            data={"csrf": token, "text": "Số CCCD của chị là 012345678901 phải không?"},
        )
        assert (await staff.get("/admin/default/nhat-ky")).status_code == 403
        await login(admin, "quantri")
        log = await admin.get("/admin/default/nhat-ky")
        assert log.status_code == 200
        assert "Nhận xử lý" in log.text and "Trả lời người dân" in log.text
        assert f"conversation:{cid}" in log.text
        assert "012345678901" not in log.text  # the audit never holds citizen text
    rows = await world.accounts.audit()
    assert [(r.username, r.action) for r in rows[:3]] == [
        ("quantri", "login"), ("lan", "reply"), ("lan", "claim")
    ]  # fmt: skip


async def test_next_never_leaves_the_console(world):
    async with world.client() as client:
        page = await client.get("/admin/login?next=https://evil.example/")
        response = await client.post(
            "/admin/login",
            data={"username": "lan", "password": PASSWORD, "csrf": csrf_of(page.text),
                  "next": "//evil.example/"},
        )  # fmt: skip
        assert response.headers["location"] == "/admin/"


async def test_bad_cookies_and_bodies_never_crash(world):
    async with world.client() as client:
        client.cookies.set("thutuc_session", "x" * 500)
        assert (await client.get("/admin/")).status_code == 303
        raw = await client.post(
            "/admin/login",
            content=b"\xff\xfe=%%%",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert raw.status_code == 403
