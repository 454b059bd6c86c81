"""A fake Zalo Official Account API (openapi.zalo.me + oauth.zaloapp.com) on loopback.

Why a real HTTP server: the Zalo channel uses its own httpx client, and the bugs worth catching
live on the wire: the bare `access_token` header, errors that arrive as HTTP 200 with
`error != 0`, a form-encoded (not JSON) token refresh whose refresh token is single-use,
`expires_in` as a string, ids that exceed 2**53. The fake answers in those shapes, records every
call, and lets a test script failures (-216, -235, -32, HTTP 500, closed windows...).

The webhook helpers (`make_event`, `sign`, `signed_request`) build what Zalo POSTs to *our*
server, so webhook tests use the same payload shapes and signature as production.

Usage::

    async with FakeZalo(app_id="1234567890123456789", app_secret="APPSECRET") as z:
        settings = Settings(zalo_api_base_url=z.api_base_url, zalo_oauth_base_url=z.oauth_base_url)
        ...
        [message] = await z.wait_sent(user_id=CITIZEN)
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.loopback import LoopbackServer
from tests.zalo.fakeevents import (  # noqa: F401  (re-exported)
    DEFAULT_APP_ID,
    DEFAULT_OA_ID,
    EVENT_KINDS,
    JSON,
    make_event,
    sign,
    signed_request,
    user_id_by_app,
)

DEFAULT_DISPLAY_NAME = "Người dùng Zalo"
MAX_TEXT = 2000
MAX_BUTTONS = 5
V3_SEND = "/v3.0/oa/message/cs"
V2_SEND = "/v2.0/oa/message"
USER_DETAIL = "/v3.0/oa/user/detail"
OAUTH_TOKEN = "/v4/oa/access_token"

ERROR_MESSAGES: dict[int, str] = {
    -32: "Exceeded rate limit",
    -201: "Parameters are invalid",
    -213: "User has not followed the OA",
    -216: "Access token is invalid",
    -220: "Access token has expired",
    -230: "User has not interacted with the OA in the last 7 days",
    -232: "User has not interacted with the OA",
    -235: "The API is not supported for this OA type",
    -240: "This API version is no longer supported",
    -244: "User has restricted this type of message",
}
_BUTTON_PAYLOAD: dict[str, tuple[str, ...]] = {  # button type -> required payload keys
    "oa.query.hide": (),  # () = the payload is a non-empty string
    "oa.query.show": (),
    "oa.open.url": ("url",),
    "oa.open.phone": ("phone_code",),
    "oa.open.sms": ("content", "phone_code"),
}


@dataclass
class ZaloCall:
    """One recorded request. Header names are lower-case; `body` is the parsed JSON (message
    endpoints), the form as a flat dict (oauth) or None; `response` is what the fake answered
    (a dict, or the text of an HTTP error page)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    status: int = 200
    response: Any = None
    received: float = 0.0  # time.monotonic() when the request arrived (soak: near a kill?)
    at: float = 0.0  # time.monotonic() when the fake answered

    @property
    def ok(self) -> bool:
        """HTTP 200 and no Zalo error code (oauth success bodies carry no `error` key)."""
        return (
            self.status == 200
            and isinstance(self.response, dict)
            and not self.response.get("error")
        )

    def summary(self) -> str:
        return f"{self.method} {self.path} body={self.body!r} -> {self.status} {self.response!r}"


@dataclass
class _Failure:
    suffix: str
    remaining: int
    status: int
    body: JSON | str


def zalo_error(code: int, message: str | None = None) -> JSON:
    """Zalo's OpenAPI error body (sent with HTTP 200)."""
    return {"error": code, "message": message or ERROR_MESSAGES.get(code, "Unknown error")}


def _oauth_error(code: int, name: str, description: str) -> JSON:
    return {
        "error": code,
        "error_name": name,
        "error_reason": description,
        "error_description": description,
    }


