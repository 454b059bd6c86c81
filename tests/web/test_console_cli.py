"""The first admin is created from the command line; the password never is an argument."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from pathlib import Path

from bot.storage import SqliteStorage
from bot.storage.accounts import SqliteAccountStore
from bot.web.accounts_cli import run_create
from bot.web.auth import AuthService
from flows.ports import SystemClock


async def _login(db: Path, username: str, password: str) -> str:
    storage = SqliteStorage(db)
    await storage.open()
    try:
        outcome, _ = await AuthService(SqliteAccountStore(storage), SystemClock()).login(
            username, password, "127.0.0.1"
        )
        return outcome
    finally:
        await storage.close()


def test_admin_create_with_the_password_from_the_environment(tmp_path):
    db = tmp_path / "bot.sqlite3"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "admin", "create", "--username", "quantri",
         "--commune", "phuong-1", "--role", "admin", "--db", str(db)],
        env={"CONSOLE_ADMIN_PASSWORD": "mot-mat-khau-dai", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "mot-mat-khau-dai" not in result.stderr + result.stdout
    assert asyncio.run(_login(db, "quantri", "mot-mat-khau-dai")) == "ok"
    again = subprocess.run(
        [sys.executable, "-m", "bot", "admin", "create", "--username", "quantri", "--db", str(db)],
        env={"CONSOLE_ADMIN_PASSWORD": "mot-mat-khau-dai", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert again.returncode == 2 and "exists already" in again.stderr


def test_admin_create_prompts_twice_and_refuses_short_or_differing_passwords(tmp_path):
    db = tmp_path / "bot.sqlite3"
    err = io.StringIO()
    answers = iter(["mat-khau-12-ky-tu", "khac-han"])
    code = run_create(
        db, "lan", ["p1"], "staff", "Chị Lan", False, {}, err, lambda _: next(answers)
    )
    assert code == 2 and "differ" in err.getvalue()
    code = run_create(db, "lan", ["p1"], "staff", "", False, {}, err, lambda _: "ngan")
    assert code == 2 and "12 characters" in err.getvalue()
    same = iter(["mat-khau-12-ky-tu"] * 2)
    assert run_create(db, "lan", ["p1"], "staff", "", False, {}, err, lambda _: next(same)) == 0
    assert asyncio.run(_login(db, "lan", "mat-khau-12-ky-tu")) == "ok"
