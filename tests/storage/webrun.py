"""Helpers for tests that run the whole process (`run_bot`) and talk to it over HTTP like a
portal's widget and a staff member's browser do."""

from __future__ import annotations

import json
import re

import httpx

from bot.web.accounts_cli import create_account

PASSWORD = "mật-khẩu-đủ-dài-2026"


async def ask(http: httpx.AsyncClient, base: str, session: str, mid: str, text: str) -> list[str]:
    """Send a message from the widget at `base` (the folder of its widget.js) and return the
    bot's lines that follow it."""
    before = (await http.get(f"{base}/chat/api/messages", params={"session": session})).json()
    last = before["last"]
    body = json.dumps({"session": session, "id": mid, "text": text})
    sent = await http.post(f"{base}/chat/api/send", content=body)
    assert sent.status_code == 200, sent.text
    answer: list[str] = []
    for _ in range(20):
        params = {"session": session, "after": last, "wait": 5}
        data = (await http.get(f"{base}/chat/api/messages", params=params)).json()
        last = data["last"]
        answer += [m["text"] for m in data["messages"] if m["from"] == "bot"]
        if answer:
            return answer
    return answer


async def new_session(http: httpx.AsyncClient, base: str) -> str:
    reply = await http.post(f"{base}/chat/api/session", content="{}")
    assert reply.status_code == 200, reply.text
    return str(reply.json()["session"])


async def add_staff(db: str, username: str, communes: list[str]) -> None:
    """An account made the way an operator makes one (`python -m bot admin create`)."""
    await create_account(db, username, PASSWORD, communes, "staff")


async def log_in(http: httpx.AsyncClient, url: str, username: str) -> httpx.Response:
    """Log in through the login form (its CSRF token included); returns the page landed on."""
    page = await http.get(f"{url}/admin/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    form = {"csrf": found[1], "username": username, "password": PASSWORD, "next": "/admin/"}
    return await http.post(f"{url}/admin/login", data=form, follow_redirects=True)
