"""The web chat channel: a JSON API for the widget (bot/web/static/widget.js) on the same ASGI app.

Like Zalo, inbound messages are stored in the durable inbox before the browser is told they
arrived, processed by the same engine in order per citizen, and the replies go through the
durable outbox; here "delivering" a reply means writing it to the widget's message log
(bot.storage.webchat), from which the browser fetches everything after the last sequence number
it has (a long poll). So a lost connection loses nothing and a resend repeats nothing:

- the browser keeps a session token (localStorage) and gives each message its own client id;
  the inbox key is (citizen, client id), so a resent message is stored and answered once;
- lines carry a sequence number that only grows; `GET /chat/api/messages?after=N` returns each
  line after N exactly once, in order.

The token is a bearer secret: only its hash is the citizen's id, in the database and in logs.
Requests are plain-text JSON without custom headers (no CORS preflight; old Android browsers),
and no cookies, so any portal may embed the widget.

Each commune of a province has its own chat under `/c/<commune>/` (its portal embeds
`/c/<commune>/widget.js`; the script finds its API next to itself); the implicit single commune
keeps `/widget.js` and `/chat/...`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import json
import logging
import re
import secrets
import urllib.parse
from pathlib import Path
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.web.limits import Buckets
from bot.delivery import Outcome
from bot.http import read_limited
from bot.inbox_worker import InboxWorker
from bot.outbound import ChannelLimits, OutMessage, render
from bot.storage.files import StaffFiles
from bot.storage.webchat import ChatLine, NewLine, WebChatLog
from flows import texts
from flows.engine import Engine
from flows.models import Button, ConversationKey, Inbound, Reply
from flows.ports import Clock, InboxItem, Outbox, OutboxItem, Storage

log = logging.getLogger(__name__)
CHANNEL = "web"
# Every choice is a big button (a list of 20 procedures too), numbered so that typing the number
# works as well; shorter messages read better on a phone.
LIMITS = ChannelLimits(text_chars=1500, max_buttons=None, label_chars=60)
WIDGET = Path(__file__).resolve().parents[2] / "web" / "static" / "widget.js"
MAX_BODY = 4096  # bytes of one request
MAX_TEXT = 1000  # characters of one message
MAX_WAIT = 25.0  # seconds a long poll is held (below common proxy timeouts of 30-60 s)
MAX_POLLS = 3  # concurrent long polls of one session (tabs)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
_BUTTON = re.compile(r"[\x21-\x7e]{1,64}")
CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}


def citizen_of(token: str) -> str:
    """The citizen's id for a session token: a hash, so the database and logs never hold it."""
    return "w" + hashlib.sha256(token.encode()).hexdigest()[:24]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status, headers=CORS)


FILE_BUTTON = "file:"  # a stored line's "button" that is a staff file to download, not a choice


def _line(line: ChatLine) -> dict[str, Any]:
    files = [b for b in line.buttons if b.data.startswith(FILE_BUTTON)]
    out: dict[str, Any] = {
        "seq": line.seq,
        "from": line.sender,
        "text": line.text,
        "buttons": [{"label": b.label, "data": b.data} for b in line.buttons if b not in files],
        "id": line.client_id,
    }
    if files:
        out["file"] = {"id": int(files[0].data[len(FILE_BUTTON) :]), "name": files[0].label}
    return out


def _numbered(reply: Reply, message: OutMessage) -> tuple[Button, ...]:
    """Buttons labelled "1. …" when a typed number chooses them (not while a number answers a
    question, such as how many copies)."""
    if not reply.numbered_choices or len(message.buttons) < 2:
        return message.buttons
    return tuple(
        Button(label=f"{i}. {b.label}", data=b.data) for i, b in enumerate(message.buttons, 1)
    )