class FakeZalo:
    """The fake server; attributes are the script knobs, see the module docstring."""

    def __init__(
        self,
        app_id: str = DEFAULT_APP_ID,
        app_secret: str = "APPSECRET",
        access_token: str = "AT-1",
        refresh_token: str = "RT-1",
        *,
        oa_id: str = DEFAULT_OA_ID,
    ) -> None:
        self.app_id, self.app_secret, self.oa_id = app_id, app_secret, oa_id
        self.access_token, self.refresh_token = access_token, refresh_token
        self.refreshes = 0
        self.refresh_delay = 0.0  # seconds before answering a refresh: lets refreshes overlap
        self.profiles: dict[str, str | JSON] = {}  # user id -> display name, or profile fields
        self.v3_unsupported = False  # v3 message/cs -> -235 (seen on government OAs)
        self.v2_disabled = False  # v2 message -> -240 (one source says v2 was shut down)
        self.window_closed: set[str] = set()  # -230
        self.not_following: set[str] = set()  # -213
        self.cut_on: set[str] = set()  # paths whose next request starts an outage (lost)
        self.slow: dict[str, float] = {}  # path -> seconds to wait before processing it
        self.arrived: list[str] = []  # paths as their requests arrive, before any answer
        self.profile_gate: dict[str, asyncio.Event] = {}  # user id -> lookups wait for it
        self.calls: list[ZaloCall] = []
        self.server_errors: list[str] = []  # tracebacks of bugs in the fake itself
        self.port = 0
        self._sent: list[tuple[str, JSON]] = []
        self._expired: int | None = None
        self._failures: list[_Failure] = []
        self._changed = asyncio.Event()
        self._closing = False
        self._server: LoopbackServer | None = None
        self._routes: dict[tuple[str, str], Callable[[ZaloCall], Awaitable[JSON]]] = {
            ("POST", V3_SEND): self._send_v3,
            ("POST", V2_SEND): self._send_v2,
            ("GET", USER_DETAIL): self._user_detail,
            ("POST", OAUTH_TOKEN): self._oauth_refresh,
        }

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> FakeZalo:
        app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST"])])
        self._server = LoopbackServer(app, name="fake Zalo server")
        await self._server.start()
        self.port = self._server.port
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        self._notify()
        if self._server is not None:
            await self._server.stop()
        if self.server_errors and exc_info[0] is None:
            raise AssertionError("fake Zalo crashed:\n" + "\n".join(self.server_errors))

    async def cut(self) -> None:
        """An outage: connections are refused and open ones (long polls too) are reset, until
        `resume()`. What the fake holds (queued updates, sent messages) survives it."""
        assert self._server is not None
        await self._server.cut()

    async def resume(self) -> None:
        assert self._server is not None
        await self._server.resume()

    @property
    def down(self) -> bool:
        """True during an outage (between `cut()` and `resume()`)."""
        return self._server is not None and self._server.down

    @property
    def api_base_url(self) -> str:
        """Stands for https://openapi.zalo.me (ZALO_API_BASE_URL); paths are appended."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def oauth_base_url(self) -> str:
        """Stands for https://oauth.zaloapp.com; the same server answers both."""
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ HTTP layer
    async def _endpoint(self, request: Request) -> Response:
        try:
            path, raw = request.url.path, await request.body()
        except ClientDisconnect:  # the bot was killed mid-request: nothing to answer
            return Response(status_code=499)
        call = ZaloCall(
            request.method,
            path,
            dict(request.headers),
            query=dict(request.query_params),
            received=time.monotonic(),
        )
        if path == OAUTH_TOKEN:  # oauth reads a form whatever the content type says
            form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
            call.body = {key: values[-1] for key, values in form.items()}
        elif raw:
            with contextlib.suppress(ValueError):
                call.body = json.loads(raw)
        handler = self._routes.get((request.method, path))
        if path in self.cut_on:  # the request is lost: never processed, no answer
            self.cut_on.discard(path)
            asyncio.get_running_loop().create_task(self.cut())
            await asyncio.Event().wait()  # cancelled by the cut
        self.arrived.append(path)
        if (delay := self.slow.get(path)) is not None:
            await asyncio.sleep(delay)
        try:
            if (failure := self._take_failure(path)) is not None:
                call.status, call.response = failure.status, copy.deepcopy(failure.body)
            elif handler is None:
                call.status, call.response = 404, {"error": 404, "message": "Not Found"}
            else:
                call.response = await handler(call)
        except Exception as exc:
            self.server_errors.append(f"{call.summary()}\n{traceback.format_exc()}")
            call.status, call.response = 500, {"error": -500, "message": repr(exc)}
        call.at = time.monotonic()
        self.calls.append(call)
        self._notify()
        # CLOCK_MONOTONIC is one clock for all processes: BOT_SEND_TIMING measures from here
        stamp = {"x-fake-at": f"{call.at:.6f}"}
        if isinstance(call.response, str):  # gateway error pages are HTML, not JSON
            return Response(call.response, call.status, headers=stamp, media_type="text/html")
        return JSONResponse(call.response, call.status, headers=stamp)

    def _take_failure(self, path: str) -> _Failure | None:
        for failure in self._failures:
            if path.endswith(failure.suffix):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _token_error(self, call: ZaloCall) -> JSON | None:
        if call.headers.get("access_token") != self.access_token:
            return zalo_error(-216)
        return None if self._expired is None else zalo_error(self._expired)

    # ------------------------------------------------------------------ endpoints
    async def _send_v3(self, call: ZaloCall) -> JSON:
        return self._send(call, unsupported=-235 if self.v3_unsupported else None)

    async def _send_v2(self, call: ZaloCall) -> JSON:
        return self._send(call, unsupported=-240 if self.v2_disabled else None)

    def _send(self, call: ZaloCall, unsupported: int | None) -> JSON:
        if (token_error := self._token_error(call)) is not None:
            return token_error
        if unsupported is not None:
            return zalo_error(unsupported)
        if (problem := _message_problem(call.body)) is not None:
            return zalo_error(-201, problem)
        user_id: str = call.body["recipient"]["user_id"]
        if user_id in self.not_following:
            return zalo_error(-213)
        if user_id in self.window_closed:
            return zalo_error(-230)
        self._sent.append((user_id, copy.deepcopy(call.body["message"])))
        data = {"message_id": uuid.uuid4().hex, "user_id": user_id}
        return {"error": 0, "message": "Success", "data": data}

    async def _user_detail(self, call: ZaloCall) -> JSON:
        if (token_error := self._token_error(call)) is not None:
            return token_error
        try:
            data = json.loads(call.query.get("data", ""))
        except ValueError:
            data = None
        user_id = data.get("user_id") if isinstance(data, dict) else None
        if not isinstance(user_id, str) or not user_id:
            return zalo_error(-201, "data.user_id is missing")
        if (gate := self.profile_gate.get(user_id)) is not None:
            await gate.wait()  # a lookup that takes as long as the test wants
        custom = self.profiles.get(user_id, DEFAULT_DISPLAY_NAME)
        avatar = f"https://s120-ava-talk.zadn.vn/{user_id[-4:]}/avatar.jpg"
        profile: JSON = {
            "user_id": user_id, "user_id_by_app": user_id_by_app(user_id), "user_external_id": "",
            "display_name": custom if isinstance(custom, str) else DEFAULT_DISPLAY_NAME,
            "user_alias": "", "is_sensitive": False,
            "user_last_interaction_date": time.strftime("%d/%m/%Y"),
            "user_is_follower": user_id not in self.not_following,
            "avatar": avatar, "avatars": {"120": avatar, "240": avatar},
            "tags_and_notes_info": {"notes": [], "tag_names": []},
        }  # fmt: skip
        if isinstance(custom, dict):
            profile.update(copy.deepcopy(custom))
        return {"error": 0, "message": "Success", "data": profile}

    async def _oauth_refresh(self, call: ZaloCall) -> JSON:
        if self.refresh_delay:  # cut short when the fake closes, so teardown never waits
            await self._wait_until(lambda: False, self.refresh_delay)
        form: dict[str, str] = call.body
        if call.headers.get("secret_key") != self.app_secret:
            return _oauth_error(-14002, "Invalid secret key", "The secret_key header is wrong")
        if form.get("app_id") != self.app_id:
            return _oauth_error(-14001, "Invalid app id", "app_id does not match the app")
        if form.get("grant_type") != "refresh_token":
            return _oauth_error(-14003, "Invalid parameter", "grant_type must be refresh_token")
        if not form.get("refresh_token") or form["refresh_token"] != self.refresh_token:
            return _oauth_error(-14014, "Invalid refresh token", "Refresh token is invalid")
        self.refreshes += 1
        generation = self.refreshes + 1
        self.access_token, self.refresh_token = f"AT-{generation}", f"RT-{generation}"
        self._expired = None
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": "90000",
        }

    # ------------------------------------------------------------------ scripting
    def fail_next(
        self,
        path_suffix: str,
        error: int = -32,
        times: int = 1,
        *,
        http_status: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` requests whose path ends with `path_suffix` with a Zalo
        error (HTTP 200, `error` code) or, if `http_status` is given, an HTML error page with
        that status. Checked before the token, like a gateway or rate limiter would."""
        body: JSON | str = (
            f"<html><body><h1>{http_status} Error</h1></body></html>"
            if http_status is not None
            else zalo_error(error, message)
        )
        self._failures.append(_Failure(path_suffix, times, http_status or 200, body))

    def expire_access_token(self, error: int = -216) -> None:
        """Make the current access token fail with `error` (-216, or -220) until a refresh."""
        self._expired = error

    # ------------------------------------------------------------------ inspection
    def sent(self, user_id: str | None = None) -> list[JSON]:
        """The `message` objects accepted so far (v3 or v2), oldest first."""
        return [copy.deepcopy(m) for uid, m in self._sent if user_id is None or uid == user_id]

    def calls_to(self, path_suffix: str) -> list[ZaloCall]:
        return [c for c in self.calls if c.path.endswith(path_suffix)]

    async def wait_sent(
        self, count: int = 1, user_id: str | None = None, timeout: float = 60.0
    ) -> list[JSON]:
        """Wait until at least `count` messages were accepted (for `user_id` if given) and
        return all of them; the channel sends from background tasks, so tests must wait."""
        if not await self._wait_until(lambda: len(self.sent(user_id)) >= count, timeout):
            listing = "\n".join(f"  {c.summary()}" for c in self.calls) or "  (none)"
            raise AssertionError(
                f"expected {count} message(s) to {user_id or 'anyone'} within {timeout}s, "
                f"got {len(self.sent(user_id))}; calls:\n{listing}"
            )
        return self.sent(user_id)

    def make_event(
        self,
        kind: str,
        user_id: str,
        text: str | None = None,
        msg_id: str | None = None,
        **extra: Any,
    ) -> JSON:
        """`make_event` with this fake's app id and OA id."""
        extra.setdefault("app_id", self.app_id)
        extra.setdefault("oa_id", self.oa_id)
        return make_event(kind, user_id, text, msg_id, **extra)

    def _notify(self) -> None:
        """Wake every waiter; each waiter re-checks its own condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                return condition()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True


def _message_problem(body: Any) -> str | None:
    """What Zalo would reject with -201, or None. User ids must be strings: ours exceed 2**53."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    recipient = body.get("recipient")
    if not isinstance(recipient, dict) or not recipient.get("user_id"):
        return "recipient.user_id is missing"
    if not isinstance(recipient["user_id"], str):
        return "recipient.user_id must be a string"
    message = body.get("message")
    if not isinstance(message, dict):
        return "message is missing"
    text, attachment = message.get("text"), message.get("attachment")
    if text is None and attachment is None:
        return "message has neither text nor attachment"
    if text is not None and (not isinstance(text, str) or not text.strip()):
        return "message.text is empty"
    if isinstance(text, str) and len(text) > MAX_TEXT:
        return f"message.text is longer than {MAX_TEXT} characters"
    return None if attachment is None else _attachment_problem(attachment)


def _attachment_problem(attachment: Any) -> str | None:
    if not isinstance(attachment, dict) or not isinstance(attachment.get("payload"), dict):
        return "attachment.payload is missing"
    if attachment.get("type") != "template":
        return None  # file/media attachments: not checked
    payload = attachment["payload"]
    if payload.get("template_type") == "request_user_info":
        elements = payload.get("elements")
        if (
            not isinstance(elements, list)
            or not elements
            or not all(isinstance(e, dict) and e.get("title") for e in elements)
        ):
            return "request_user_info needs elements with a title"
    buttons = payload.get("buttons", [])
    if not isinstance(buttons, list) or len(buttons) > MAX_BUTTONS:
        return f"at most {MAX_BUTTONS} buttons are allowed"
    for button in buttons:
        if not isinstance(button, dict) or not button.get("title"):
            return "button.title is missing"
        required = _BUTTON_PAYLOAD.get(button.get("type", ""))
        if required is None:
            return f"button.type {button.get('type')!r} is invalid"
        value = button.get("payload")
        if not required and not (isinstance(value, str) and value):
            return "button.payload must be a non-empty string"
        if required and not (isinstance(value, dict) and all(value.get(k) for k in required)):
            return f"button.payload needs {', '.join(required)}"
    return None
