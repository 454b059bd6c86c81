"""Staff accounts on the web console: argon2 passwords, server-side sessions, CSRF, rate limits.

The session cookie holds only a random token; the database holds its SHA-256, the user and the
session's CSRF token. Visitors without a session get a CSRF token in a cookie of their own
(double submit), so the login form is protected as well. `AuthMiddleware` puts
`request.state.user` (StaffUser or None) and `request.state.csrf` on every request and refuses
unsafe requests under /admin/ without the right token; `require(role)` guards an endpoint.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any, Literal
from urllib.parse import quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.storage.accounts import (
    ROLES,
    Account,
    AccountStore,
    AuditEntry,
    MemoryAccountStore,
    Role,
    StoredSession,
)
from flows.ports import Clock

__all__ = ["ROLES", "AuthMiddleware", "AuthService", "Role", "StaffUser", "require"]

SESSION_COOKIE = "thutuc_session"
CSRF_COOKIE = "thutuc_csrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# bytes buffered to read a form's csrf field (files included): a 10 MB staff file and its
# envelope, so a file slightly too large still reaches the page that explains the limit
MAX_FORM = 12_000_000
TOO_LARGE = "Tệp quá lớn: chỉ gửi được tệp tối đa 10 MB. Hãy quay lại và chọn tệp nhỏ hơn."
Endpoint = Callable[[Request], Awaitable[Response]]
_IMPLIES: dict[str, set[str]] = {"staff": {"staff"}, "editor": {"editor"}, "admin": set(ROLES)}


@dataclasses.dataclass(frozen=True)
class StaffUser:
    """Who is logged in. Admin implies editor and staff (an editor is not desk staff); a
    province admin may do anything everywhere."""

    username: str
    display_name: str
    province_admin: bool = False
    roles: dict[str, set[Role]] = dataclasses.field(default_factory=dict)

    def can(self, commune: str, role: Role) -> bool:
        if self.province_admin:
            return True
        held = self.roles.get(commune, set())
        return any(role in _IMPLIES[r] for r in held)

    @property
    def communes(self) -> list[str]:
        return sorted(c for c, roles in self.roles.items() if roles)

    @classmethod
    def of(cls, account: Account) -> StaffUser:
        return cls(
            account.username,
            account.display_name,
            account.province_admin,
            {c: set(r) for c, r in account.roles.items()},
        )


class LoginLimiter:
    """Failed logins per username and per client address within a sliding window.

    Counted in the account store, so every process on the database sees the same attempts and
    a restart forgets nothing; the clock is injected so tests need no waiting.
    """

    def __init__(
        self,
        clock: Clock,
        per_user: int = 5,
        per_address: int = 20,
        window: dt.timedelta = dt.timedelta(minutes=15),
        store: AccountStore | None = None,
    ) -> None:
        self._clock = clock
        self._per_user = per_user
        self._per_address = per_address
        self._window = window
        self._store: AccountStore = store or MemoryAccountStore()

    async def blocked(self, username: str, address: str) -> bool:
        users, addresses = await self._store.login_failures(
            username, address, self._clock.now() - self._window
        )
        return users >= self._per_user or addresses >= self._per_address

    async def failed(self, username: str, address: str) -> None:
        await self._store.login_failed(username, address, self._clock.now())

    async def succeeded(self, username: str) -> None:
        await self._store.login_succeeded(username)


LoginOutcome = Literal["ok", "bad", "limited"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    """Accounts, sessions and the audit log behind one small API for the console."""

    def __init__(
        self,
        store: AccountStore,
        clock: Clock,
        limiter: LoginLimiter | None = None,
        session_hours: float = 12,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self.limiter = limiter or LoginLimiter(clock, store=store)
        self._ttl = dt.timedelta(hours=session_hours)
        self._hasher = hasher or PasswordHasher()
        # verified against when the username is unknown, so timing does not reveal accounts
        self._dummy = self._hasher.hash(secrets.token_hex(16))

    @property
    def store(self) -> AccountStore:
        return self._store

    async def create_account(
        self,
        username: str,
        password: str,
        display_name: str = "",
        roles: dict[str, set[Role]] | None = None,
        province_admin: bool = False,
    ) -> Account:
        account = Account(
            username=username,
            display_name=display_name or username,
            password_hash=self._hasher.hash(password),
            province_admin=province_admin,
            roles=roles or {},
            created_at=self._clock.now(),
        )
        await self._store.add_account(account)
        return account

    async def login(
        self, username: str, password: str, address: str
    ) -> tuple[LoginOutcome, str | None]:
        """('ok', session token), ('bad', None) or ('limited', None)."""
        if await self.limiter.blocked(username, address):
            return "limited", None
        account = await self._store.account(username)
        try:
            # argon2 is slow on purpose (tens of ms): off the event loop, so chats keep flowing
            await asyncio.to_thread(
                self._hasher.verify, account.password_hash if account else self._dummy, password
            )
            valid = account is not None and account.active
        except (VerificationError, InvalidHashError):
            valid = False
        if not valid or account is None:
            await self.limiter.failed(username, address)
            return "bad", None
        await self.limiter.succeeded(username)
        if self._hasher.check_needs_rehash(account.password_hash):
            account.password_hash = self._hasher.hash(password)
            await self._store.save_account(account)
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        await self._store.add_session(
            StoredSession(
                token_hash=_digest(token),
                username=username,
                csrf=secrets.token_urlsafe(24),
                created_at=now,
                expires_at=now + self._ttl,
            )
        )
        await self.audit(username, "login")
        return "ok", token

    async def resolve(self, token: str) -> tuple[StaffUser, str] | None:
        """The user and CSRF token of a live session."""
        session = await self._store.session(_digest(token), self._clock.now())
        if session is None:
            return None
        account = await self._store.account(session.username)
        if account is None or not account.active:
            return None
        return StaffUser.of(account), session.csrf

    async def logout(self, token: str, username: str) -> None:
        await self._store.drop_session(_digest(token))
        await self.audit(username, "logout")

    async def audit(
        self,
        username: str,
        action: str,
        commune: str | None = None,
        target: str | None = None,
        detail: str = "",
    ) -> None:
        await self._store.add_audit(
            AuditEntry(
                at=self._clock.now(),
                username=username,
                action=action,
                commune=commune,
                target=target,
                detail=detail[:200],
            )
        )


class AuthMiddleware:
    """Sets request.state.user/csrf; refuses unsafe /admin/ requests without the CSRF token."""

    def __init__(self, app: ASGIApp, auth: AuthService, secure_cookies: bool = True) -> None:
        self.app = app
        self.auth = auth
        self.secure = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        user: StaffUser | None = None
        csrf = ""
        token = cookies.get(SESSION_COOKIE, "")
        if token and len(token) < 200:
            found = await self.auth.resolve(token)
            if found is not None:
                user, csrf = found
        fresh_csrf = False
        if user is None:
            csrf = cookies.get(CSRF_COOKIE, "")
            if not csrf or len(csrf) > 100:
                csrf, fresh_csrf = secrets.token_urlsafe(24), True
        state = scope.setdefault("state", {})
        state["user"], state["csrf"], state["session_token"] = user, csrf, token if user else ""
        path: str = scope.get("path", "")
        if scope.get("method") in UNSAFE and path.startswith("/admin"):
            given, receive = await _given_token(scope, receive)
            if given is None:
                await PlainTextResponse(TOO_LARGE, status_code=413)(scope, receive, send)
                return
            if fresh_csrf or not given or not hmac.compare_digest(given, csrf):
                response = PlainTextResponse(
                    "Yêu cầu bị từ chối: thiếu mã bảo vệ (CSRF). Hãy tải lại trang.",
                    status_code=403,
                )
                await response(scope, receive, send)
                return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and fresh_csrf:
                headers = MutableHeaders(scope=message)
                headers.append("set-cookie", cookie(CSRF_COOKIE, csrf, self.secure, strict=True))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def cookie(name: str, value: str, secure: bool, *, strict: bool = False) -> str:
    """A Set-Cookie value: HttpOnly, SameSite, Secure unless serving plain HTTP on loopback."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", f"SameSite={'Strict' if strict else 'Lax'}"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is ignored, never a crash
                continue
    return {k: m.value for k, m in jar.items()}


