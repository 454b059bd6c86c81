"""Retrying replies that could not be delivered at once, the same way on every channel.

A send that failed transiently is queued (bot.storage.links.PendingSends); the ticker calls each
channel's retry, which resends what is due. After too many attempts, or a definitive refusal,
the desk is told, so a citizen's answer is never dropped silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Literal

from bot.storage.links import PendingSend, PendingSends
from flows.models import Reply, StaffNotice
from flows.ports import Clock, StaffDesk

RETRY_LATER = dt.timedelta(minutes=1)
MAX_PENDING_ATTEMPTS = 30  # about half an hour of retries, one a minute

Attempt = Literal["sent", "retry", "failed"]
SendAgain = Callable[[PendingSend], Awaitable[tuple[Attempt, str]]]


async def retry_due(
    pending: PendingSends,
    channel: str,
    clock: Clock,
    send_again: SendAgain,
    desk: StaffDesk | None,
) -> int:
    """Resend this channel's due replies; returns how many were delivered."""
    now = clock.now()
    delivered = 0
    for item in await pending.due(now, channel=channel):
        outcome, reason = await send_again(item)
        if outcome == "sent":
            await pending.done(item.id)
            delivered += 1
        elif outcome == "retry" and item.attempts + 1 < MAX_PENDING_ATTEMPTS:
            await pending.retry_later(item.id, now + RETRY_LATER, reason)
        else:
            await pending.done(item.id)
            if desk is not None:
                await desk.post(
                    StaffNotice(
                        key=item.key,
                        kind="undelivered",
                        reply=Reply(
                            text=f"Không gửi được tin nhắn cho người dân: {item.reply.text[:300]}"
                        ),
                        at=now,
                    )
                )
    return delivered
