"""The Telegram side of the fake Bot API: users, chats, messages, forum topics, files, updates.

Kept apart from the HTTP server so webhook tests can build realistic update payloads without
a server, and so the server module stays short. Payload shapes follow what Telegram really
sends: `from`/`chat`/`date` on every message, bot_command entities, topic messages carrying
`message_thread_id`, `is_topic_message` and a `reply_to_message` that is the topic's creation
service message, callback queries with `chat_instance` and the message they belong to.
"""

from __future__ import annotations

import copy
import itertools
import re
import time
from typing import Any

JSON = dict[str, Any]

DEFAULT_ICON_COLOR = 7322096  # 0x6FB9F0, the first of Telegram's six topic colours
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")


def utf16_len(text: str) -> int:
    """Telegram entity offsets/lengths count UTF-16 code units (emoji count as 2)."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[JSON]:
    """bot_command entities as Telegram computes them for every /command in a text."""
    return [
        {
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group()),
            "type": "bot_command",
        }
        for m in _COMMAND_RE.finditer(text)
    ]


def text_content(text: str) -> JSON:
    content: JSON = {"text": text}
    if entities := command_entities(text):
        content["entities"] = entities
    return content


def caption_content(caption: str | None, entities: list[JSON] | None = None) -> JSON:
    if not caption:
        return {}
    content: JSON = {"caption": caption}
    if entities := entities or command_entities(caption):
        content["caption_entities"] = entities
    return content


class TelegramState:
    """What Telegram knows: the bot, users met so far, stored messages, topics and files.

    Message ids are allocated per chat and shared by both directions, as on Telegram, so a
    citizen's message and the bot's reply never collide. `make_*` builders create the message
    (so the bot can later copy or answer it) and return the update without queueing it.
    """

    BOT_USERNAME = "thutuc_test_bot"

    def __init__(self, token: str, group_title: str) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.group_title = group_title
        self.messages: dict[tuple[int, int], JSON] = {}  # (chat_id, message_id) -> Message
        self.topics: dict[tuple[int, int], JSON] = {}  # (chat_id, thread_id) -> ForumTopic+closed
        self.users: dict[int, JSON] = {}  # user_id -> User, learnt from built updates
        self.files: dict[str, bytes] = {}  # file_id -> content (downloadable via base_file_url)
        self._update_ids = itertools.count(700_000_001)
        self._ids = itertools.count(1)  # file ids, callback query ids
        self._next_message_id: dict[int, int] = {}
        self._open_callbacks: set[str] = set()  # callback query ids not yet answered

    @property
    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Thủ tục",
            "username": self.BOT_USERNAME,
        }

    def user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSON:
        """Build (and remember) a User, so later private chats show the right names."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        user.update({k: v for k, v in (("last_name", last_name), ("username", username)) if v})
        self.users[user_id] = user | {"language_code": "vi"}
        return self.users[user_id]

    def chat(self, chat_id: int) -> JSON:
        """The Chat object Telegram embeds: positive ids are private chats, negative ids forums."""
        if chat_id < 0:
            return {
                "id": chat_id,
                "title": self.group_title,
                "is_forum": True,
                "type": "supergroup",
            }
        user = self.users.get(chat_id, {"first_name": "User"})
        names = {k: user[k] for k in ("first_name", "last_name", "username") if k in user}
        return {"id": chat_id, **names, "type": "private"}

    def new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 100)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def new_file(self, kind: str, data: bytes | None = None) -> JSON:
        """Register file content and return the file_id/file_unique_id/file_size fields."""
        n = next(self._ids)
        file_id = f"fake-{kind}-{n}"
        self.files[file_id] = data if data is not None else f"fake {kind} {n}".encode()
        return {
            "file_id": file_id,
            "file_unique_id": f"uniq{n}",
            "file_size": len(self.files[file_id]),
        }

    def topic(
        self,
        chat_id: int,
        thread_id: int,
        name: str | None = None,
        icon_color: int = DEFAULT_ICON_COLOR,
    ) -> JSON:
        """Get or create a topic; its creation service message has the thread id as message id."""
        if (chat_id, thread_id) not in self.topics:
            counter = self._next_message_id.get(chat_id, 100)
            self._next_message_id[chat_id] = max(counter, thread_id + 1)
            name = name or f"Topic {thread_id}"
            self.topics[chat_id, thread_id] = {
                "message_thread_id": thread_id,
                "name": name,
                "icon_color": icon_color,
                "closed": False,
            }
            self.messages[chat_id, thread_id] = {
                "message_id": thread_id,
                "from": self.bot_user,
                "chat": self.chat(chat_id),
                "date": int(time.time()),
                "message_thread_id": thread_id,
                "forum_topic_created": {"name": name, "icon_color": icon_color},
                "is_topic_message": True,
            }
        return self.topics[chat_id, thread_id]

    def store(self, chat_id: int, sender: JSON, thread_id: int | None, content: JSON) -> JSON:
        """Create and store a message. Topic messages (not General, id 1) reply to the topic's
        creation message unless they are explicit replies, exactly as Telegram sends them."""
        msg: JSON = {
            "message_id": self.new_message_id(chat_id),
            "from": sender,
            "chat": self.chat(chat_id),
            "date": int(time.time()),
        }
        if chat_id < 0 and thread_id and thread_id != 1:
            self.topic(chat_id, thread_id)
            msg.update(message_thread_id=thread_id, is_topic_message=True)
            msg["reply_to_message"] = copy.deepcopy(self.messages[chat_id, thread_id])
        msg.update(content)
        self.messages[chat_id, msg["message_id"]] = msg
        return msg

    # ------------------------------------------------------------------ update builders
    def _update(self, kind: str, payload: JSON) -> JSON:
        if kind == "callback_query":
            self._open_callbacks.add(payload["id"])
        return {"update_id": next(self._update_ids), kind: payload}

    def _incoming(self, chat_id: int, thread_id: int | None, sender: JSON, content: JSON) -> JSON:
        return self._update("message", self.store(chat_id, sender, thread_id, content))

    def _callback(self, sender: JSON, chat_id: int, data: str, message_id: int) -> JSON:
        # An unknown message arrives as an InaccessibleMessage (date 0), like old ones on Telegram.
        message = copy.deepcopy(self.messages.get((chat_id, message_id))) or {
            "chat": self.chat(chat_id),
            "message_id": message_id,
            "date": 0,
        }
        payload = {
            "id": str(4_380_000_000_000_000 + next(self._ids)),
            "from": sender,
            "message": message,
            "chat_instance": str(abs(chat_id) * 7919 % 10**18),
            "data": data,
        }
        return self._update("callback_query", payload)

    def _photo_sizes(self) -> list[JSON]:
        big = self.new_file("photo", b"\xff\xd8\xff\xe0fake-jpeg")
        small = self.new_file("photo", b"\xff\xd8\xff\xe0thumb")
        return [small | {"width": 90, "height": 67}, big | {"width": 1280, "height": 960}]

    def make_private_text(
        self,
        user_id: int,
        text: str,
        first_name: str = "An",
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSON:
        sender = self.user(user_id, first_name, last_name, username)
        return self._incoming(user_id, None, sender, text_content(text))

    def make_private_photo(
        self,
        user_id: int,
        caption: str | None = None,
        media_group_id: str | None = None,
        first_name: str = "An",
    ) -> JSON:
        """A photo as Telegram sends it: several sizes, smallest first."""
        content = {"photo": self._photo_sizes(), **caption_content(caption)}
        if media_group_id:  # albums arrive as one update per item sharing media_group_id
            content["media_group_id"] = media_group_id
        return self._incoming(user_id, None, self.user(user_id, first_name), content)

    def make_private_sticker(self, user_id: int, first_name: str = "An") -> JSON:
        sticker = self.new_file("sticker") | {
            "width": 512,
            "height": 512,
            "emoji": "👍",
            "set_name": "FakeSet",
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
        return self._incoming(user_id, None, self.user(user_id, first_name), {"sticker": sticker})

    def make_private_voice(self, user_id: int, duration: int = 3, first_name: str = "An") -> JSON:
        voice = self.new_file("voice") | {"duration": duration, "mime_type": "audio/ogg"}
        return self._incoming(user_id, None, self.user(user_id, first_name), {"voice": voice})

    def make_private_document(
        self,
        user_id: int,
        file_name: str = "giay_to.pdf",
        caption: str | None = None,
        first_name: str = "An",
    ) -> JSON:
        doc = self.new_file("document") | {"file_name": file_name, "mime_type": "application/pdf"}
        content = {"document": doc, **caption_content(caption)}
        return self._incoming(user_id, None, self.user(user_id, first_name), content)

    def make_callback(
        self,
        user_id: int,
        data: str,
        message_id: int,
        chat_id: int | None = None,
        first_name: str = "An",
    ) -> JSON:
        """A button press in a private chat (or in `chat_id`) on message `message_id`."""
        chat_id = user_id if chat_id is None else chat_id
        return self._callback(self.user(user_id, first_name), chat_id, data, message_id)

    def make_group_text(
        self,
        chat_id: int,
        thread_id: int | None,
        user_id: int,
        text: str,
        first_name: str = "Lan",
    ) -> JSON:
        """A staff message in a forum topic (`thread_id` None = the General topic)."""
        sender = self.user(user_id, first_name)
        return self._incoming(chat_id, thread_id, sender, text_content(text))

    def make_group_photo(
        self,
        chat_id: int,
        thread_id: int | None,
        user_id: int,
        caption: str | None = None,
        first_name: str = "Lan",
    ) -> JSON:
        content = {"photo": self._photo_sizes(), **caption_content(caption)}
        return self._incoming(chat_id, thread_id, self.user(user_id, first_name), content)

    def make_group_callback(
        self,
        chat_id: int,
        thread_id: int | None,
        user_id: int,
        data: str,
        message_id: int,
        first_name: str = "Lan",
    ) -> JSON:
        """`thread_id` only documents the call: the embedded stored message carries its thread."""
        return self._callback(self.user(user_id, first_name), chat_id, data, message_id)

    def make_group_command(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        thread_id: int | None = None,
        first_name: str = "Lan",
    ) -> JSON:
        return self.make_group_text(chat_id, thread_id, user_id, text, first_name)
