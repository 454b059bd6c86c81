"""Wire format of the fake Bot API: request decoding, error bodies, text validation.

PTB's HTTPXRequest posts application/x-www-form-urlencoded (multipart/form-data when a file is
uploaded) in which every non-string value is JSON-encoded (ints, bools, reply_markup...); other
clients may post JSON. The helpers here turn all of these back into plain Python values, and
reproduce Telegram's validation errors that bots commonly trip over.
"""

from __future__ import annotations

import email
import email.message
import html
import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse

from tests.telegram.fakestate import JSON

# Parameters whose form value is free text: never JSON-decode them ("123" must stay a string).
_TEXT_KEYS = frozenset(
    [
        "text",
        "caption",
        "data",
        "name",
        "title",
        "description",
        "short_description",
        "query",
        "url",
        "callback_query_id",
        "inline_message_id",
        "parse_mode",
        "action",
        "secret_token",
        "emoji",
        "icon_custom_emoji_id",
        "custom_emoji_id",
        "photo",
        "document",
        "sticker",
        "voice",
        "video",
        "audio",
        "animation",
        "file_id",
        "business_connection_id",
        "message_effect_id",
        "language_code",
        "ip_address",
    ]
)
_HTML_TAGS = frozenset(
    [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    ]
)
# Error descriptions exactly as Telegram words them.
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
THREAD_NOT_FOUND = "Bad Request: message thread not found"
BLOCKED = "Forbidden: bot was blocked by the user"
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")


@dataclass
class Upload:
    """A file sent as a multipart part (PTB uploads InputFile contents this way)."""

    filename: str | None
    content_type: str | None
    data: bytes


class ApiError(Exception):
    """Raised by method handlers; becomes Telegram's {"ok": false, ...} error body."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters or {}


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def error_response(err: ApiError) -> JSONResponse:
    """Telegram's error body; "parameters" is present only when it has content (e.g. 429)."""
    body: JSON = {"ok": False, "error_code": err.status, "description": err.description}
    if err.parameters:
        body["parameters"] = err.parameters
    return JSONResponse(body, status_code=err.status)


def decode_param(key: str, value: Any) -> Any:
    """PTB JSON-encodes every non-string value (ints, bools, reply_markup...): undo that."""
    if not isinstance(value, str) or key in _TEXT_KEYS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channelname"


def parse_multipart(content_type: str, body: bytes) -> JSON:
    """Minimal multipart/form-data parser: starlette's needs python-multipart (not installed)."""
    holder = email.message.Message()
    holder["content-type"] = content_type
    boundary = holder.get_boundary()
    if not boundary:
        raise bad_request("invalid multipart body")
    params: JSON = {}
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        # PTB writes a file name as raw UTF-8 in the part's header, as Telegram accepts
        headers = email.message_from_string(head.decode("utf-8", "replace") + "\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        content = content.removesuffix(b"\r\n")
        if not isinstance(name, str):
            continue
        filename = headers.get_filename()
        if filename is None and headers.get_content_type() == "text/plain":
            params[name] = content.decode()
        else:
            params[name] = Upload(filename, headers.get("content-type"), content)
    return params


def strip_html(text: str) -> str:
    """Validate HTML parse_mode like Telegram does and return the visible text."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while (lt := text.find("<", pos)) != -1:
        out.append(text[pos:lt])
        offset = len(text[:lt].encode())
        m = _TAG_RE.match(text, lt)
        tag = m.group(2).lower() if m else ""
        if m is None or tag not in _HTML_TAGS:
            raise bad_request(
                f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset {offset}'
            )
        if m.group(1):
            if not stack or stack.pop() != tag:
                raise bad_request(
                    f"can't parse entities: Unexpected end tag at byte offset {offset}"
                )
        else:
            stack.append(tag)
        pos = m.end()
    out.append(text[pos:])
    if stack:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return html.unescape("".join(out))


def strip_markdown_v2(text: str) -> str:
    """Reject unescaped reserved characters (the classic MarkdownV2 bug); drop markup chars."""
    for m in re.finditer(r"\\.|[.!\-=#+{}]", text, flags=re.S):
        if not m.group().startswith("\\"):
            offset = len(text[: m.start()].encode())
            raise bad_request(
                f"can't parse entities: Character '{m.group()}' is reserved and must be escaped "
                f"with the preceding '\\' (byte offset {offset})"
            )
    return re.sub(r"\\(.)|[*_~|`]", lambda m: m.group(1) or "", text, flags=re.S)


def rendered_text(text: str, parse_mode: str | None) -> str:
    """The text Telegram stores after applying parse_mode (entities are not reproduced)."""
    if parse_mode == "HTML":
        return strip_html(text)
    if parse_mode == "MarkdownV2":
        return strip_markdown_v2(text)
    return text


def check_inline_keyboard(markup: JSON) -> None:
    """Telegram rejects callback_data outside 1-64 BYTES (Vietnamese letters take 2-3 bytes)."""
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
