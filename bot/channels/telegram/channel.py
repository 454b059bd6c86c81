"""The Telegram channel: python-telegram-bot inside our own lifecycle.

PTB handlers only translate: updates become neutral Inbound models for the engine, replies are
rendered back by the sender. Citizens are served in private chats; desk staff act in the forum
supergroup; every other chat is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import BotCommand, CallbackQuery, Message, Update
from telegram.constants import ChatAction, ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels.telegram.checks import check_staff_group
from bot.channels.telegram.convert import CHANNEL, citizen_inbound, display_name
from bot.channels.telegram.desk import TelegramDesk
from bot.channels.telegram.processor import PerChatUpdateProcessor
from bot.channels.telegram.sender import Sender, TelegramOutbox
from bot.channels.telegram.tolerant import UpdatesRequest
from bot.config import Settings
from bot.storage.links import DeskLinks, PendingSends
from flows.engine import Engine
from flows.models import ConversationKey, Reply, StaffNotice
from flows.ports import Clock, Storage

log = logging.getLogger(__name__)
TYPING_AFTER = 0.8  # seconds of work before showing "typing…"
MEMBER_CACHE = dt.timedelta(minutes=5)
STALL_AFTER = dt.timedelta(minutes=2)  # beyond the long-poll timeout: the channel is stalled
STAFF_ACTIONS = ("claim", "return", "close")
CITIZEN_COMMANDS = [
    BotCommand("start", "Bắt đầu"),
    BotCommand("menu", "Menu thủ tục"),
    BotCommand("canbo", "Gặp cán bộ"),
    BotCommand("huy", "Hủy việc đang làm"),
    BotCommand("riengtu", "Quyền riêng tư"),
    BotCommand("xoadulieu", "Xóa dữ liệu của tôi"),
]
EditorCommand = Callable[[str, list[str]], Awaitable[str]]
ReportMaker = Callable[[], Awaitable[tuple[str, bytes | None]]]


class TelegramChannel:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        links: DeskLinks,
        pending: PendingSends,
        clock: Clock,
        backoff: tuple[float, ...] = (0.5, 1.0, 2.0),
        batch_seconds: float = 2.0,
    ) -> None:
        assert (
            settings.telegram_bot_token is not None and settings.telegram_staff_chat_id is not None
        )
        self._settings = settings
        self._storage = storage
        self._clock = clock
        self._webhook = settings.telegram_webhook_url is not None
        builder = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(settings.telegram_base_url)
            .rate_limiter(AIORateLimiter(max_retries=2))
            .concurrent_updates(PerChatUpdateProcessor(64))
            .connect_timeout(10)
            .read_timeout(settings.telegram_poll_timeout + 10)
            .get_updates_request(
                UpdatesRequest(on_poll=self._polled, connection_pool_size=1, connect_timeout=10)
            )
        )
        self._last_poll: dt.datetime | None = None
        self._started: dt.datetime | None = None
        if self._webhook:
            builder = builder.updater(None)
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.sender = Sender(self.app.bot, backoff=backoff)
        self.outbox = TelegramOutbox(self.sender, pending, clock)
        self.desk = TelegramDesk(
            self.sender, settings.telegram_staff_chat_id, storage, links, clock, batch_seconds
        )
        self._links = links
        self._engine: Engine | None = None
        self._editor_commands: dict[str, EditorCommand] = {}
        self._report: ReportMaker | None = None
        self._staff_commands: dict[str, EditorCommand] = {}
        self._members: dict[int, tuple[bool, dt.datetime]] = {}
        self._register()

    def bind(
        self,
        engine: Engine,
        editor_commands: dict[str, EditorCommand] | None = None,
        report: ReportMaker | None = None,
        staff_commands: dict[str, EditorCommand] | None = None,
    ) -> None:
        self._engine = engine
        self._editor_commands = dict(editor_commands or {})
        self._report = report
        self._staff_commands = dict(staff_commands or {})

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("TelegramChannel.bind(engine) was not called")
        return self._engine

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._started = self._clock.now()
        await self.app.initialize()
        assert self._settings.telegram_staff_chat_id is not None
        await check_staff_group(self.app.bot, self._settings.telegram_staff_chat_id)
        with contextlib.suppress(TelegramError):
            await self.app.bot.set_my_commands(CITIZEN_COMMANDS)
        await self.app.start()
        if self._webhook:
            secret = self._settings.telegram_webhook_secret
            await self.app.bot.set_webhook(
                url=str(self._settings.telegram_webhook_url),
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            assert self.app.updater is not None
            await self.app.updater.start_polling(
                poll_interval=0,
                timeout=int(self._settings.telegram_poll_timeout),
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,
            )

    async def stop(self) -> None:
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.desk.flush()
        await self.app.shutdown()

    async def feed(self, data: dict[str, Any]) -> None:
        """A webhook delivery: parsed and queued like a polled update. ValueError when it is
        not an update python-telegram-bot can read (the webhook answers 400)."""
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception:
            raise ValueError("not a readable Telegram update") from None
        await self.app.update_queue.put(update)

    def _polled(self) -> None:
        self._last_poll = self._clock.now()

    def health(self) -> str | None:
        """None when fine; otherwise why the channel is not taking updates."""
        if self._webhook:
            return None if self.app.running else "telegram: not running"
        updater = self.app.updater
        if updater is None or not updater.running:
            return "telegram: not polling"
        allowed = dt.timedelta(seconds=self._settings.telegram_poll_timeout) + STALL_AFTER
        since = self._last_poll or self._started
        if since is not None and self._clock.now() - since > allowed:
            return f"telegram: no successful getUpdates since {since.isoformat()}"
        return None

    async def retry_pending(self) -> int:
        return await self.outbox.retry_pending(self.desk)

    # --- handlers ----------------------------------------------------------------------------

    def _register(self) -> None:
        # Edited messages are not new questions or answers: sending them again would duplicate.
        fresh = filters.UpdateType.MESSAGE
        staff = filters.Chat(self._settings.telegram_staff_chat_id) & fresh
        private = filters.ChatType.PRIVATE & fresh
        app = self.app
        app.add_handler(TypeHandler(Update, self._dedupe), group=-1)
        app.add_handler(CallbackQueryHandler(self._staff_button, pattern=_staff_pattern()), group=0)
        app.add_handler(CallbackQueryHandler(self._example_button, pattern=r"^ex:"), group=0)
        app.add_handler(CommandHandler("hangcho", self._queue, filters=staff), group=0)
        app.add_handler(CommandHandler("baocao", self._report_command, filters=staff), group=0)
        app.add_handler(CommandHandler("phananh", self._staff_command, filters=staff), group=0)
        app.add_handler(
            MessageHandler(
                staff & ~filters.COMMAND & ~filters.StatusUpdate.ALL, self._staff_message
            ),
            group=0,
        )
        app.add_handler(MessageHandler(private, self._citizen), group=1)
        app.add_handler(CallbackQueryHandler(self._citizen), group=1)
        app.add_error_handler(self._error)

    async def _dedupe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Webhook retries and restarts can deliver an update twice: handle it once."""
        if not await self._storage.first_seen(
            "telegram-update", str(update.update_id), self._clock.now()
        ):
            raise ApplicationHandlerStop

    async def _error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("error while handling a Telegram update", exc_info=context.error)

    async def _citizen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat
        if query is not None and (chat is None or chat.type != "private"):
            await _answer(query)
            return
        if query is not None:
            await _answer(query)
        inbound = citizen_inbound(update)
        if inbound is None:
            return
        if inbound.kind == "text" and await self._editor_command(update, inbound.text):
            return
        typing = asyncio.create_task(self._typing_later(int(inbound.key.user_id)))
        try:
            replies = await self.engine.handle(inbound)
        finally:
            typing.cancel()
        edit = query.message.message_id if query is not None and query.message is not None else None
        for reply in replies:
            delivered = await self.outbox.deliver(
                inbound.key, reply, edit=edit if reply.replace else None
            )
            if not delivered:
                break

    async def _typing_later(self, chat_id: int) -> None:
        await asyncio.sleep(TYPING_AFTER)
        with contextlib.suppress(TelegramError):
            await self.app.bot.send_chat_action(chat_id, ChatAction.TYPING)

    async def _editor_command(self, update: Update, text: str) -> bool:
        user = update.effective_user
        if (
            user is None
            or user.id not in self._settings.telegram_editor_ids
            or not text.startswith("/")
        ):
            return False
        name, *args = text[1:].split()
        command = self._editor_commands.get(name.split("@")[0].lower())
        if command is None:
            return False
        answer = await command(display_name(user), args)
        await self.outbox.deliver(
            ConversationKey(channel=CHANNEL, user_id=str(user.id)), Reply(text=answer)
        )
        return True

    # --- staff group ---------------------------------------------------------------------------

    async def _is_staff(self, user_id: int) -> bool:
        now = self._clock.now()
        cached = self._members.get(user_id)
        if cached is not None and now - cached[1] < MEMBER_CACHE:
            return cached[0]
        try:
            member = await self.app.bot.get_chat_member(self.desk.chat_id, user_id)
            ok = member.status in (
                ChatMemberStatus.OWNER,
                ChatMemberStatus.ADMINISTRATOR,
                ChatMemberStatus.MEMBER,
            )
        except TelegramError:
            ok = False
        self._members[user_id] = (ok, now)
        return ok

    def _staff_name(self, update: Update) -> str:
        user = update.effective_user
        if user is None:
            return "Cán bộ"
        return self._settings.telegram_staff_names.get(user.id) or display_name(user) or "Cán bộ"

    async def _staff_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        chat = update.effective_chat
        if (
            chat is None
            or chat.id != self.desk.chat_id
            or not await self._is_staff(query.from_user.id)
        ):
            # A staff button outside the staff group, or pressed by someone not in it: refuse.
            await _answer(query, "Chỉ cán bộ trong nhóm hỗ trợ mới dùng được nút này.")
            raise ApplicationHandlerStop
        action, _, conversation_id = (query.data or "").partition(":")
        ok = await self.engine.staff_action(self._staff_name(update), int(conversation_id), action)  # type: ignore[arg-type]
        await _answer(query, "Đã thực hiện." if ok else "Cuộc trò chuyện không còn chờ cán bộ.")
        raise ApplicationHandlerStop

    async def _example_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An editor picks the guide a staff-answered question should teach the assistant."""
        query = update.callback_query
        assert query is not None
        chat = update.effective_chat
        if chat is None or chat.id != self.desk.chat_id:
            await _answer(query)
            raise ApplicationHandlerStop
        if query.from_user.id not in self._settings.telegram_editor_ids:
            await _answer(query, "Chỉ biên tập viên mới thêm được câu ví dụ.")
            raise ApplicationHandlerStop
        guide_id = (query.data or "")[3:]
        message = query.message if isinstance(query.message, Message) else None
        text = message.text if message is not None else None
        found = re.search(r"«(.+)»", str(text or ""), re.S)
        command = self._editor_commands.get("themcau")
        if guide_id == "-" or found is None or command is None:
            answer = "Đã bỏ qua."
        else:
            answer = await command(
                display_name(query.from_user), [guide_id, *found.group(1).split()]
            )
        await _answer(query, answer[:190])
        if message is not None:
            with contextlib.suppress(TelegramError):
                await self.app.bot.edit_message_text(
                    f"{text}\n\n→ {answer}", chat_id=chat.id, message_id=message.message_id
                )
        raise ApplicationHandlerStop

    async def _staff_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or user.is_bot or not message.message_thread_id:
            raise ApplicationHandlerStop
        conversation_id = await self._links.conversation_for_thread(
            self.desk.chat_id, message.message_thread_id
        )
        if conversation_id is None:
            raise ApplicationHandlerStop
        name = self._staff_name(update)
        if message.text:
            await self.engine.staff_reply(name, conversation_id, message.text)
        else:
            await self._staff_media(
                conversation_id, name, message.message_id, message.caption or ""
            )
        raise ApplicationHandlerStop

    async def _staff_media(
        self, conversation_id: int, name: str, message_id: int, caption: str
    ) -> None:
        conversation = await self._storage.find_conversation(conversation_id)
        if conversation is None:
            return
        if conversation.key.channel != CHANNEL:
            await self.desk.post(
                StaffNotice(
                    key=conversation.key,
                    reply=Reply(
                        text="Kênh của người dân này chỉ nhận tin nhắn chữ; hãy gõ nội dung."
                    ),
                    at=self._clock.now(),
                )
            )
            return
        try:
            await self.sender.call(
                lambda: self.app.bot.copy_message(
                    int(conversation.key.user_id),
                    from_chat_id=self.desk.chat_id,
                    message_id=message_id,
                )
            )
        except TelegramError as exc:
            log.warning("could not copy a staff file to the citizen: %s", exc)
            return
        await self.engine.staff_reply(
            name, conversation_id, caption or "(đã gửi tệp/ảnh)", deliver=False
        )

    async def _queue(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            raise ApplicationHandlerStop
        await self.sender.send_reply(
            self.desk.chat_id,
            Reply(text=await self.engine.queue()),
            thread_id=message.message_thread_id,
        )
        raise ApplicationHandlerStop

    async def _staff_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or not message.text or not await self._is_staff(user.id):
            raise ApplicationHandlerStop
        name, *args = message.text[1:].split()
        command = self._staff_commands.get(name.split("@")[0].lower())
        if command is not None:
            answer = await command(self._staff_name(update), args)
            await self.sender.send_reply(
                self.desk.chat_id, Reply(text=answer), thread_id=message.message_thread_id
            )
        raise ApplicationHandlerStop

    async def _report_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Staff: the last 30 days in a few lines, and the weekly chart."""
        message = update.effective_message
        if message is None or self._report is None:
            raise ApplicationHandlerStop
        thread = message.message_thread_id
        text, chart = await self._report()
        await self.sender.send_reply(self.desk.chat_id, Reply(text=text), thread_id=thread)
        if chart is not None:
            with contextlib.suppress(TelegramError):
                await self.sender.call(
                    functools.partial(
                        self.app.bot.send_photo, self.desk.chat_id, chart, message_thread_id=thread
                    )
                )
        raise ApplicationHandlerStop


def _staff_pattern() -> str:
    return r"^(" + "|".join(STAFF_ACTIONS) + r"):\d+$"


async def _answer(query: CallbackQuery, text: str | None = None) -> None:
    with contextlib.suppress(TelegramError):
        await query.answer(text)
