"""`python -m bot admin create`: the first console account, made from the command line.

The password comes from CONSOLE_ADMIN_PASSWORD or a prompt (typed twice), never an argument:
arguments end up in shell history and in every user's process list.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import re
from collections.abc import Callable, Mapping
from typing import IO

from bot.storage import open_database
from bot.storage.accounts import AccountExistsError, Role, account_store
from bot.web.auth import AuthService
from flows.ports import SystemClock

PASSWORD_ENV = "CONSOLE_ADMIN_PASSWORD"
MIN_PASSWORD = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


class AccountError(ValueError):
    """A problem to report in one line (exit status 2)."""


def read_password(env: Mapping[str, str], prompt: Callable[[str], str] = getpass.getpass) -> str:
    password = env.get(PASSWORD_ENV)
    if password is None:
        password = prompt("Mật khẩu: ")
        if prompt("Nhập lại mật khẩu: ") != password:
            raise AccountError("the two passwords differ")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    return password


async def create_account(
    db: str | os.PathLike[str],
    username: str,
    password: str,
    communes: list[str],
    role: Role,
    display_name: str = "",
    province_admin: bool = False,
) -> None:
    if not _USERNAME.match(username):
        raise AccountError("username: 2-40 lower-case letters, digits, '.', '_' or '-'")
    database = open_database(db)  # a SQLite path or a postgresql:// URL
    await database.open()
    try:
        auth = AuthService(account_store(database), SystemClock())
        try:
            await auth.create_account(
                username,
                password,
                display_name or username,
                roles={c: {role} for c in communes},
                province_admin=province_admin,
            )
        except AccountExistsError:
            raise AccountError(f"the account {username!r} exists already") from None
        await auth.audit("cli", "account_create", communes[0] if communes else None,
                         f"account:{username}", role)  # fmt: skip
    finally:
        await database.close()


def run_create(
    db: str | os.PathLike[str],
    username: str,
    communes: list[str],
    role: Role,
    display_name: str,
    province_admin: bool,
    env: Mapping[str, str],
    err: IO[str],
    prompt: Callable[[str], str] = getpass.getpass,
) -> int:
    try:
        password = read_password(env, prompt)
        asyncio.run(
            create_account(db, username, password, communes, role, display_name, province_admin)
        )
    except AccountError as exc:
        print(f"error: {exc}", file=err)
        return 2
    where = "every commune (province admin)" if province_admin else ", ".join(communes)
    print(f"created {username!r} ({role}) for {where}", file=err)
    return 0
