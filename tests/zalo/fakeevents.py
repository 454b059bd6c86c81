"""What Zalo POSTs to *our* webhook: event payloads and the X-ZEvent-Signature header.

Kept apart from the fake server because webhook tests need no server at all; the shapes follow
the team's Zalo OA notes (every id and the ms timestamp are strings: they exceed 2**53,
and a channel that parses them as numbers would corrupt them).
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
import uuid
from typing import Any

JSON = dict[str, Any]

DEFAULT_APP_ID = "1234567890123456789"
DEFAULT_OA_ID = "4318491265830182939"

_IMG = "https://photo-stal-2.zdn.vn/oa/{}.jpg"
_ATTACHMENTS: dict[str, tuple[str, JSON]] = {  # event -> (attachment type, default payload)
    "user_send_image": ("image", {"url": _IMG.format("anh"), "thumbnail": _IMG.format("anh_t")}),
    "user_send_gif": ("gif", {"url": _IMG.format("gif"), "thumbnail": _IMG.format("gif_t")}),
    "user_send_file": ("file", {
        "url": "https://f21-zpc.zdn.vn/file/to-khai.pdf", "name": "to-khai.pdf",
        "size": "48213", "type": "pdf", "checksum": "9b1f0c6e2d7a4b35a8e1c2d3f4a5b6c7",
    }),
    "user_send_sticker": ("sticker", {
        "id": "bfe9e1c2ba8753d90a96",
        "url": "https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid=46991&size=130",
    }),
    "user_send_audio": ("audio", {"url": "https://voice-talk.zdn.vn/oa/ghi-am.aac"}),
    "user_send_video": ("video", {
        "url": "https://video-talk.zdn.vn/oa/clip.mp4", "thumbnail": _IMG.format("clip"),
        "description": "",
    }),
    "user_send_location": ("location", {"coordinates": {"latitude": "21.0285", "longitude": "105.8542"}}),
    "user_send_link": ("link", {
        "url": "https://dichvucong.gov.vn", "thumbnail": _IMG.format("link"),
        "description": "Cổng Dịch vụ công Quốc gia",
    }),
}  # fmt: skip
_INFO: dict[str, JSON] = {
    "flat": {
        "name": "Nguyễn Văn An", "phone": "84912345678", "address": "Số 5, thôn Đông",
        "city": "Hà Nội", "district": "Ba Đình", "ward": "Phường Ba Đình",
    },
    "new": {
        "name": "Nguyễn Văn An", "phone": "84912345678", "user_dob": "01/02/1990",
        "gender": "male", "full_address": {
            "user_city": "Thành phố Hà Nội", "user_ward": "Phường Ba Đình",
            "user_address": "Số 5, thôn Đông",
        },
    },
}  # fmt: skip
EVENT_KINDS = frozenset(
    {"user_send_text", "follow", "unfollow", "user_submit_info", "user_reacted_message"}
    | set(_ATTACHMENTS)
)


def user_id_by_app(user_id: str) -> str:
    """A stable 19-digit user_id_by_app for a user id (Zalo gives each app its own id)."""
    return str(10**18 + int(hashlib.sha256(user_id.encode()).hexdigest()[:15], 16) % (8 * 10**18))


def make_event(
    kind: str,
    user_id: str,
    text: str | None = None,
    msg_id: str | None = None,
    *,
    app_id: str = DEFAULT_APP_ID,
    oa_id: str = DEFAULT_OA_ID,
    timestamp: str | None = None,
    payload: JSON | None = None,
    shape: str = "flat",
    info: JSON | None = None,
    **extra: Any,
) -> JSON:
    """A webhook event as Zalo sends it: every id and the ms timestamp are strings.

    `payload` overrides keys of an attachment payload, `shape` ("flat"/"new") or `info` choose
    the user_submit_info form, other keywords are merged into the top level of the event.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}; known: {sorted(EVENT_KINDS)}")
    if not isinstance(user_id, str):
        raise TypeError("Zalo ids are strings (they exceed 2**53)")
    event: JSON = {"app_id": app_id, "user_id_by_app": user_id_by_app(user_id), "event_name": kind}
    msg_id = msg_id or uuid.uuid4().hex
    if kind in ("follow", "unfollow"):
        event |= {"oa_id": oa_id, "follower": {"id": user_id}, "source": "oa_profile"}
    else:
        event |= {"sender": {"id": user_id}, "recipient": {"id": oa_id}}
    if kind == "user_send_text":
        event["message"] = {"text": "xin chào" if text is None else text, "msg_id": msg_id}
    elif kind in _ATTACHMENTS:
        kind_name, default = _ATTACHMENTS[kind]
        attachment = {"type": kind_name, "payload": copy.deepcopy(default) | (payload or {})}
        event["message"] = {"msg_id": msg_id, "attachments": [attachment]}
        if text is not None:
            event["message"]["text"] = text
    elif kind == "user_submit_info":
        event["info"] = copy.deepcopy(info if info is not None else _INFO[shape])
    elif kind == "user_reacted_message":
        event["message"] = {"msg_id": msg_id, "react_icon": "/-heart"}
    event["timestamp"] = timestamp or str(time.time_ns() // 1_000_000)
    return event | extra


def sign(raw_body: bytes, app_id: str, timestamp: str, secret: str) -> str:
    """The X-ZEvent-Signature value: plain SHA-256 (not HMAC) of app_id+body+timestamp+secret."""
    digest = hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + secret.encode())
    return f"mac={digest.hexdigest()}"


def signed_request(event: JSON, oa_secret_key: str) -> tuple[bytes, dict[str, str]]:
    """The exact body bytes and headers Zalo would POST for `event` (signed over those bytes)."""
    body = json.dumps(event, ensure_ascii=False).encode("utf-8")
    signature = sign(body, str(event["app_id"]), str(event["timestamp"]), oa_secret_key)
    return body, {"Content-Type": "application/json", "X-ZEvent-Signature": signature}
