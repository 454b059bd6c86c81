"""Every send to Telegram goes through here, with one failure policy.

- 429 (RetryAfter): wait as told and try again (PTB's AIORateLimiter already paces sends; this
  covers what still slips through).
- 5xx, timeouts, connection errors: retry with backoff; if still failing, the reply is queued in
  the database and retried later, so a transient outage loses nothing.
- 403 (blocked by the user) and other 400s: not retried; the caller learns it was not delivered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.channels.retry import RETRY_LATER, Attempt, retry_due
from bot.channels.telegram.keyboard import keyboard, messages
from bot.storage.links import PendingSend, PendingSends
from flows.models import ConversationKey, Reply
from flows.ports import Clock, Outbox, StaffDesk

log = logging.getLogger(__name__)
T = TypeVar("T")
CHANNEL = "telegram"


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class Sender:
    def __init__(
        self, bot: Bot, backoff: Sequence[float] = (0.5, 1.0, 2.0), max_wait: float = 30.0
    ) -> None:
        self.bot = bot
        self._backoff = tuple(backoff)
        self._max_wait = max_wait

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API call with the retry policy; raise the last error if it never works."""
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
            except NetworkError:  # includes TimedOut and 5xx answers
                if attempt >= len(self._backoff):
                    raise
                await asyncio.sleep(self._backoff[attempt])
            attempt += 1

    async def send_reply(
        self, chat_id: int, reply: Reply, thread_id: int | None = None, edit: int | None = None
    ) -> list[Message]:
        sent: list[Message] = []
        for index, message in enumerate(messages(reply)):
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
                        )
                    )
                    if isinstance(edited, Message):
                        sent.append(edited)
                    continue
                except BadRequest as exc:  # too old to edit, or identical: send a new one
                    log.info("edit failed (%s); sending instead", exc.message)
            send = functools.partial(
                self.bot.send_message,
                chat_id,
                message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                message_thread_id=thread_id,
            )
            sent.append(await self.call(send))
        return sent


class TelegramOutbox(Outbox):
    """Replies to Telegram citizens; what cannot be sent now is queued and retried later."""

    def __init__(self, sender: Sender, pending: PendingSends, clock: Clock) -> None:
        self._sender = sender
        self._pending = pending
        self._clock = clock

    async def deliver(self, key: ConversationKey, reply: Reply, edit: int | None = None) -> bool:
        try:
            await self._sender.send_reply(int(key.user_id), reply, edit=edit)
        except Forbidden:
            log.info("citizen %s has blocked the bot", key)
            return False
        except BadRequest as exc:
            log.warning("Telegram refused a reply to %s: %s", key, exc.message)
            return False
        except TelegramError as exc:
            now = self._clock.now()
            await self._pending.add(key, reply, str(exc), now, now + RETRY_LATER)
            log.warning("reply to %s queued for a later retry: %s", key, exc)
        return True

    async def send(self, key: ConversationKey, reply: Reply) -> bool:
        return await self.deliver(key, reply)

    async def retry_pending(self, desk: StaffDesk | None) -> int:
        """Resend queued replies that are due; returns how many were delivered."""
        return await retry_due(self._pending, CHANNEL, self._clock, self._send_again, desk)

    async def _send_again(self, item: PendingSend) -> tuple[Attempt, str]:
        try:
            await self._sender.send_reply(int(item.key.user_id), item.reply)
        except (Forbidden, BadRequest) as exc:
            return "failed", str(exc)
        except TelegramError as exc:
            return "retry", str(exc)
        return "sent", ""
