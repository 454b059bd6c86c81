"""Replies to Zalo citizens: rendering within Zalo's limits, the reply window, retries.

Zalo allows 2,000 characters a message and at most 5 buttons (short titles); more options go as
a numbered list, which the core understands when typed. An OA may not answer a citizen whose
last interaction is older than 7 days: the outbox entry fails and staff are told, with why.
A transient failure (rate limit, 5xx, network, a token refresh that failed) is retried by the
outbox sender; the parts of a split message already delivered are not sent again.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from bot.channels.zalo.client import SEND_TIMEOUT, SendResult, ZaloClient
from bot.delivery import Outcome, accepted, completing
from bot.outbound import ChannelLimits, OutMessage, render
from flows.models import ConversationKey, Reply
from flows.ports import Clock, Outbox, OutboxItem, Storage

log = logging.getLogger(__name__)
LIMITS = ChannelLimits(text_chars=2000, max_buttons=5, callback_bytes=60, label_chars=20)
WINDOW = dt.timedelta(days=7)
WINDOW_CLOSED = -230
NOT_REACHABLE = (WINDOW_CLOSED, -213, -232, -244)
TEMPLATE_REFUSED = (-201,)


def zalo_message(message: OutMessage) -> dict[str, Any]:
    if not message.buttons:
        return {"text": message.text}
    return {
        "text": message.text,
        "attachment": {
            "type": "template",
            "payload": {
                "buttons": [
                    {"title": b.label, "type": "oa.query.hide", "payload": f"#{b.data}"}
                    for b in message.buttons
                ]
            },
        },
    }


def numbered(message: OutMessage) -> dict[str, Any]:
    """The same choices as a numbered list, for when a button template is refused."""
    if message.listed is not None:
        return {"text": message.listed}
    listing = "\n".join(f"{i}. {b.label}" for i, b in enumerate(message.buttons, start=1))
    return {"text": f"{message.text}\n\n{listing}\n(Gõ số để chọn.)"[: LIMITS.text_chars]}


class ZaloOutbox(Outbox):
    def __init__(self, client: ZaloClient, storage: Storage, clock: Clock) -> None:
        self.client = client
        self._storage = storage
        self._clock = clock
        self.last_error: dict[ConversationKey, int] = {}

    def failure_reason(self, key: ConversationKey) -> str | None:
        error = self.last_error.get(key)
        if error == WINDOW_CLOSED:
            return (
                "Zalo chỉ cho phép trả lời trong vòng 7 ngày kể từ tin nhắn cuối của người dân; "
                "tin sẽ gửi được khi người dân nhắn lại"
            )
        if error in NOT_REACHABLE:
            return f"Zalo không cho gửi tới người dân này (mã lỗi {error})"
        return None

    async def _window_open(self, key: ConversationKey, since: dt.datetime | None = None) -> bool:
        """Zalo accepts replies within 7 days of the citizen's last message. A conversation that
        is gone (erased with /xoadulieu) is measured from when the reply was queued: its last
        words were the citizen's own request."""
        conversation = await self._storage.conversations.by_key(key)
        if conversation is None:
            return since is not None and self._clock.now() - since <= WINDOW
        return self._clock.now() - conversation.last_seen_at <= WINDOW

    async def _send_one(self, user_id: str, message: OutMessage) -> SendResult:
        result = await self.client.send(user_id, zalo_message(message))
        if not result.ok and message.buttons and result.error in TEMPLATE_REFUSED:
            log.info("Zalo refused a button template (%s); sending a numbered list", result.error)
            result = await self.client.send(user_id, numbered(message))
        return result

    async def attempt(self, item: OutboxItem) -> Outcome:
        outgoing = item.outgoing
        assert outgoing.key is not None and outgoing.reply is not None
        key = outgoing.key
        if not await self._window_open(key, since=item.created_at):
            self.last_error[key] = WINDOW_CLOSED
            return Outcome("failed", self.failure_reason(key) or "Zalo -230")
        done = item.progress
        for index, message in enumerate(render(outgoing.reply, LIMITS)):
            if index < done:
                continue
            try:
                with completing(index + 1):  # noted by the client the moment Zalo accepts it
                    result = await self._send_one(key.user_id, message)
            except Exception as exc:  # a token refresh that failed, a bug: try again later
                return Outcome("retry", type(exc).__name__, done)
            if not result.ok:
                self.last_error[key] = result.error
                if result.transient:
                    wait = SEND_TIMEOUT if result.maybe_sent else 0.0  # it may still arrive
                    return Outcome("retry", result.message, done, wait)
                if result.error in NOT_REACHABLE:
                    log.info("Zalo citizen %s cannot be reached (%s)", key, result.error)
                else:
                    log.error("Zalo refused a reply to %s: %s", key, result.error)
                why = self.failure_reason(key) or f"Zalo {result.error}: {result.message}"
                return Outcome("failed", why[:200], done)
            done = index + 1
            accepted(done)  # noted at once: a crash now never sends this part again
        return Outcome("sent")

    async def send(self, key: ConversationKey, reply: Reply, *, answering: bool = False) -> bool:
        """Direct send (no outbox), for the inline mode of the engine. `answering`: a reply to
        the message the citizen just sent, so the window is open even when the conversation is
        gone (the confirmation of /xoadulieu)."""
        if not answering and not await self._window_open(key):
            self.last_error[key] = WINDOW_CLOSED
            return False
        for message in render(reply, LIMITS):
            try:
                result = await self._send_one(key.user_id, message)
            except Exception:
                return False
            if not result.ok:
                self.last_error[key] = result.error
                return False
        return True
