"""Zalo webhook events -> neutral Inbound models. Ids and timestamps stay strings (> 2^53)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flows.models import DEFAULT_COMMUNE, ConversationKey, Inbound, MediaKind

CHANNEL = "zalo"
BUTTON = re.compile(r"^#([\x21-\x7e]{1,64})$")  # our oa.query.hide payloads come back as text
MEDIA: dict[str, MediaKind] = {
    "user_send_image": "photo",
    "user_send_gif": "sticker",
    "user_send_sticker": "sticker",
    "user_send_file": "file",
    "user_send_audio": "audio",
    "user_send_video": "video",
    "user_send_location": "location",
    "user_send_link": "link",
}
IGNORED_PREFIXES = ("oa_send_", "user_received_", "user_seen_")


def event_key(event: dict[str, Any]) -> str:
    """What makes a delivery unique: the message id, else name + user + timestamp, hashed: the
    key outlives the event (kept until the retention cutoff) and must not name the citizen."""
    message = event.get("message")
    if isinstance(message, dict) and message.get("msg_id"):
        return f"msg:{message['msg_id']}"
    unique = f"{event.get('event_name')}:{citizen_id(event)}:{event.get('timestamp')}"
    return "ev:" + hashlib.sha256(unique.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def citizen_id(event: dict[str, Any]) -> str | None:
    for field in ("sender", "follower", "user"):
        value = event.get(field)
        if isinstance(value, dict) and value.get("id") is not None:
            return str(value["id"])
    return None


def _contact_text(info: dict[str, Any]) -> str:
    address = info.get("address")
    full = info.get("full_address")
    if isinstance(full, dict):
        address = ", ".join(
            str(full[k]) for k in ("user_address", "user_ward", "user_city") if full.get(k)
        )
    parts = [info.get("name"), info.get("phone"), address]
    return " – ".join(str(p) for p in parts if p)


def to_inbound(event: dict[str, Any], commune: str = DEFAULT_COMMUNE) -> Inbound | None:
    """None for events that need no answer (echoes, receipts) or that we do not know."""
    name = str(event.get("event_name", ""))
    user = citizen_id(event)
    if user is None or name.startswith(IGNORED_PREFIXES):
        return None
    key = ConversationKey(channel=CHANNEL, user_id=user, commune=commune)
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    assert isinstance(message, dict)
    msg_id = str(message["msg_id"]) if message.get("msg_id") else None
    text = str(message.get("text") or "")
    if name == "user_send_text":
        pressed = BUTTON.match(text.strip())
        if pressed:
            return Inbound(
                key=key, kind="button", button=pressed.group(1), message_id=msg_id, raw=event
            )
        return Inbound(key=key, kind="text", text=text, message_id=msg_id, raw=event)
    if name == "follow":
        return Inbound(key=key, kind="follow", raw=event)
    if name == "unfollow":
        return Inbound(key=key, kind="unfollow", raw=event)
    if name in MEDIA:
        return Inbound(
            key=key, kind="media", media=MEDIA[name], text=text, message_id=msg_id, raw=event
        )
    if name == "user_submit_info":
        info = event.get("info") if isinstance(event.get("info"), dict) else {}
        assert isinstance(info, dict)
        return Inbound(
            key=key, kind="contact", text=_contact_text(info), message_id=msg_id, raw=event
        )
    return None
