"""Route replies to the citizen's own channel (Telegram, Zalo...) by the conversation key."""

from __future__ import annotations

import logging

from flows.models import ConversationKey, Reply
from flows.ports import Outbox

log = logging.getLogger(__name__)


class RoutingOutbox(Outbox):
    def __init__(self, outboxes: dict[str, Outbox]) -> None:
        self._outboxes = outboxes

    async def send(self, key: ConversationKey, reply: Reply) -> bool:
        outbox = self._outboxes.get(key.channel)
        if outbox is None:
            log.warning("no channel %r configured to reach %s", key.channel, key)
            return False
        return await outbox.send(key, reply)

    def failure_reason(self, key: ConversationKey) -> str | None:
        outbox = self._outboxes.get(key.channel)
        return outbox.failure_reason(key) if outbox is not None else None