class WebOutbox(Outbox):
    """Replies to web citizens: written to the chat log (the outbox transport for "web")."""

    def __init__(self, storage: Storage, chat_log: WebChatLog, clock: Clock) -> None:
        self._storage = storage
        self._log = chat_log
        self._clock = clock
        self._waiters: dict[str, set[asyncio.Event]] = {}

    async def attempt(self, item: OutboxItem) -> Outcome:
        outgoing = item.outgoing
        assert outgoing.key is not None and outgoing.reply is not None
        if outgoing.attachment is not None:  # a staff file: a line with its download link
            name = outgoing.reply.text.removeprefix("📎 ")
            line = NewLine(
                sender="bot",
                text=outgoing.reply.text,
                ref=f"o{item.id}.0",
                buttons=(Button(label=name, data=f"{FILE_BUTTON}{outgoing.attachment}"),),
            )
            await self._log.append(
                outgoing.key.user_id, outgoing.conversation_id, [line], self._clock.now()
            )
            self.wake(outgoing.key.user_id)
            return Outcome("sent")
        await self._write(outgoing.key, outgoing.reply, f"o{item.id}", outgoing.conversation_id)
        return Outcome("sent")

    async def send(self, key: ConversationKey, reply: Reply) -> bool:
        """Direct send, for an engine without a durable outbox."""
        await self._write(key, reply, f"d{secrets.token_hex(8)}")
        return True

    async def _write(
        self, key: ConversationKey, reply: Reply, ref: str, conversation_id: int | None = None
    ) -> None:
        if conversation_id is None:
            found = await self._storage.conversations.by_key(key)
            conversation_id = found.id if found else None
        lines = [
            NewLine(sender="bot", text=m.text, ref=f"{ref}.{i}", buttons=_numbered(reply, m))
            for i, m in enumerate(render(reply, LIMITS))
        ]
        await self._log.append(key.user_id, conversation_id, lines, self._clock.now())
        self.wake(key.user_id)

    def wake(self, user: str) -> None:
        for event in self._waiters.get(user, ()):
            event.set()

    @contextlib.contextmanager
    def waiter(self, user: str) -> Any:
        event = asyncio.Event()
        self._waiters.setdefault(user, set()).add(event)
        try:
            yield event
        finally:
            waiting = self._waiters.get(user)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._waiters[user]

    def polls(self, user: str) -> int:
        return len(self._waiters.get(user, ()))


