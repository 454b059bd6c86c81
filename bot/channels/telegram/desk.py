"""The staff desk in a Telegram forum supergroup: one topic per citizen conversation.

Topic and message links live in the database (never routed by forward metadata). A deleted
topic answers "message thread not found": we open a new one and carry on. Posts come from the
durable outbox (bot.delivery): a post that fails for a transient reason is retried later, and
the topic is created by the first post that needs it, so a crash between creating the handoff
and posting its header never leaves staff without the header.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import logging

from telegram.error import BadRequest, NetworkError, TelegramError

from bot.channels.telegram.convert import CHANNEL
from bot.channels.telegram.keyboard import messages
from bot.channels.telegram.sender import Sender, retry_is_safe, wait_before_retry
from bot.crashpoints import crash_point
from bot.delivery import Outcome, accepted
from flows.models import Reply, StaffNotice
from flows.notices import render
from flows.ports import Clock, Conversation, DeskLinkRepo, OutboxItem, StaffDesk, Storage

log = logging.getLogger(__name__)
TOPIC_NAME_CHARS = 128
THREAD_GONE = "thread not found"
CREATING = 0  # stored as the thread id while a topic is being created (Telegram never uses 0)
TOPIC_KINDS = ("handoff", "citizen", "reminder", "undelivered", "info")


class TelegramDesk(StaffDesk):
    def __init__(
        self,
        sender: Sender,
        chat_id: int,
        storage: Storage,
        links: DeskLinkRepo,
        clock: Clock,
    ) -> None:
        self._sender = sender
        self._chat_id = chat_id
        self._storage = storage
        self._links = links
        self._clock = clock
        self._topic_locks: dict[int, asyncio.Lock] = {}

    @property
    def chat_id(self) -> int:
        return self._chat_id

    async def post(self, notice: StaffNotice) -> None:
        """Direct post (no outbox); production posts go through `attempt`."""
        try:
            await self._post(notice)
        except TelegramError:
            # the notice's text is the citizen's: name the kind only
            log.exception("could not post a %s notice to the staff group", notice.kind)

    async def attempt(self, item: OutboxItem) -> Outcome:
        """Deliver one outbox entry: sent, retry later (transient), or failed for good."""
        notice = item.outgoing.notice
        assert notice is not None
        try:
            if item.outgoing.thread is not None or item.outgoing.photo is not None:
                edit = item.outgoing.edit
                await self._answer(
                    render(notice),
                    item.outgoing.thread,
                    item.outgoing.photo,
                    item.progress,
                    int(edit) if edit and edit.isdigit() else None,
                )
            else:
                await self._post(notice, item.progress)
        except BadRequest as exc:
            return Outcome("failed", exc.message)
        except NetworkError as exc:  # no answer: it may be posted; retry after as long again
            return Outcome("retry", str(exc), wait=wait_before_retry(exc, self._sender.timeout))
        except TelegramError as exc:
            return Outcome("retry", str(exc))
        return Outcome("sent")

    async def _answer(
        self,
        reply: Reply,
        thread: str | None,
        photo: str | None,
        start: int = 0,
        edit: int | None = None,
    ) -> None:
        """An answer to a staff command, in the topic where it was asked (or in place of the
        desk message `edit`). `start`: parts delivered before a crash (never sent again)."""
        thread_id = int(thread) if thread is not None and thread.isdigit() else None
        if photo is None:
            await self._sender.send_reply(
                self._chat_id,
                reply,
                thread_id=thread_id,
                edit=edit if start == 0 else None,
                start=start,
            )
            return
        if start > 0:
            return
        picture = base64.b64decode(photo)
        await self._sender.call(
            functools.partial(
                self._sender.bot.send_photo, self._chat_id, picture, message_thread_id=thread_id
            )
        )
        accepted(1)

    async def _post(self, notice: StaffNotice, start: int = 0) -> None:
        conversation = None
        if notice.key is not None and notice.kind in TOPIC_KINDS:
            conversation = await self._storage.conversations.by_key(notice.key)
        reply = render(notice)
        if conversation is None:
            await self._sender.send_reply(self._chat_id, reply, start=start)
            return
        parts = len(messages(reply))
        if start < parts:
            await self._to_topic(conversation, reply, notice.subject, start)
        media = notice.media is not None and notice.origin and conversation.key.channel == CHANNEL
        if media and start <= parts and notice.origin:
            await self._copy_media(conversation, notice.origin)
            accepted(parts + 1)

    # --- topics ------------------------------------------------------------------------------

    async def topic_for(self, conversation: Conversation, subject: str | None) -> int:
        """The conversation's staff topic, created on first need.

        createForumTopic has no idempotency key, so a marker (thread CREATING) is stored before
        the call and replaced by the id after it. Finding the marker means an earlier attempt
        died (or lost the answer) in between and a topic may exist that nothing points to: the
        new topic and the general topic then say so, so staff are never silently split."""
        lock = self._topic_locks.setdefault(conversation.id, asyncio.Lock())
        async with lock:
            link = await self._links.topic(conversation.id)
            here = link is not None and link[0] == self._chat_id
            if link is not None and here and link[1] != CREATING:
                return link[1]
            earlier = link is not None and here  # the marker of an attempt that never finished
            name = conversation.display_name or f"Người dân {conversation.key.user_id[-4:]}"
            title = f"{name} · {subject or 'Hỏi chung'}"[:TOPIC_NAME_CHARS]
            now = self._clock.now()
            await self._links.set_topic(conversation.id, self._chat_id, CREATING, now)
            try:
                topic = await self._sender.call(
                    lambda: self._sender.bot.create_forum_topic(self._chat_id, title)
                )
            except (BadRequest, NetworkError) as exc:
                if isinstance(exc, BadRequest) or retry_is_safe(exc):  # surely no topic made
                    await self._links.drop_topic(conversation.id)
                raise
            crash_point("topic-created")
            thread = topic.message_thread_id
            await self._links.set_topic(conversation.id, self._chat_id, thread, self._clock.now())
            if earlier:
                await self._warn_split(name, thread)
            return thread

    async def _warn_split(self, name: str, thread: int) -> None:
        """Tell staff an earlier topic for the same citizen may exist (not an outbox part)."""
        log.warning("a staff topic was created again after an interrupted attempt")
        note = (
            f"Lưu ý: có thể đã có một chủ đề khác mang tên «{name}» cho cùng người dân này "
            "(tạo trước khi hệ thống khởi động lại). Xin tiếp tục trong chủ đề mới nhất; "
            "chủ đề cũ có thể đóng lại."
        )
        for where in (thread, None):
            with contextlib.suppress(TelegramError):
                await self._sender.call(
                    functools.partial(
                        self._sender.bot.send_message, self._chat_id, note, message_thread_id=where
                    )
                )

    async def _to_topic(
        self, conversation: Conversation, reply: Reply, subject: str | None, start: int = 0
    ) -> None:
        thread = await self.topic_for(conversation, subject)
        try:
            sent = await self._sender.send_reply(
                self._chat_id, reply, thread_id=thread, start=start
            )
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