async def _given_token(scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
    """The CSRF token from the header, else from the form body (which is buffered and replayed
    to the endpoint); None when the body is larger than MAX_FORM."""
    for name, value in scope.get("headers", []):
        if name == b"x-csrf-token":
            return value.decode("latin-1"), receive
    content_type = ""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            content_type = value.decode("latin-1")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return "", receive
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if size > MAX_FORM:
            return None, receive
        if not message.get("more_body", False):
            break
    replay = list(messages)

    async def replay_receive() -> Message:
        return replay.pop(0) if replay else await receive()

    buffered = list(messages)

    async def buffered_receive() -> Message:
        return buffered.pop(0) if buffered else {"type": "http.disconnect"}

    try:
        form = await Request(scope, buffered_receive).form()
        value = form.get("csrf")
        token = value if isinstance(value, str) else ""
        await form.close()
    except Exception:  # an unreadable form carries no token
        token = ""
    return token, replay_receive


def current_user(request: Request) -> StaffUser | None:
    user = getattr(request.state, "user", None)
    return user if isinstance(user, StaffUser) else None


def commune_of(request: Request, user: StaffUser) -> str | None:
    """The commune a request is about: the path's, else the user's only commune."""
    commune = request.path_params.get("commune")
    if isinstance(commune, str):
        return commune
    communes = user.communes
    return communes[0] if len(communes) == 1 else None


def require(role: Role | None) -> Callable[[Endpoint], Endpoint]:
    """Guard an endpoint: no session -> login (401 JSON under /admin/api/), wrong role -> 403;
    `None` needs only a session. The required role is kept on the endpoint (`required_role`)
    so tests can check every route."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            user = current_user(request)
            if user is None:
                if request.url.path.startswith("/admin/api/"):
                    return JSONResponse({"error": "login required"}, status_code=401)
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/admin/login?next={quote(target)}", status_code=303)
            commune = commune_of(request, user)
            allowed = (
                role is None
                or user.province_admin
                or (commune is not None and user.can(commune, role))
            )
            if not allowed:
                return PlainTextResponse("Bạn không có quyền xem trang này.", status_code=403)
            return await endpoint(request)

        guarded.required_role = role  # type: ignore[attr-defined]
        return guarded

    return decorate


def public(endpoint: Any) -> Any:
    """Mark an endpoint reachable without a session (the login page, static files)."""
    endpoint.public = True
    return endpoint
