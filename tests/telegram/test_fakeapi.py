"""The fake Bot API speaks the real library's protocol: every test drives real PTB over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from tests.telegram.fakeapi import FakeBotApi

TOKEN = "123456:TEST"
GROUP = -1001234567890
CITIZEN = 1001
STAFF = 2002


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as b:
        yield b


def _keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Đúng", callback_data="ok:1")]])


async def test_get_me(bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.username == "thutuc_test_bot"
    assert me.is_bot and me.can_join_groups
    assert me.id == 123456


async def test_wrong_token_is_unauthorized(api: FakeBotApi) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{api.base_url}999:WRONG/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    with pytest.raises(InvalidToken):
        async with telegram.Bot("999:WRONG", base_url=api.base_url):
            pass


async def test_unknown_method_404_and_case_insensitive_names(api: FakeBotApi) -> None:
    async with httpx.AsyncClient() as client:
        missing = await client.post(f"{api.base_url}{TOKEN}/noSuchMethod")
        lower = await client.get(f"{api.base_url}{TOKEN}/getme")
        as_json = await client.post(
            f"{api.base_url}{TOKEN}/SENDMESSAGE", json={"chat_id": CITIZEN, "text": "123"}
        )
    assert missing.status_code == 404
    assert missing.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert lower.json()["result"]["username"] == "thutuc_test_bot"
    assert as_json.json()["result"]["text"] == "123"  # free text is never JSON-decoded
    assert [c.method for c in api.calls] == ["noSuchMethod", "getMe", "sendMessage"]


async def test_send_message_records_decoded_markup(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.push_private_text(CITIZEN, "xin chào", first_name="Bình")
    message = await bot.send_message(CITIZEN, "Chào bạn", reply_markup=_keyboard())

    assert isinstance(message, telegram.Message)
    assert message.text == "Chào bạn"
    assert message.chat.type == "private" and message.chat.first_name == "Bình"
    assert message.reply_markup == _keyboard()
    (call,) = api.calls_to("sendMessage")
    assert call.params["chat_id"] == CITIZEN
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Đúng", "callback_data": "ok:1"}]]
    }
    second = await bot.send_message(CITIZEN, "Tiếp")
    assert second.message_id == message.message_id + 1
    assert api.sent_texts(chat_id=CITIZEN) == ["Chào bạn", "Tiếp"]


async def test_edit_and_delete_follow_real_errors(api: FakeBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(CITIZEN, "Một", reply_markup=_keyboard())
    edited = await bot.edit_message_text("Hai", chat_id=CITIZEN, message_id=sent.message_id)
    assert isinstance(edited, telegram.Message) and edited.text == "Hai"
    assert edited.reply_markup is None  # no markup in the edit removes the keyboard
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Hai", chat_id=CITIZEN, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=CITIZEN, message_id=9999)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_reply_markup(CITIZEN, 9999, reply_markup=_keyboard())
    assert await bot.delete_message(CITIZEN, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(CITIZEN, sent.message_id)
    assert api.sent_texts(chat_id=CITIZEN) == ["Một", "Hai"]


async def test_parse_errors_and_limits(bot: telegram.Bot) -> None:
    ok = await bot.send_message(CITIZEN, "<b>Hồ sơ</b> &amp; giấy tờ", parse_mode="HTML")
    assert ok.text == "Hồ sơ & giấy tờ"
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CITIZEN, "a < b", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CITIZEN, "Xong.", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CITIZEN, "x" * 4097)
    too_long = "chọn:" + "đ" * 40  # 85 bytes although 45 characters
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(
            CITIZEN,
            "x",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("a", callback_data=too_long)]]
            ),
        )


async def test_get_updates_parses_pushed_updates(api: FakeBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(CITIZEN, "Chọn", reply_markup=_keyboard())
    api.push_private_text(CITIZEN, "/start abc")
    api.push_callback(CITIZEN, "ok:1", sent.message_id)
    api.push_group_text(GROUP, 77, STAFF, "Đã nhận hồ sơ")
    api.push_private_photo(CITIZEN, caption="CCCD")

    updates = await bot.get_updates(timeout=0)

    assert all(isinstance(u, Update) for u in updates)
    text, press, group, photo = updates
    assert text.message.text == "/start abc"
    assert text.message.entities[0].type == "bot_command"
    assert text.message.entities[0].length == len("/start")
    assert press.callback_query.data == "ok:1"
    assert press.callback_query.message.message_id == sent.message_id
    assert press.callback_query.message.reply_markup == _keyboard()
    assert group.message.message_thread_id == 77 and group.message.is_topic_message
    assert group.message.chat.type == "supergroup" and group.message.chat.is_forum
    assert group.message.reply_to_message.forum_topic_created is not None
    assert photo.message.photo[-1].width == 1280 and photo.message.caption == "CCCD"
    assert await bot.answer_callback_query(press.callback_query.id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(press.callback_query.id)


async def test_other_private_media_parse(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.push_private_sticker(CITIZEN)
    api.push_private_voice(CITIZEN)
    api.push_private_document(CITIZEN)
    api.push_callback(CITIZEN, "old", message_id=5)  # unknown message -> inaccessible
    sticker, voice, document, old = await bot.get_updates()
    assert sticker.message.sticker.emoji == "👍"
    assert voice.message.voice.mime_type == "audio/ogg"
    assert document.message.document.file_name == "giay_to.pdf"
    # PTB 22.8 parses it as Message with date 1970-01-01: is_accessible tells them apart
    assert not old.callback_query.message.is_accessible
    file = await bot.get_file(document.message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == api.files[file.file_id]


async def test_offset_confirms_and_long_poll_wakes_up(api: FakeBotApi, bot: telegram.Bot) -> None:
    first = api.push_private_text(CITIZEN, "một")
    api.push_private_text(CITIZEN, "hai")
    assert len(await bot.get_updates(limit=1)) == 1
    again = await bot.get_updates()
    assert [u.message.text for u in again] == ["một", "hai"]  # nothing confirmed yet
    await api.wait_updates_consumed(timeout=1)
    assert not api.updates_confirmed()

    rest = await bot.get_updates(offset=first["update_id"] + 1)
    assert [u.message.text for u in rest] == ["hai"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert api.updates_confirmed()

    loop = asyncio.get_running_loop()
    loop.call_later(0.1, api.push_private_text, CITIZEN, "ba")
    started = loop.time()
    woken = await bot.get_updates(offset=rest[-1].update_id + 1, timeout=3)
    assert [u.message.text for u in woken] == ["ba"]
    assert loop.time() - started < 1.5


async def test_allowed_updates_filter(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.push_private_text(CITIZEN, "tin nhắn")
    api.push_callback(CITIZEN, "x", message_id=1)
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates] == ["x"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.fail_next("sendMessage", status=429)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CITIZEN, "x")
    retry_after = caught.value.retry_after  # int in PTB 22 (with a warning), timedelta later
    seconds = retry_after.total_seconds() if isinstance(retry_after, dtm.timedelta) else retry_after
    assert seconds == 1
    (call,) = api.calls_to("sendMessage")
    assert call.status == 429 and not call.ok
    assert (await bot.send_message(CITIZEN, "y")).text == "y"  # only the next call failed
    assert api.sent_texts() == ["y"]


async def test_scripted_500_403_400(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError) as server_error:
        await bot.send_message(CITIZEN, "x")
    assert not isinstance(server_error.value, BadRequest | Forbidden)
    api.fail_next("SendMessage", status=403)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(CITIZEN, "x")
    api.fail_next("sendMessage", status=400, description="Bad Request: chat not found", times=2)
    for _ in range(2):
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(CITIZEN, "x")
    await bot.send_message(CITIZEN, "ok")


async def test_blocked_user_and_deleted_thread(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.blocked_users.add(CITIZEN)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(CITIZEN, "x")
    topic = await bot.create_forum_topic(GROUP, "Nguyễn Văn An")
    api.deleted_threads.add((GROUP, topic.message_thread_id))
    with pytest.raises(BadRequest, match=r"(?i)thread not found"):
        await bot.send_message(GROUP, "x", message_thread_id=topic.message_thread_id)
    source = api.push_private_text(4004, "giấy tờ")["message"]
    with pytest.raises(BadRequest, match=r"(?i)thread not found"):
        await bot.copy_message(
            GROUP, 4004, source["message_id"], message_thread_id=topic.message_thread_id
        )
    with pytest.raises(Forbidden):
        await bot.copy_message(CITIZEN, 4004, source["message_id"])


async def test_forum_topics_and_copy(api: FakeBotApi, bot: telegram.Bot) -> None:
    topic = await bot.create_forum_topic(GROUP, "Trần Thị Bình")
    assert isinstance(topic, telegram.ForumTopic)
    assert topic.name == "Trần Thị Bình" and topic.icon_color == 7322096
    sent = await bot.send_message(GROUP, "Công dân mới", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id and sent.is_topic_message
    assert api.sent_texts(chat_id=GROUP, thread_id=topic.message_thread_id) == ["Công dân mới"]

    assert await bot.edit_forum_topic(GROUP, topic.message_thread_id, name="Bình (xong)")
    assert await bot.close_forum_topic(GROUP, topic.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(GROUP, topic.message_thread_id)
    assert await bot.reopen_forum_topic(GROUP, topic.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)the chat is not a forum"):
        await bot.create_forum_topic(CITIZEN, "x")

    photo = api.push_private_photo(CITIZEN, caption="Ảnh CCCD")["message"]
    copied = await bot.copy_message(
        GROUP, CITIZEN, photo["message_id"], message_thread_id=topic.message_thread_id
    )
    assert isinstance(copied, telegram.MessageId)
    stored = api.messages[GROUP, copied.message_id]
    assert (
        stored["caption"] == "Ảnh CCCD" and stored["message_thread_id"] == topic.message_thread_id
    )
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(GROUP, CITIZEN, 424242)

    staff_reply = api.push_group_text(GROUP, topic.message_thread_id, STAFF, "Chào anh")
    update = (await bot.get_updates())[-1]
    assert update.message.message_id == staff_reply["message"]["message_id"]
    assert update.message.reply_to_message.message_id == topic.message_thread_id


async def test_uploads_chat_members_and_misc(api: FakeBotApi, bot: telegram.Bot) -> None:
    content = b"\x89PNG\r\n--not-a-boundary\r\n\x00\xff"
    photo = await bot.send_photo(CITIZEN, io.BytesIO(content), caption="Mẫu đơn")
    assert photo.caption == "Mẫu đơn" and photo.photo
    assert api.files[photo.photo[-1].file_id] == content  # multipart bytes survive intact
    document = await bot.send_document(GROUP, "file-id-from-config", message_thread_id=9)
    assert document.document.file_id == "file-id-from-config"
    assert await bot.send_chat_action(CITIZEN, "typing")
    assert await bot.set_my_commands([("start", "Bắt đầu"), ("help", "Trợ giúp")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]

    api.staff_members[GROUP] = {STAFF}
    assert (await bot.get_chat_member(GROUP, STAFF)).status == "member"
    assert (await bot.get_chat_member(GROUP, CITIZEN)).status == "left"
    me = await bot.get_chat_member(GROUP, bot.id)
    assert isinstance(me, telegram.ChatMemberAdministrator) and me.can_manage_topics
    chat = await bot.get_chat(GROUP)
    assert chat.type == "supergroup" and chat.is_forum


async def test_webhook_methods_and_delivery(api: FakeBotApi, bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)HTTPS URL must be provided"):
        await bot.set_webhook("http://example.invalid/hook")
    assert await bot.set_webhook("https://example.invalid/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.invalid/hook" and info.pending_update_count == 0
    with pytest.raises(telegram.error.Conflict):
        await bot.get_updates()

    received: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    update = api.make_private_text(CITIZEN, "/help")
    response = await api.deliver_webhook(update, transport=httpx.MockTransport(receive))
    assert response.status_code == 200
    (request,) = received
    assert str(request.url) == "https://example.invalid/hook"
    assert request.headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
    assert json.loads(request.content) == update
    parsed = Update.de_json(update, bot)
    assert parsed.message.text == "/help" and parsed.message.chat.id == CITIZEN
    assert api.updates_confirmed()  # make_* does not queue
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_wait_for_reports_recorded_calls(api: FakeBotApi, bot: telegram.Bot) -> None:
    await bot.send_message(CITIZEN, "một")
    with pytest.raises(AssertionError, match=r"sendMessage \[200\]"):
        await api.wait_for("sendMessage", count=2, timeout=0.2)

    async def send_later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(CITIZEN, "hai")

    task = asyncio.create_task(send_later())
    calls = await api.wait_for("sendMessage", predicate=lambda c: c.params["text"] == "hai")
    await task
    assert [c.result["text"] for c in calls] == ["hai"]


async def test_application_polling_echo(api: FakeBotApi) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app = ApplicationBuilder().token(TOKEN).base_url(api.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        api.push_private_text(CITIZEN, "thủ tục khai sinh")
        (call,) = await api.wait_for("sendMessage")
        await app.updater.stop()
        await app.stop()
    assert call.params["text"] == "echo: thủ tục khai sinh"
    assert call.params["chat_id"] == CITIZEN
    assert api.calls_to("deleteWebhook")  # PTB's polling bootstrap
    assert api.updates_confirmed()  # updater.stop() confirms the processed update


async def test_a_bug_in_the_fake_fails_the_test_loudly() -> None:
    def broken(params: dict[str, object]) -> object:
        raise ZeroDivisionError

    with pytest.raises(AssertionError, match="fake Bot API crashed"):
        async with FakeBotApi(token=TOKEN) as api:
            api._handlers["getme"] = ("getMe", broken)
            with pytest.raises(NetworkError, match="Internal Server Error"):
                async with telegram.Bot(TOKEN, base_url=api.base_url):
                    pass
