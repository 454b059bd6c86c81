"""The Telegram channel: python-telegram-bot inside our own lifecycle.

PTB handlers only translate: updates become neutral Inbound models for the engine, replies are
rendered back by the sender. Citizens are served in private chats; desk staff act in the forum
supergroup; every other chat is ignored.

Nothing Telegram hands us is confirmed before it is stored: polling stores each update in the
inbox before the next getUpdates offset confirms it (if it cannot be stored, the offset does
not move and Telegram delivers it again); a webhook delivery is stored before the 200. Updates
are then processed from the inbox, in order per chat and concurrently across chats, and the
turn that answers an update marks it done in its own commit.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import logging
import re
import warnings
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
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.channels.telegram.checks import check_staff_group
from bot.channels.telegram.convert import CHANNEL, citizen_inbound, display_name
from bot.channels.telegram.desk import TelegramDesk
from bot.channels.telegram.processor import PerChatUpdateProcessor, chat_key
from bot.channels.telegram.sender import Sender, TelegramOutbox, send_bot
from bot.config import Settings
from bot.crashpoints import crash_point
from bot.delivery import SendThread
from bot.inbox_worker import Claims, worn_out
from flows.callbacks import EXAMPLE_SKIP, STAFF_ACTS, Act, parse
from flows.desk import DeskService
from flows.engine import Engine
from flows.locks import KeyedLocks
from flows.models import DEFAULT_COMMUNE, ConversationKey, Reply, StaffNotice
from flows.ports import Clock, DeskLinkRepo, InboxEntryTaken, InboxItem, Outgoing, Storage

log = logging.getLogger(__name__)
TYPING_AFTER = 0.8  # seconds of work before showing "typing…"
MEMBER_CACHE = dt.timedelta(minutes=5)
STALL_AFTER = dt.timedelta(minutes=2)  # beyond the long-poll timeout: the channel is stalled
CITIZEN_COMMANDS = [
    BotCommand("start", "Bắt đầu"),
    BotCommand("menu", "Menu thủ tục"),
    BotCommand("canbo", "Gặp cán bộ"),
    BotCommand("huy", "Hủy việc đang làm"),
    BotCommand("riengtu", "Quyền riêng tư"),
    BotCommand("xoadulieu", "Xóa dữ liệu của tôi"),
]
TOPIC_COMMAND_HELP = (
    "Trong chủ đề của người dân: /ghichu <nội dung> (ghi chú nội bộ, người dân không thấy), "
    "/chuyen <tên cán bộ> (chuyển cho đồng nghiệp)."
)
INBOX_LEASE = dt.timedelta(seconds=30)  # a failed update is tried again after this
# an update that fails this often (or whose claim runs out this often: its process died) is
# skipped (logged), not retried
MAX_UPDATE_ATTEMPTS = 10
POLL_BACKOFF = (0.5, 1.0, 2.0, 5.0)
EditorCommand = Callable[[str, list[str]], Awaitable[str]]
ReportMaker = Callable[[], Awaitable[tuple[str, bytes | None]]]


class TelegramChannel:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        links: DeskLinkRepo,
        clock: Clock,
        backoff: tuple[float, ...] = (0.5, 1.0, 2.0),
        concurrency: int = 64,
        poll_seconds: float = 1.0,
        commune: str = DEFAULT_COMMUNE,
        send_thread: bool = True,
    ) -> None:
        """`send_thread`: sends run on a thread of their own (see bot.delivery.SendThread);
        off, they share the application's bot and event loop (a longer duplicate window)."""
        self._commune = commune  # stamped on every conversation key this channel makes
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
            .concurrent_updates(PerChatUpdateProcessor(concurrency))
            .connect_timeout(10)
            # long polls pass their own; a send given up on too early is a duplicate
            .read_timeout(settings.telegram_send_timeout)
            .write_timeout(settings.telegram_send_timeout)
            .updater(None)  # we poll ourselves: store first, confirm after
        )
        self._last_poll: dt.datetime | None = None
        self._started: dt.datetime | None = None
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.sender = (
            Sender(
                send_bot(settings),
                backoff=backoff,
                timeout=settings.telegram_send_timeout,
                thread=SendThread(f"telegram-send-{commune}"),
            )
            if send_thread
            else Sender(self.app.bot, backoff=backoff, timeout=settings.telegram_send_timeout)
        )
        self.outbox = TelegramOutbox(self.sender)
        self.desk = TelegramDesk(
            self.sender, settings.telegram_staff_chat_id, storage, links, clock
        )
        self._concurrency = asyncio.Semaphore(concurrency)
        self._poll_seconds = poll_seconds
        self._chat_locks: KeyedLocks[int] = KeyedLocks()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._claims: list[set[int]] = []  # per claim under way: inbox ids that ended meanwhile
        self._receipts: dict[int, int] = {}  # update id -> inbox id, while it is processed
        self._failed: set[int] = set()  # update ids whose handler raised
        self._leases = Claims(storage.inbox, clock, "Telegram update", INBOX_LEASE)
        self.offset = 0
        self._stopping = False
        self._standby = False  # polling mode, but another process holds the poller lease
        self._links = links
        self._engine: Engine | None = None
        self._desk_ops: DeskService | None = None
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
        self._desk_ops = DeskService(engine, self._storage)
        self._editor_commands = dict(editor_commands or {})
        self._report = report
        self._staff_commands = dict(staff_commands or {})

    @property
    def desk_ops(self) -> DeskService:
        if self._desk_ops is None:
            raise RuntimeError("TelegramChannel.bind(engine) was not called")
        return self._desk_ops

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("TelegramChannel.bind(engine) was not called")
        return self._engine

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, poll: bool = True) -> None:
        """`poll=False`: everything but getUpdates (another process holds the poller lease;
        `start_polling` once this one gets it)."""
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
        elif poll:
            await self.start_polling()
        else:
            self._standby = True
        self._tasks.append(asyncio.create_task(self._process_inbox()))
        self._leases.start()

    async def start_polling(self) -> None:
        if not self._stopping:
            self._standby = False
            self._tasks.insert(0, asyncio.create_task(self._poll()))  # what health watches

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()  # Python 3.11's wait_for can swallow a cancel: wait, bounded
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        self._tasks = []
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=5)
        await self._leases.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await self.sender.close()

    # --- the inbox ---------------------------------------------------------------------------

    async def store(self, data: dict[str, Any]) -> bool:
        """Put one update in the inbox; raises if it cannot be stored (do not confirm it)."""
        stored = await self._storage.inbox.receive(
            CHANNEL, str(data["update_id"]), json.dumps(data, ensure_ascii=False), self._clock.now()
        )
        self._wake.set()
        return stored

    async def feed(self, data: dict[str, Any]) -> None:
        """A webhook delivery: stored before the caller answers 200 (an error means 500, and
        Telegram delivers it again). ValueError when it is not an update python-telegram-bot
        can read (the webhook answers 400)."""
        if not isinstance(data.get("update_id"), int):
            raise ValueError("not a Telegram update")
        try:
            Update.de_json(data, self.app.bot)
        except Exception:
            raise ValueError("not a readable Telegram update") from None
        await self.store(data)
        crash_point("telegram-after-store")

    async def _poll(self) -> None:
        """getUpdates with the offset moved only past updates that are stored."""
        timeout = int(self._settings.telegram_poll_timeout)
        failures = 0
        while not self._stopping:
            try:
                # raw JSON, not parsed Updates: what is stored is exactly what Telegram sent
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", PTBUserWarning)
                    batch = await self.app.bot.do_api_request(
                        "getUpdates",
                        api_kwargs={
                            "offset": self.offset,
                            "timeout": timeout,
                            "allowed_updates": list(Update.ALL_TYPES),
                        },
                        read_timeout=timeout + 10,
                    )
                for data in batch if isinstance(batch, list) else []:
                    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                        continue
                    await self.store(data)
                    crash_point("telegram-after-store")
                    self.offset = max(self.offset, data["update_id"] + 1)
                self._last_poll = self._clock.now()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Bot API unreachable, or the inbox cannot be written (disk full...): the
                # offset stays, so Telegram keeps every update we did not store.
                delay = POLL_BACKOFF[min(failures, len(POLL_BACKOFF) - 1)]
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    log.warning("getUpdates failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(delay)

    async def _process_inbox(self) -> None:
        while not self._stopping:
            ended: set[int] = set()
            self._claims.append(ended)
            try:
                items = await self._storage.inbox.claim(
                    CHANNEL, self._clock.now(), INBOX_LEASE, 200
                )
            except Exception:
                log.exception("reading the Telegram inbox failed; trying again")
                items = []
            finally:
                self._claims.remove(ended)
            started = 0
            worn = worn_out(items, MAX_UPDATE_ATTEMPTS)
            for item in items:
                # not one in hand, nor one that ended while the claim was under way: a claim
                # can read an entry whose lease ran out while it was processed, just before
                # its turn committed (PostgreSQL answers the claim and the commit on two
                # connections, in either order); starting it again would answer it twice
                if item.id not in self._inflight and item.id not in ended:
                    self._leases.hold(item)  # renewed while it is processed
                    self._inflight[item.id] = asyncio.create_task(self._process(item, item is worn))
                    started += 1
            if not started:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
                self._wake.clear()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until the inbox is processed (tests)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self._inflight:
                await asyncio.wait(list(self._inflight.values()), timeout=deadline - loop.time())
            elif await self._storage.inbox.pending(CHANNEL) == 0:
                return
            else:
                self._wake.set()
                await asyncio.sleep(0.01)

    async def _process(self, item: InboxItem, worn: bool = False) -> None:
        try:
            if worn:  # not handled again: its handling may be what stops the process
                log.error(
                    "Telegram inbox entry %s was claimed %d times and never finished; skipped",
                    item.id,
                    item.attempts + 1,
                )
                await self._give_up(item)
                return
            try:
                data = json.loads(item.payload)
                update = Update.de_json(data, self.app.bot)
            except Exception:
                log.warning("a Telegram update could not be read; skipped (inbox %s)", item.id)
                await self._done(item)
                return
            chat = chat_key(update)
            async with self._concurrency, self._chat_locks.hold(chat if chat is not None else 0):
                await self._handle_stored(item, update)
        except Exception:
            log.exception("processing Telegram inbox entry %s failed", item.id)
        finally:
            self._leases.release(item.id)
            self._inflight.pop(item.id, None)
            for ended in self._claims:
                # even one left to retry: a claim that read it meanwhile renewed its lease, so
                # it is tried again when that lease ends, never twice at once
                ended.add(item.id)
            self._wake.set()

    async def _handle_stored(self, item: InboxItem, update: Update) -> None:
        self._receipts[update.update_id] = item.id
        self._failed.discard(update.update_id)
        try:
            await self.app.process_update(update)
        finally:
            self._receipts.pop(update.update_id, None)
        if update.update_id in self._failed:
            self._failed.discard(update.update_id)
            if item.attempts + 1 < MAX_UPDATE_ATTEMPTS:  # failures and claims that ran out
                current = self._leases.current(item)
                await self._storage.inbox.failed(current, self._clock.now(), INBOX_LEASE)
                return  # claimed again after a while
            log.error("Telegram update %s kept failing; skipped", update.update_id)
            await self._give_up(item)
            return
        await self._done(item)

    async def _give_up(self, item: InboxItem) -> None:
        """An update skipped for good: a citizen who wrote or pressed something in a private
        chat is told it was not handled, in the transaction that marks it done; anything else
        (staff messages, unreadable updates), or if telling fails, is only marked done."""
        try:
            update = Update.de_json(json.loads(item.payload), self.app.bot)
            chat = update.effective_chat
            inbound = citizen_inbound(update, self._commune)
            if inbound is not None and chat is not None and chat.type == "private":
                await self.engine.unprocessed(inbound.key, item.id)
                return
        except Exception:
            log.exception("telling the sender of Telegram inbox entry %s failed", item.id)
        await self._done(item)

    async def _done(self, item: InboxItem) -> None:
        """Updates that made no turn (or whose turn already marked them) are done now."""
        await self._storage.inbox.done(item.id, self._clock.now())

    def _receipt(self, update: Update) -> int | None:
        return self._receipts.get(update.update_id)

    def health(self) -> str | None:
        """None when fine; otherwise why the channel is not taking updates."""
        if self._webhook:
            return None if self.app.running else "telegram: not running"
        if self._stopping or not self._tasks or self._tasks[0].done():
            return "telegram: not polling"
        if self._standby:
            return None  # healthy: takes over when the polling process dies
        allowed = dt.timedelta(seconds=self._settings.telegram_poll_timeout) + STALL_AFTER
        since = self._last_poll or self._started
        if since is not None and self._clock.now() - since > allowed:
            return f"telegram: no successful getUpdates since {since.isoformat()}"
        return None

    # --- handlers ----------------------------------------------------------------------------

    def _register(self) -> None:
        # Edited messages are not new questions or answers: sending them again would duplicate.
        fresh = filters.UpdateType.MESSAGE
        staff = filters.Chat(self._settings.telegram_staff_chat_id) & fresh
        private = filters.ChatType.PRIVATE & fresh
        app = self.app
        app.add_handler(CallbackQueryHandler(self._staff_button, pattern=_is_staff_button), group=0)
        app.add_handler(CallbackQueryHandler(self._example_button, pattern=_is_example), group=0)
        app.add_handler(CommandHandler("hangcho", self._queue, filters=staff), group=0)
        app.add_handler(CommandHandler("baocao", self._report_command, filters=staff), group=0)
        app.add_handler(CommandHandler("phananh", self._staff_command, filters=staff), group=0)
        app.add_handler(
            CommandHandler(["ghichu", "chuyen"], self._topic_command, filters=staff), group=0
        )
        app.add_handler(
            MessageHandler(
                staff & ~filters.COMMAND & ~filters.StatusUpdate.ALL, self._staff_message
            ),
            group=0,
        )
        app.add_handler(MessageHandler(private, self._citizen), group=1)
        app.add_handler(CallbackQueryHandler(self._citizen), group=1)
        app.add_error_handler(self._error)

    async def _error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A handler failed (the database is full or locked...): the update stays in the inbox
        and is tried again."""
        if isinstance(context.error, InboxEntryTaken):
            log.info("a Telegram update was answered by another worker")
            return
        if isinstance(update, Update):
            self._failed.add(update.update_id)
        log.error("error while handling a Telegram update", exc_info=context.error)

    async def _citizen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat
        if query is not None and (chat is None or chat.type != "private"):
            await _answer(query)
            return
        if query is not None:
            await _answer(query)
        inbound = citizen_inbound(update, self._commune)
        if inbound is None:
            return
        if inbound.kind == "text" and await self._editor_command(update, inbound.text):
            return
        inbound = inbound.model_copy(update={"receipt": self._receipt(update)})
        typing = asyncio.create_task(self._typing_later(int(inbound.key.user_id)))
        try:
            await self.engine.handle(inbound)  # the replies are in the outbox now
        finally:
            typing.cancel()

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
        key = ConversationKey(channel=CHANNEL, user_id=str(user.id), commune=self._commune)
        await self.engine.send_outside_turn(
            [Outgoing(key=key, reply=Reply(text=answer))], self._receipt(update)
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
        ok = await self.desk_ops.press(
            self._staff_name(update), parse(query.data), receipt=self._receipt(update)
        )
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
        guide_id = parse(query.data).key
        message = query.message if isinstance(query.message, Message) else None
        text = message.text if message is not None else None
        found = re.search(r"«(.+)»", str(text or ""), re.S)
        command = self._editor_commands.get("themcau")
        if guide_id == EXAMPLE_SKIP or found is None or command is None:
            answer = "Đã bỏ qua."
        else:
            answer = await command(
                display_name(query.from_user), [guide_id, *found.group(1).split()]
            )
        # the toast is direct: it is only valid seconds after the press and harmless to lose
        await _answer(query, answer[:190])
        if message is not None:  # the offer shows what was done: through the outbox, like
            # every desk message, in the commit that marks the press done (never lost, once)
            done = Reply(text=f"{text}\n\n→ {answer}")
            thread = str(message.message_thread_id or "")
            edit = Outgoing(
                notice=StaffNotice(key=None, reply=done),
                thread=thread,
                edit=str(message.message_id),
            )
            await self.engine.send_outside_turn([edit], self._receipt(update))
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
        receipt = self._receipt(update)
        if message.text:
            await self.desk_ops.reply(name, conversation_id, message.text, receipt=receipt)
        else:
            await self._staff_media(
                conversation_id, name, message.message_id, message.caption or "", receipt
            )
        raise ApplicationHandlerStop

    async def _staff_media(
        self, conversation_id: int, name: str, message_id: int, caption: str, receipt: int | None
    ) -> None:
        conversation = await self._storage.conversations.find(conversation_id)
        if conversation is None:
            return
        if conversation.key.channel != CHANNEL:
            notice = StaffNotice(
                key=conversation.key,
                reply=Reply(text="Kênh của người dân này chỉ nhận tin nhắn chữ; hãy gõ nội dung."),
                at=self._clock.now(),
            )
            await self.engine.send_outside_turn([Outgoing(notice=notice)], receipt)
            return
        caption = caption or "(đã gửi tệp/ảnh)"
        if self.engine.durable:  # the copy is queued in the commit that records the answer
            await self.engine.staff_reply(
                name,
                conversation_id,
                caption,
                receipt=receipt,
                copy_of=f"{self.desk.chat_id}:{message_id}",
            )
            return
        try:
            await self.sender.call(
                lambda: self.sender.bot.copy_message(
                    int(conversation.key.user_id),
                    from_chat_id=self.desk.chat_id,
                    message_id=message_id,
                )
            )
        except TelegramError as exc:
            log.warning("could not copy a staff file to the citizen: %s", exc)
            return
        await self.desk_ops.reply(
            name, conversation_id, caption or "(đã gửi tệp/ảnh)", deliver=False, receipt=receipt
        )

    async def _topic_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a citizen's topic: /ghichu <text> (a note staff see, the citizen does not) and
        /chuyen <name> (hand the conversation to a colleague)."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or not message.text or not message.message_thread_id:
            raise ApplicationHandlerStop
        if not await self._is_staff(user.id):
            raise ApplicationHandlerStop
        conversation_id = await self._links.conversation_for_thread(
            self.desk.chat_id, message.message_thread_id
        )
        word, _, rest = message.text.partition(" ")
        rest = rest.strip()
        name = self._staff_name(update)
        receipt = self._receipt(update)
        if conversation_id is None or not rest:
            await self.sender.send_reply(
                self.desk.chat_id,
                Reply(text=TOPIC_COMMAND_HELP),
                thread_id=message.message_thread_id,
            )
        elif word[1:].split("@", 1)[0].lower() == "ghichu":
            await self.desk_ops.note(name, conversation_id, rest, receipt=receipt)
        else:
            await self.desk_ops.transfer(name, conversation_id, rest, receipt=receipt)
        raise ApplicationHandlerStop

    async def _queue(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            raise ApplicationHandlerStop
        await self._answer_staff(update, Reply(text=await self.engine.queue()))
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
            await self._answer_staff(update, Reply(text=answer))
        raise ApplicationHandlerStop

    async def _report_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Staff: the last 30 days in a few lines, and the weekly chart."""
        message = update.effective_message
        if message is None or self._report is None:
            raise ApplicationHandlerStop
        text, chart = await self._report()
        await self._answer_staff(update, Reply(text=text), chart)
        raise ApplicationHandlerStop

    async def _answer_staff(self, update: Update, reply: Reply, photo: bytes | None = None) -> None:
        """Answers to staff commands go through the outbox, in the commit that marks the
        command's update done: a crash neither loses the answer nor repeats it."""
        message = update.effective_message
        thread = message.message_thread_id if message is not None else None
        where = str(thread) if thread else None
        items = [Outgoing(notice=StaffNotice(key=None, reply=reply), thread=where or "")]
        if photo is not None:
            picture = base64.b64encode(photo).decode("ascii")
            items.append(
                Outgoing(
                    notice=StaffNotice(key=None, reply=Reply(text="")), thread=where, photo=picture
                )
            )
        await self.engine.send_outside_turn(items, self._receipt(update))


def _is_staff_button(data: object) -> bool:
    return isinstance(data, str) and parse(data).act in STAFF_ACTS


def _is_example(data: object) -> bool:
    return isinstance(data, str) and parse(data).act is Act.EXAMPLE


async def _answer(query: CallbackQuery, text: str | None = None) -> None:
    with contextlib.suppress(TelegramError):
        await query.answer(text)
