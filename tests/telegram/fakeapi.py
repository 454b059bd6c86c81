"""A fake Telegram Bot API server on loopback, for end-to-end tests with the real PTB library.

Why an HTTP server rather than mocking PTB: the channel code must survive what the real library
does on the wire (form encoding, error mapping to RetryAfter/Forbidden/BadRequest, long polling,
offsets). So the fake answers with the same JSON shapes and error texts as api.telegram.org, and
records every call so tests can assert on what the bot actually sent.

Usage::

    async with FakeBotApi(token="123456:TEST") as api:
        app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
        api.push_private_text(1001, "/start")
        await api.wait_for("sendMessage")
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.loopback import LoopbackServer
from tests.telegram.fakestate import (
    DEFAULT_ICON_COLOR,
    JSON,
    TelegramState,
    caption_content,
    utf16_len,
)
from tests.telegram.fakewire import (
    BLOCKED,
    DEFAULT_DESCRIPTIONS,
    POLL_CONFLICT,
    THREAD_NOT_FOUND,
    WEBHOOK_CONFLICT,
    ApiError,
    Upload,
    bad_request,
    check_inline_keyboard,
    decode_param,
    error_response,
    parse_multipart,
    rendered_text,
)

# Types delivered when allowed_updates is empty or was never set (Bot API default).
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_ADMIN_RIGHTS = (
    "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members "
    "can_promote_members can_change_info can_invite_users can_post_stories can_edit_stories "
    "can_delete_stories can_pin_messages can_manage_topics"
)
_GIFT_TYPES = "unlimited_gifts limited_gifts unique_gifts premium_subscription gifts_from_channels"
_COPYABLE = "text entities photo document sticker voice caption caption_entities"


@dataclass
class Call:
    """One recorded Bot API call; `status` is the HTTP status the fake answered with."""

    method: str
    params: JSON
    status: int = 200
    result: Any = None  # the "result" on success, the description on failure
    at: float = 0.0  # time.monotonic() when the fake answered (soak: how near a kill)
    received: float = 0.0  # time.monotonic() when the request arrived

    @property
    def ok(self) -> bool:
        return self.status == 200


class FakeBotApi(TelegramState):
    """The fake server: records calls, scripts failures, queues updates for getUpdates."""

    def __init__(
        self, token: str = "123456:TEST", *, group_title: str = "Một cửa xã (test)"
    ) -> None:
        super().__init__(token, group_title)
        self.calls: list[Call] = []
        self.staff_members: dict[int, set[int]] = {}  # chat_id -> user ids reported as "member"
        self.blocked_users: set[int] = set()
        self.deleted_threads: set[tuple[int, int]] = set()
        self.plain_groups: set[int] = set()  # supergroups without Topics (is_forum false)
        self.bot_member: JSON | None = None  # the bot's ChatMember in groups (default: admin)
        self.commands: list[JSON] = []
        self.webhook: JSON = {}  # setWebhook parameters (url, secret_token, ...)
        self.allowed_updates: list[str] = []
        self.server_errors: list[str] = []  # tracebacks of bugs in the fake itself
        self.port = 0
        self._pending: list[JSON] = []  # queued, not yet confirmed by an offset
        self._delivered_up_to = 0
        self._polls = 0  # getUpdates calls so far, to detect concurrent long polls
        self._failures: dict[str, list[ApiError]] = {}
        self.cut_on: set[str] = set()  # lower-case methods whose next call starts an outage
        self.slow: dict[str, float] = {}  # lower-case method -> seconds to wait before answering
        self.arrived: list[str] = []  # methods as their requests arrive, before any answer
        self._changed = asyncio.Event()
        self._closing = False
        self._server: LoopbackServer | None = None
        self._handlers: dict[str, tuple[str, Callable[[JSON], Any]]] = {
            name.removeprefix("_api_").lower(): (name.removeprefix("_api_"), getattr(self, name))
            for name in dir(self)
            if name.startswith("_api_")
        }

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> FakeBotApi:
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file_endpoint, methods=["GET"]),
            ]
        )
        self._server = LoopbackServer(app, name="fake Bot API server")
        await self._server.start()
        self.port = self._server.port
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        self._notify()  # release long-polling getUpdates so the server need not wait for them
        if self._server is not None:
            await self._server.stop()
        if self.server_errors and exc_info[0] is None:
            raise AssertionError("fake Bot API crashed:\n" + "\n".join(self.server_errors))

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
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ------------------------------------------------------------------ HTTP layer
    async def _endpoint(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        name = request.path_params["method"]
        canonical, handler = self._handlers.get(name.lower(), (name, None))
        call = Call(canonical, {}, received=time.monotonic())
        self.arrived.append(canonical)
        if canonical.lower() in self.cut_on:  # the request is lost: never processed, no answer
            self.cut_on.discard(canonical.lower())
            asyncio.get_running_loop().create_task(self.cut())
            await asyncio.Event().wait()  # cancelled by the cut
        try:
            call.params = await self._read_params(request)
            if (delay := self.slow.get(canonical.lower())) is not None:
                await asyncio.sleep(delay)  # processed after the wait, answered late
            failures = self._failures.get(canonical.lower())
            if failures:
                raise failures.pop(0)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = handler(call.params)
            if asyncio.iscoroutine(result):
                result = await result
            call.result = copy.deepcopy(result)  # a snapshot: stored messages mutate
            response: Response = JSONResponse({"ok": True, "result": result})
        except ApiError as err:
            call.status, call.result = err.status, err.description
            response = error_response(err)
        except ClientDisconnect:  # the bot was killed mid-request: nothing to answer
            return Response(status_code=499)
        except Exception as exc:
            self.server_errors.append(f"{canonical}({call.params}): {traceback.format_exc()}")
            call.status, call.result = 500, repr(exc)
            response = error_response(ApiError(500, f"Internal Server Error: {exc!r}"))
        call.at = time.monotonic()
        self.calls.append(call)
        self._notify()
        # when the fake took it (CLOCK_MONOTONIC is one clock for every process): the bot's
        # BOT_SEND_TIMING measures from here to its send journal (scripts/soak.py --timing)
        response.headers["x-fake-at"] = f"{call.at:.6f}"
        return response

    async def _read_params(self, request: Request) -> JSON:
        raw: JSON = dict(request.query_params)
        content_type = request.headers.get("content-type", "")
        body = await request.body()
        if "application/json" in content_type and body:
            loaded = json.loads(body)
            raw.update(loaded if isinstance(loaded, dict) else {})
        elif "multipart/form-data" in content_type:
            raw.update(parse_multipart(content_type, body))
        elif body:
            raw.update(parse_qsl(body.decode(), keep_blank_values=True))
        params = {key: decode_param(key, value) for key, value in raw.items()}
        for key, value in params.items():  # InputMedia-style "attach://name" references
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = params.get(value.removeprefix("attach://"), value)
        return params

    async def _file_endpoint(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        file_id = request.path_params["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return error_response(ApiError(404, "Not Found"))
        return Response(self.files[file_id], media_type="application/octet-stream")

    # ------------------------------------------------------------------ test helpers
    def fail_next(
        self,
        method: str,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail with Telegram's error body.

        429 always carries parameters.retry_after (default 1), which is what PTB needs to raise
        RetryAfter; other statuses default to Telegram's usual descriptions.
        """
        parameters: JSON = {}
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            parameters["retry_after"] = retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        failures = self._failures.setdefault(method.lower(), [])
        failures.extend(ApiError(status, description, parameters) for _ in range(times))

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent_texts(self, chat_id: int | None = None, thread_id: int | None = None) -> list[str]:
        """Texts of successful sendMessage/editMessageText calls, as Telegram stored them."""
        texts = []
        for call in self.calls:
            if call.ok and call.method in ("sendMessage", "editMessageText"):
                msg = call.result if isinstance(call.result, dict) else {}
                if chat_id is not None and msg.get("chat", {}).get("id") != chat_id:
                    continue
                if thread_id is not None and msg.get("message_thread_id") != thread_id:
                    continue
                texts.append(msg.get("text", ""))
        return texts

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 60.0,  # generous: a loaded machine is slow; a pass is as quick
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until `count` calls of `method` (matching `predicate`) were answered."""

        def matching() -> list[Call]:
            return [c for c in self.calls_to(method) if predicate is None or predicate(c)]

        if not await self._wait_until(lambda: len(matching()) >= count, timeout):
            recorded = "\n".join(f"  {c.method} [{c.status}] {c.params}" for c in self.calls)
            raise AssertionError(
                f"expected {count} {method} call(s) within {timeout}s, got {len(matching())}; "
                f"recorded calls:\n{recorded or '  (none)'}"
            )
        return matching()

    def updates_confirmed(self) -> bool:
        """True when the bot confirmed (via offset) every queued update."""
        return not self._pending

    async def wait_updates_consumed(
        self, timeout: float = 60.0, *, confirmed: bool = False
    ) -> None:
        """Wait until every queued update was delivered by getUpdates (or also confirmed)."""

        def done() -> bool:
            if confirmed:
                return not self._pending
            return all(u["update_id"] <= self._delivered_up_to for u in self._pending)

        if not await self._wait_until(done, timeout):
            raise AssertionError(f"updates not consumed within {timeout}s: {self._pending}")

    async def deliver_webhook(
        self,
        update: JSON,
        url: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> httpx.Response:
        """POST an update like Telegram does: to the setWebhook URL (or `url`), JSON body,
        secret header. Pass `transport=httpx.ASGITransport(app)` to reach an in-process app."""
        headers = {}
        if secret := self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.post(url or self.webhook["url"], json=update, headers=headers)

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

    # ------------------------------------------------------------------ shared checks
    def _existing(self, p: JSON, error: str) -> JSON:
        key = (_require(p, "chat_id"), _require(p, "message_id"))
        if key not in self.messages:
            raise bad_request(error)
        return self.messages[key]

    def _check_target(self, chat_id: int, thread_id: int | None) -> None:
        if chat_id in self.blocked_users:
            raise ApiError(403, BLOCKED)
        if thread_id is not None and (chat_id, thread_id) in self.deleted_threads:
            raise ApiError(400, THREAD_NOT_FOUND)

    def _outgoing(self, p: JSON, content: JSON) -> JSON:
        """Common part of the send* methods: checks, reply markup echo, reply_to resolution."""
        chat_id, thread_id = _require(p, "chat_id"), p.get("message_thread_id")
        self._check_target(chat_id, thread_id)
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            check_inline_keyboard(markup)
            content["reply_markup"] = markup  # Telegram echoes inline keyboards only
        reply = p.get("reply_parameters") or {}
        reply_to = self.messages.get(
            (chat_id, reply.get("message_id", p.get("reply_to_message_id", 0)))
        )
        if (
            (reply or p.get("reply_to_message_id"))
            and reply_to is None
            and not reply.get("allow_sending_without_reply")
        ):
            raise bad_request("message to be replied not found")
        msg = self.store(chat_id, self.bot_user, thread_id, content)
        if reply_to is not None:
            msg["reply_to_message"] = copy.deepcopy(reply_to)
        return msg

    def _media(self, value: Any, kind: str) -> JSON:
        if isinstance(value, Upload):
            return self.new_file(kind, value.data) | {"file_name": value.filename or kind}
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {kind} in the request")
        self.files.setdefault(value, b"remote file")  # tolerant: any file_id or URL is accepted
        return {
            "file_id": value,
            "file_unique_id": f"u-{value[-16:]}",
            "file_size": len(self.files[value]),
        }

    # ------------------------------------------------------------------ Bot API methods
    def _api_getMe(self, p: JSON) -> JSON:
        return self.bot_user | {
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False, "can_connect_to_business": False,
            "has_main_web_app": False,
        }  # fmt: skip

    async def _api_getUpdates(self, p: JSON) -> list[JSON]:
        if self.webhook.get("url"):
            raise ApiError(409, WEBHOOK_CONFLICT)
        if p.get("allowed_updates") is not None:
            self.allowed_updates = list(p["allowed_updates"])
        offset = int(p.get("offset") or 0)
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        self._polls += 1
        poll = self._polls

        def ready() -> bool:
            if poll != self._polls:
                return True
            self._pending = [u for u in self._pending if self._allowed(u)]
            return bool(self._pending)

        await self._wait_until(ready, min(float(p.get("timeout") or 0), 50.0))
        if poll != self._polls:  # Telegram ends the older of two concurrent long polls
            raise ApiError(409, POLL_CONFLICT)
        batch = self._pending[:limit]
        if batch:
            self._delivered_up_to = max(self._delivered_up_to, batch[-1]["update_id"])
            self._notify()
        return batch

    def _allowed(self, update: JSON) -> bool:
        kind = next(k for k in update if k != "update_id")
        return kind in self.allowed_updates if self.allowed_updates else kind not in _NOT_BY_DEFAULT

    def _api_setWebhook(self, p: JSON) -> bool:
        if not str(p.get("url", "")).startswith("https://") and p.get("url"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if p.get("drop_pending_updates"):
            self._pending.clear()
        if p.get("allowed_updates") is not None:
            self.allowed_updates = list(p["allowed_updates"])
        self.webhook = {k: v for k, v in p.items() if k != "certificate"}
        return True

    def _api_deleteWebhook(self, p: JSON) -> bool:
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = {}
        return True

    def _api_getWebhookInfo(self, p: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook.get("url"):
            info.update(
                max_connections=self.webhook.get("max_connections", 40), ip_address="127.0.0.1"
            )
            if self.allowed_updates:
                info["allowed_updates"] = self.allowed_updates
        return info

    def _api_sendMessage(self, p: JSON) -> JSON:
        content: JSON = {"text": _checked_text(p)}
        if p.get("entities"):
            content["entities"] = p["entities"]
        return self._outgoing(p, content)

    def _api_sendPhoto(self, p: JSON) -> JSON:
        base = self._media(p.get("photo"), "photo")
        sizes = [base | {"width": 90, "height": 67}, base | {"width": 1280, "height": 960}]
        return self._outgoing(p, {"photo": sizes, **_caption(p)})

    def _api_sendDocument(self, p: JSON) -> JSON:
        doc = self._media(p.get("document"), "document")
        doc |= {"mime_type": "application/octet-stream"}
        return self._outgoing(p, {"document": doc, **_caption(p)})

    def _api_copyMessage(self, p: JSON) -> JSON:
        source = self.messages.get((_require(p, "from_chat_id"), _require(p, "message_id")))
        if source is None:
            raise bad_request("message to copy not found")
        content = {k: source[k] for k in _COPYABLE.split() if k in source}
        if not content:
            raise bad_request("message can't be copied")
        if "caption" in p:
            content.update(_caption(p))
        return {"message_id": self._outgoing(p, content)["message_id"]}

    def _api_editMessageText(self, p: JSON) -> JSON:
        msg = self._existing(p, "message to edit not found")
        return self._edit(msg, {"text": _checked_text(p)}, p.get("reply_markup"))

    def _api_editMessageReplyMarkup(self, p: JSON) -> JSON:
        msg = self._existing(p, "message to edit not found")
        return self._edit(msg, {}, p.get("reply_markup"))

    def _edit(self, msg: JSON, changes: JSON, markup: Any) -> JSON:
        if msg["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        markup = markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None
        if markup:
            check_inline_keyboard(markup)
        if all(msg.get(k) == v for k, v in changes.items()) and msg.get("reply_markup") == markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        msg.update(changes, edit_date=int(time.time()))
        msg.pop("reply_markup", None)
        if markup:
            msg["reply_markup"] = markup
        return msg

    def _api_deleteMessage(self, p: JSON) -> bool:
        self._existing(p, "message to delete not found")
        del self.messages[p["chat_id"], p["message_id"]]
        return True

    def _api_answerCallbackQuery(self, p: JSON) -> bool:
        query_id = str(_require(p, "callback_query_id"))
        if query_id not in self._open_callbacks:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._open_callbacks.discard(query_id)
        return True

    def _api_sendChatAction(self, p: JSON) -> bool:
        self._check_target(_require(p, "chat_id"), p.get("message_thread_id"))
        return True

    def _api_setMyCommands(self, p: JSON) -> bool:
        self.commands = list(p.get("commands") or [])
        return True

    def _api_getMyCommands(self, p: JSON) -> list[JSON]:
        return self.commands

    def _api_deleteMyCommands(self, p: JSON) -> bool:
        self.commands = []
        return True

    def _api_getChat(self, p: JSON) -> JSON:
        gifts = dict.fromkeys(_GIFT_TYPES.split(), False)
        chat_id = _require(p, "chat_id")
        forum = {"is_forum": False} if chat_id in self.plain_groups else {}
        return (
            self.chat(chat_id)
            | forum
            | {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": gifts,
            }
        )

    def _api_getChatMember(self, p: JSON) -> JSON:
        chat_id, user_id = _require(p, "chat_id"), _require(p, "user_id")
        if user_id == self.bot_id and self.bot_member is not None:
            return {"user": self.bot_user, **self.bot_member}
        if user_id == self.bot_id:
            flags = dict.fromkeys(_ADMIN_RIGHTS.split(), True)
            return {
                "user": self.bot_user,
                "status": "administrator",
                "can_be_edited": False,
                "is_anonymous": False,
                **flags,
            }
        user = self.users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "User"})
        return {
            "user": user,
            "status": "member" if user_id in self.staff_members.get(chat_id, set()) else "left",
        }

    def _api_createForumTopic(self, p: JSON) -> JSON:
        chat_id = _require(p, "chat_id")
        if chat_id > 0:
            raise bad_request("the chat is not a forum")
        topic = self.topic(
            chat_id,
            self.new_message_id(chat_id),
            _require(p, "name"),
            int(p.get("icon_color") or DEFAULT_ICON_COLOR),
        )
        return {k: v for k, v in topic.items() if k != "closed"}

    def _existing_topic(self, p: JSON) -> JSON:
        key = (_require(p, "chat_id"), _require(p, "message_thread_id"))
        if key in self.deleted_threads or key not in self.topics:
            raise ApiError(400, THREAD_NOT_FOUND)
        return self.topics[key]

    def _api_editForumTopic(self, p: JSON) -> bool:
        topic = self._existing_topic(p)
        topic.update({k: p[k] for k in ("name", "icon_custom_emoji_id") if p.get(k)})
        return True

    def _api_closeForumTopic(self, p: JSON) -> bool:
        return self._set_closed(self._existing_topic(p), True)

    def _api_reopenForumTopic(self, p: JSON) -> bool:
        return self._set_closed(self._existing_topic(p), False)

    def _set_closed(self, topic: JSON, closed: bool) -> bool:
        if topic["closed"] == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic["closed"] = closed
        return True

    def _api_deleteForumTopic(self, p: JSON) -> bool:
        self._existing_topic(p)
        self.deleted_threads.add((p["chat_id"], p["message_thread_id"]))
        return True

    def _api_getFile(self, p: JSON) -> JSON:
        file_id = str(_require(p, "file_id"))
        if file_id not in self.files:
            raise bad_request("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id[-16:]}",
            "file_size": len(self.files[file_id]),
            "file_path": f"files/{file_id}",
        }

    # ------------------------------------------------------------------ queueing updates
    def push_update(self, update: JSON) -> JSON:
        """Queue a raw update for getUpdates (an update_id is added if missing)."""
        update.setdefault("update_id", next(self._update_ids))
        if "callback_query" in update:
            self._open_callbacks.add(update["callback_query"]["id"])
        self._pending.append(update)
        self._notify()
        return update

    # push_* = make_* (see TelegramState) + queue for getUpdates; same arguments.
    def push_private_text(self, *args: Any, **kwargs: Any) -> JSON:
        return self.push_update(self.make_private_text(*args, **kwargs))

    def push_private_photo(self, *args: Any, **kwargs: Any) -> JSON:
        return self.push_update(self.make_private_photo(*args, **kwargs))

    def push_private_sticker(self, *args: Any, **kwargs: Any) -> JSON:
        return self.push_update(self.make_private_sticker(*args, **kwargs))

    def push_private_voice(self, *args: Any, **kwargs: Any) -> JSON:
        return self.push_update(self.make_private_voice(*args, **kwargs))

    def push_private_document(self, *args: Any, **kwargs: Any) -> JSON:
        return self.push_update(self.make_private_document(*args, **kwargs))

    def push_callback(self, *args: Any, **kwargs: Any) -> JSON:
        return self.push_update(self.make_callback(*args, **kwargs))

    def push_group_text(self, *args: Any, **kwargs: Any) -> JSON:
        return self.push_update(self.make_group_text(*args, **kwargs))

    def push_group_photo(self, *args: Any, **kwargs: Any) -> JSON:
        return self.push_update(self.make_group_photo(*args, **kwargs))

    def push_group_callback(self, *args: Any, **kwargs: Any) -> JSON:
        return self.push_update(self.make_group_callback(*args, **kwargs))

    def push_group_command(self, *args: Any, **kwargs: Any) -> JSON:
        return self.push_update(self.make_group_command(*args, **kwargs))


def _checked_text(p: JSON) -> str:
    text = rendered_text(str(p.get("text", "")), p.get("parse_mode"))
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > 4096:
        raise bad_request("message is too long")
    return text


def _caption(p: JSON) -> JSON:
    return caption_content(p.get("caption"), p.get("caption_entities"))


def _require(p: JSON, key: str) -> Any:
    if p.get(key) in (None, ""):
        raise bad_request(f"{key} is empty")
    return p[key]
