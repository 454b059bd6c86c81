"""The staff desk in a Telegram forum supergroup: one topic per citizen conversation.

Topic and message links live in the database (never routed by forward metadata). A deleted
topic answers "message thread not found": we open a new one and carry on. Citizen messages that
arrive in a burst are sent as one post, because Telegram allows about 20 posts a minute to a
group and every topic shares that budget.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from telegram.error import BadRequest, TelegramError

from bot.channels.telegram.convert import CHANNEL
from bot.channels.telegram.sender import Sender
from bot.storage.links import DeskLinks
from flows.models import Reply, StaffNotice
from flows.ports import Clock, Conversation, StaffDesk, Storage

log = logging.getLogger(__name__)
TOPIC_NAME_CHARS = 128
THREAD_GONE = "thread not found"
TOPIC_KINDS = ("handoff", "citizen", "reminder", "undelivered", "info")


@dataclass
class _Burst:
    texts: list[str] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class TelegramDesk(StaffDesk):
    def __init__(
        self,
        sender: Sender,
        chat_id: int,
        storage: Storage,
        links: DeskLinks,
        clock: Clock,
        batch_seconds: float = 2.0,
    ) -> None:
        self._sender = sender
        self._chat_id = chat_id
        self._storage = storage
        self._links = links
        self._clock = clock
        self._batch_seconds = batch_seconds
        self._bursts: dict[int, _Burst] = {}
        self._topic_locks: dict[int, asyncio.Lock] = {}

    @property
    def chat_id(self) -> int:
        return self._chat_id

    async def post(self, notice: StaffNotice) -> None:
        try:
            await self._post(notice)
        except TelegramError:
            # the notice's text is the citizen's: name the kind only
            log.exception("could not post a %s notice to the staff group", notice.kind)

    async def _post(self, notice: StaffNotice) -> None:
        conversation = None
        if notice.key is not None and notice.kind in TOPIC_KINDS:
            conversation = await self._storage.find_by_key(notice.key)
        if conversation is None:
            await self._sender.send_reply(self._chat_id, notice.reply)
            return
        if notice.kind == "citizen" and notice.media is None and self._batch_seconds > 0:
            self._queue_burst(conversation, notice.reply.text)
            return
        await self.flush(conversation.id)
        await self._to_topic(conversation, notice.reply, notice.subject)
        if notice.media is not None and notice.origin and conversation.key.channel == CHANNEL:
            await self._copy_media(conversation, notice.origin)

    # --- topics ------------------------------------------------------------------------------

    async def topic_for(self, conversation: Conversation, subject: str | None) -> int:
        lock = self._topic_locks.setdefault(conversation.id, asyncio.Lock())
        async with lock:
            link = await self._links.topic(conversation.id)
            if link is not None and link[0] == self._chat_id:
                return link[1]
            name = conversation.display_name or f"Người dân {conversation.key.user_id[-4:]}"
            title = f"{name} · {subject or 'Hỏi chung'}"[:TOPIC_NAME_CHARS]
            topic = await self._sender.call(
                lambda: self._sender.bot.create_forum_topic(self._chat_id, title)
            )
            await self._links.set_topic(
                conversation.id, self._chat_id, topic.message_thread_id, self._clock.now()
            )
            return topic.message_thread_id

    async def _to_topic(
        self, conversation: Conversation, reply: Reply, subject: str | None
    ) -> None:
        thread = await self.topic_for(conversation, subject)
        try:
            sent = await self._sender.send_reply(self._chat_id, reply, thread_id=thread)
        except BadRequest as exc:
            if THREAD_GONE not in exc.message.lower():
                raise
            log.info("staff topic %s was deleted; opening a new one", thread)
            await self._links.drop_topic(conversation.id)
            thread = await self.topic_for(conversation, subject)
            recap = Reply(
                text="(Chủ đề cũ đã bị xóa, mở chủ đề mới.)\n" + reply.text, buttons=reply.buttons
            )
            sent = await self._sender.send_reply(self._chat_id, recap, thread_id=thread)
        for message in sent:
            await self._links.link_message(self._chat_id, message.message_id, conversation.id)

    async def _copy_media(self, conversation: Conversation, origin: str) -> None:
        thread = await self.topic_for(conversation, None)
        try:
            await self._sender.call(
                lambda: self._sender.bot.copy_message(
                    self._chat_id,
                    from_chat_id=int(conversation.key.user_id),
                    message_id=int(origin),
                    message_thread_id=thread,
                )
            )
        except (BadRequest, ValueError) as exc:
            log.warning("could not copy the citizen's file to the desk: %s", exc)

    # --- bursts of citizen messages -------------------------------------------------------------

    def _queue_burst(self, conversation: Conversation, text: str) -> None:
        burst = self._bursts.setdefault(conversation.id, _Burst())
        burst.texts.append(text)
        if burst.task is None or burst.task.done():
            burst.task = asyncio.create_task(self._flush_later(conversation))

    async def _flush_later(self, conversation: Conversation) -> None:
        await asyncio.sleep(self._batch_seconds)
        await self._flush_now(conversation)

    async def _flush_now(self, conversation: Conversation) -> None:
        burst = self._bursts.pop(conversation.id, None)
        if burst is None or not burst.texts:
            return
        try:
            await self._to_topic(conversation, Reply(text="\n".join(burst.texts)), None)
        except TelegramError:
            log.exception("could not post citizen messages to the staff topic")

    async def flush(self, conversation_id: int | None = None) -> None:
        """Post waiting bursts now (before another notice, and at shutdown)."""
        ids = [conversation_id] if conversation_id is not None else list(self._bursts)
        for cid in ids:
            burst = self._bursts.get(cid)
            if burst is None:
                continue
            if (
                burst.task is not None
                and not burst.task.done()
                and burst.task is not asyncio.current_task()
            ):
                burst.task.cancel()
            conversation = await self._storage.find_conversation(cid)
            if conversation is not None:
                await self._flush_now(conversation)
            else:
                self._bursts.pop(cid, None)