class WebChat:
    """The channel: HTTP API, inbox processing, outbox transport. `bind(engine)`, `start()`."""

    def __init__(
        self,
        storage: Storage,
        chat_log: WebChatLog,
        clock: Clock,
        *,
        max_wait: float = MAX_WAIT,
        concurrency: int = 64,
        poll_seconds: float = 1.0,
        burst: int = 10,
        per_second: float = 0.5,
        new_sessions: tuple[int, float] = (60, 1.0),
        prefix: str = "",
        files: StaffFiles | None = None,
    ) -> None:
        """`burst`, `per_second`: messages one session may send; `new_sessions`: (burst, rate)
        of sessions one address may open (a reverse proxy makes everyone one address);
        `prefix`: where this commune's routes live ("" or "/c/<commune>"); `files`: where
        staff files are stored (downloads)."""
        self.prefix = prefix
        self._files = files
        self._storage = storage
        self._log = chat_log
        self._clock = clock
        self._max_wait = max_wait
        self.outbox = WebOutbox(storage, chat_log, clock)
        self._engine: Engine | None = None
        self._inbox = InboxWorker(
            storage,
            clock,
            CHANNEL,
            self._handle,
            lambda data: str(data.get("user", "")),
            "web chat message",
            concurrency=concurrency,
            poll_seconds=poll_seconds,
            give_up=self._give_up,
        )
        self._sends = Buckets(clock, burst, per_second)
        self._sessions = Buckets(clock, *new_sessions)

    def bind(self, engine: Engine) -> None:
        self._engine = engine

    # --- HTTP ----------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        at = self.prefix
        return [
            Route(f"{at}/widget.js", self.widget, methods=["GET"]),
            Route(f"{at}/chat/privacy", self.privacy, methods=["GET"]),
            Route(f"{at}/chat/api/session", self.new_session, methods=["POST", "OPTIONS"]),
            Route(f"{at}/chat/api/send", self.receive, methods=["POST", "OPTIONS"]),
            Route(f"{at}/chat/api/messages", self.messages, methods=["GET", "OPTIONS"]),
            Route(f"{at}/chat/api/file/{{file_id:int}}", self.download, methods=["GET"]),
        ]

    async def download(self, request: Request) -> Response:
        """A staff file, only to the session whose conversation it belongs to (404 otherwise:
        nobody learns that the file exists)."""
        token = request.query_params.get("session", "")
        missing = _error(404, "not found")
        if self._files is None or not _TOKEN.fullmatch(token):
            return missing
        found = await self._files.get(request.path_params["file_id"])
        if found is None:
            return missing
        key = ConversationKey(channel=CHANNEL, user_id=citizen_of(token))
        owner = await self._storage.conversations.by_key(key)
        if owner is None or owner.id != found.conversation_id:
            return missing
        quoted = urllib.parse.quote(found.name)
        return Response(
            found.data,
            media_type=found.mime,
            headers={
                **CORS,
                "Content-Disposition": f"attachment; filename*=UTF-8''{quoted}",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def widget(self, request: Request) -> Response:
        return Response(
            WIDGET.read_bytes(),
            media_type="application/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
        )

    async def privacy(self, request: Request) -> Response:
        body = (
            '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>Quyền riêng tư – Trợ lý thủ tục hành chính</title>"
            "<style>body{font:20px/1.6 system-ui,sans-serif;max-width:40em;margin:1em auto;"
            "padding:0 1em;color:#1a1a1a;background:#fff}h1{font-size:1.4em}</style></head>"
            "<body><main><h1>Quyền riêng tư</h1>"
            f"<p>{html.escape(texts.PRIVACY)}</p>"
            f"<p>{html.escape(WIDGET_NOTICE)}</p></main></body></html>"
        )
        return Response(body, media_type="text/html; charset=utf-8")

    async def _options(self) -> Response:
        headers = {**CORS, "Access-Control-Allow-Methods": "GET, POST, OPTIONS"}
        headers["Access-Control-Allow-Headers"] = "Content-Type"
        return Response(status_code=204, headers=headers)

    async def new_session(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return await self._options()
        if not self._sessions.allow(request.client.host if request.client else "-"):
            return _error(429, "too many new sessions")
        return JSONResponse({"ok": True, "session": secrets.token_urlsafe(24)}, headers=CORS)

    async def _body(self, request: Request) -> dict[str, Any] | Response:
        try:
            body = await read_limited(request, MAX_BODY)
        except ClientDisconnect:  # the page went away mid-request: nothing stored
            return _error(400, "incomplete request")
        if body is None:
            return _error(413, "request too large")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return _error(400, "not JSON")
        if not isinstance(data, dict):
            return _error(400, "not an object")
        return data

    async def receive(self, request: Request) -> Response:
        """Store the message (and its echo in the log) before saying it arrived."""
        if request.method == "OPTIONS":
            return await self._options()
        data = await self._body(request)
        if isinstance(data, Response):
            return data
        token, client_id = data.get("session"), data.get("id")
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            return _error(400, "bad session")
        if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
            return _error(400, "bad message id")
        text, button, label = data.get("text"), data.get("button"), data.get("label")
        if button is not None:
            if not isinstance(button, str) or not _BUTTON.fullmatch(button):
                return _error(400, "bad button")
            shown = label if isinstance(label, str) else ""
            payload = {"kind": "button", "button": button}
        else:
            if not isinstance(text, str) or not text.strip():
                return _error(400, "empty message")
            if len(text) > MAX_TEXT:
                return _error(413, "message too long")
            shown = text
            payload = {"kind": "text", "text": text}
        try:
            (json.dumps(payload) + shown).encode("utf-8")
        except UnicodeEncodeError:
            return _error(400, "not valid Unicode")
        user = citizen_of(token)
        if not self._sends.allow(user):
            return _error(429, "too many messages")
        now = self._clock.now()
        key = ConversationKey(channel=CHANNEL, user_id=user)
        found = await self._storage.conversations.by_key(key)
        conversation = found or await self._storage.conversations.get_or_create(key, now)
        echo = NewLine("me", shown.strip()[:MAX_TEXT], f"c{client_id}", client_id=client_id)
        await self._log.append(user, conversation.id, [echo], now)
        payload.update({"user": user, "id": client_id})
        stored = await self._storage.inbox.receive(
            CHANNEL, f"{user}:{client_id}", json.dumps(payload, ensure_ascii=False), now
        )
        self._inbox.wake()
        self.outbox.wake(user)
        return JSONResponse({"ok": True, "duplicate": not stored}, headers=CORS)

    async def messages(self, request: Request) -> Response:
        """Every line after `after`; with `wait`, held until there is one (or `wait` seconds)."""
        if request.method == "OPTIONS":
            return await self._options()
        token = request.query_params.get("session", "")
        if not _TOKEN.fullmatch(token):
            return _error(400, "bad session")
        try:
            after = int(request.query_params.get("after", "0"))
            wait = min(float(request.query_params.get("wait", "0")), self._max_wait)
        except ValueError:
            return _error(400, "bad number")
        if after < 0 or not wait >= 0:  # `not >=` refuses NaN too
            return _error(400, "bad number")
        user = citizen_of(token)
        if wait and self.outbox.polls(user) >= MAX_POLLS:
            return _error(429, "too many open requests")
        with self.outbox.waiter(user) as event:
            lines = await self._log.after(user, after)
            if not lines and wait:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), wait)
                lines = await self._log.after(user, after)
        last = lines[-1].seq if lines else after
        return JSONResponse(
            {"ok": True, "messages": [_line(x) for x in lines], "last": last}, headers=CORS
        )

    # --- processing ------------------------------------------------------------------------------

    async def process_pending(self) -> int:
        if self._engine is None:
            raise RuntimeError("WebChat.bind(engine) was not called")
        return await self._inbox.process_pending()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every stored message is processed (tests)."""
        await self._inbox.drain(timeout)

    async def _give_up(self, data: Any, item: InboxItem) -> None:
        """A message the inbox skipped: its citizen is told it was not handled."""
        if self._engine is None or not isinstance(data, dict) or not data.get("user"):
            await self._storage.inbox.done(item.id, self._clock.now())
            return
        key = ConversationKey(channel=CHANNEL, user_id=str(data["user"]))
        await self._engine.unprocessed(key, item.id)

    async def _handle(self, data: dict[str, Any], item: InboxItem) -> None:
        assert self._engine is not None
        key = ConversationKey(channel=CHANNEL, user_id=str(data["user"]))
        if data.get("kind") == "button":
            inbound = Inbound(key=key, kind="button", button=str(data["button"]))
        else:
            inbound = Inbound(key=key, kind="text", text=str(data.get("text", "")))
        inbound = inbound.model_copy(update={"receipt": item.id, "message_id": str(data["id"])})
        replies = await self._engine.handle(inbound)
        if not self._engine.durable:
            for reply in replies:
                await self.outbox.send(key, reply)

    def health(self) -> str | None:
        if not self._inbox.running:
            return "web chat: message processing is not running"
        return None

    def start(self) -> None:
        self._inbox.start()

    async def stop(self) -> None:
        await self._inbox.stop()


WIDGET_NOTICE = (
    "Trong khung trò chuyện trên trang web, trình duyệt của bạn giữ một mã phiên để nối lại "
    "cuộc trò chuyện khi mất mạng. Xóa dữ liệu trang web trong trình duyệt thì bắt đầu lại từ đầu."
)
