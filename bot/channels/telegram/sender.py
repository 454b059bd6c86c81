"""Every send to Telegram goes through here, with one failure policy.

- 429 (RetryAfter): wait as told and try again (PTB's AIORateLimiter already paces sends; this
  covers what still slips through).
- 5xx answers, connection errors (the request never reached Telegram): retry with backoff; if
  still failing, the outbox entry is retried later by bot.delivery, so an outage loses nothing.
- a read timeout or a dropped connection after the request was sent: Telegram may have
  delivered it (it has no idempotency key), so no retry here: the outbox tries again after its
  backoff, and after a timeout only once as long again has passed. With TELEGRAM_SEND_TIMEOUT (60 s) far above Telegram's usual
  latency, only an answer slower than that can make a duplicate (one, not one per retry).
- 403 (blocked by the user) and other 400s: not retried; the entry fails and staff are told.

A split message remembers how many parts went out, so a retry never repeats a delivered part.

The calls run on a send thread (bot.delivery.SendThread) with a Bot of their own, and each part
is noted in the send journal by an httpx response hook the moment Telegram's 200 arrives, before
python-telegram-bot reads and parses the body and before the main event loop (busy with turns)
gets to it: the window in which a kill -9 re-sends an accepted message is that short.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import functools
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import httpx
from telegram import Bot, InputFile, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.channels.telegram.keyboard import keyboard, messages
from bot.config import Settings
from bot.crashpoints import send_timing
from bot.delivery import Outcome, SendThread, accepted, completing, request_accepted
from bot.storage.files import StaffFile, StaffFiles
from flows.models import ConversationKey, Reply
from flows.ports import Outbox, OutboxItem

log = logging.getLogger(__name__)
T = TypeVar("T")
CHANNEL = "telegram"


NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def retry_is_safe(exc: NetworkError) -> bool:
    """False when the request went out and no answer came back (a read timeout, a dropped
    connection): Telegram may have delivered it. An answer (a 5xx) or a request that never
    reached Telegram (no connection) is safe to repeat at once."""
    cause = exc.__cause__
    return not isinstance(cause, httpx.HTTPError) or isinstance(cause, NOT_SENT)


def wait_before_retry(exc: NetworkError, timeout: float) -> float:
    """After a timeout Telegram may still be working on the request: wait as long again before
    a retry, so a slow spell costs at most one copy, never one per attempt."""
    return timeout if isinstance(exc.__cause__, (httpx.ReadTimeout, httpx.WriteTimeout)) else 0.0


# BOT_SEND_TIMING only: [fake's answer, hook entered, journal written] of the call under way
_timing: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "telegram_send_timing", default=None
)


async def note_accepted(response: httpx.Response) -> None:
    """httpx response hook (status line and headers in, body not read yet): a 200 to a request
    made inside `completing()` is a delivered part, noted now."""
    if response.status_code != 200:
        return
    entered = time.monotonic()
    request_accepted()
    stamps = _timing.get()
    if stamps is not None:
        stamps[:] = [float(response.headers.get("x-fake-at", "0")), entered, time.monotonic()]


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class Sender:
    def __init__(
        self,
        bot: Bot,
        backoff: Sequence[float] = (0.5, 1.0, 2.0),
        max_wait: float = 30.0,
        timeout: float = 60.0,
        thread: SendThread | None = None,
    ) -> None:
        """`timeout`: the client's read timeout for sends (how long an answer may take).
        `thread`: where the calls run; `bot` must then be one made for it (its own request
        objects, used by nothing else), with `note_accepted` among its response hooks."""
        self.bot = bot
        self.timeout = timeout
        self._backoff = tuple(backoff)
        self._max_wait = max_wait
        self._thread = thread

    async def close(self) -> None:
        """End the send thread (and close the bot's connections there)."""
        if self._thread is not None:
            await self._thread.stop(self._shutdown)

    async def _shutdown(self) -> None:
        request = getattr(self.bot, "request", None)
        if request is not None:
            await request.shutdown()

    async def call(self, make: Callable[[], Awaitable[T]], completes: int | None = None) -> T:
        """Run one Bot API call with the retry policy; raise the last error if it never works.
        `completes`: the parts of the current outbox entry delivered once Telegram accepts it
        (noted by the HTTP layer the moment it does)."""
        stamps: list[float] | None = None
        if os.environ.get("BOT_SEND_TIMING") and completes is not None:
            stamps = []
            _timing.set(stamps)
        if self._thread is None:
            result = await self._call(make, completes)
        else:
            result = await self._thread.run(self._call(make, completes))
        if stamps:
            send_timing(*stamps, time.monotonic())
        return result

    async def _call(self, make: Callable[[], Awaitable[T]], completes: int | None) -> T:
        with completing(completes) if completes is not None else contextlib.nullcontext():
            return await self._retrying(make)

    async def _retrying(self, make: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            try:
                return await make()
            except (BadRequest, Forbidden):
                raise
            except RetryAfter as exc:
                if attempt >= len(self._backoff):
                    raise
                await asyncio.sleep(min(retry_after_seconds(exc), self._max_wait))
            except NetworkError as exc:  # includes TimedOut and 5xx answers
                if attempt >= len(self._backoff) or not retry_is_safe(exc):
                    raise
                await asyncio.sleep(self._backoff[attempt])
            attempt += 1

    async def send_reply(
        self,
        chat_id: int,
        reply: Reply,
        thread_id: int | None = None,
        edit: int | None = None,
        start: int = 0,
        progress: list[int] | None = None,
    ) -> list[Message]:
        """Send the parts from `start` on; `progress[0]` counts the parts delivered so far."""
        sent: list[Message] = []
        for index, message in enumerate(messages(reply)):
            if index < start:
                continue
            if progress is not None:
                progress[:] = [index]
            markup = keyboard(message.buttons)
            if edit is not None and index == 0:
                try:
                    edited = await self.call(
                        functools.partial(
                            self.bot.edit_message_text,
                            message.text,
                            chat_id=chat_id,
                            message_id=edit,
                            parse_mode=ParseMode.HTML,
                            reply_markup=markup,
                        ),
                        completes=index + 1,
                    )
                    accepted(index + 1)
                    if isinstance(edited, Message):
                        sent.append(edited)
                    if progress is not None:
                        progress[:] = [index + 1]
                    continue
                except BadRequest as exc:
                    if "not modified" in exc.message.lower():  # edited before a crash: done
                        accepted(index + 1)
                        if progress is not None:
                            progress[:] = [index + 1]
                        continue
                    log.info("edit failed (%s); sending instead", exc.message)  # too old...
            send = functools.partial(
                self.bot.send_message,
                chat_id,
                message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                message_thread_id=thread_id,
            )
            sent.append(await self.call(send, completes=index + 1))
            accepted(index + 1)  # at once: the shortest window for a duplicate after a crash
            if progress is not None:
                progress[:] = [index + 1]
        return sent


class TelegramOutbox(Outbox):
    """Replies to Telegram citizens, as a transport of the outbox sender. `files`: where the
    files staff send from the web inbox are stored (set by the bootstrap)."""

    def __init__(self, sender: Sender, files: StaffFiles | None = None) -> None:
        self._sender = sender
        self.files = files

    async def attempt(self, item: OutboxItem) -> Outcome:
        outgoing = item.outgoing
        assert outgoing.key is not None and outgoing.reply is not None
        edit = int(outgoing.edit) if outgoing.edit and outgoing.edit.isdigit() else None
        progress = [item.progress]
        try:
            if outgoing.copy_of is not None:  # a staff member's file
                if item.progress == 0:  # not delivered before a crash
                    with completing(1):
                        await self._copy(int(outgoing.key.user_id), outgoing.copy_of)
                    accepted(1)
                return Outcome("sent")
            if outgoing.attachment is not None:  # a file sent from the web inbox
                if item.progress == 0:
                    stored = await self.files.get(outgoing.attachment) if self.files else None
                    if stored is None:  # erased with its conversation meanwhile
                        return Outcome("failed", "tệp không còn được lưu")
                    with completing(1):
                        await self._document(int(outgoing.key.user_id), stored)
                    accepted(1)
                return Outcome("sent")
            await self._sender.send_reply(
                int(outgoing.key.user_id),
                outgoing.reply,
                edit=edit if item.progress == 0 else None,
                start=item.progress,
                progress=progress,
            )
        except Forbidden:
            log.info("citizen %s has blocked the bot", outgoing.key)
            return Outcome("failed", "người dân đã chặn bot")
        except BadRequest as exc:
            log.warning("Telegram refused a reply to %s: %s", outgoing.key, exc.message)
            return Outcome("failed", exc.message)
        except NetworkError as exc:
            wait = wait_before_retry(exc, self._sender.timeout)
            return Outcome("retry", str(exc), progress[0], wait)
        except TelegramError as exc:
            return Outcome("retry", str(exc), progress[0])
        return Outcome("sent")

    async def _document(self, chat_id: int, stored: StaffFile) -> None:
        await self._sender.call(
            functools.partial(
                self._sender.bot.send_document,
                chat_id,
                InputFile(stored.data, filename=stored.name),
                filename=stored.name,
            )
        )

    async def _copy(self, chat_id: int, source: str) -> None:
        from_chat, _, message_id = source.partition(":")
        await self._sender.call(
            functools.partial(
                self._sender.bot.copy_message,
                chat_id,
                from_chat_id=int(from_chat),
                message_id=int(message_id),
            )
        )

    async def send(self, key: ConversationKey, reply: Reply) -> bool:
        """Direct send (no outbox): for answers that belong to no conversation (editors)."""
        try:
            await self._sender.send_reply(int(key.user_id), reply)
        except TelegramError as exc:
            log.warning("could not send to %s: %s", key, exc)
            return False
        return True


def send_bot(settings: Settings) -> ExtBot[int]:
    """A Bot for the send thread: its own connections (an httpx client belongs to one event
    loop), its own rate limiter, and the hook that journals a part as soon as Telegram's 200
    arrives."""
    assert settings.telegram_bot_token is not None
    timeout = settings.telegram_send_timeout
    request = HTTPXRequest(
        connection_pool_size=256,
        connect_timeout=10,
        read_timeout=timeout,  # a send given up on too early is a duplicate
        write_timeout=timeout,
        httpx_kwargs={"event_hooks": {"response": [note_accepted]}},
    )
    return ExtBot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_base_url,
        request=request,
        get_updates_request=request,  # never polls; no second client left open
        rate_limiter=AIORateLimiter(max_retries=2),
    )
