"""Telegram updates -> neutral Inbound models. Pure functions: the only place that reads them."""

from __future__ import annotations

from telegram import Message, Update, User

from flows.models import DEFAULT_COMMUNE, ConversationKey, Inbound, MediaKind

CHANNEL = "telegram"


def display_name(user: User | None) -> str:
    if user is None:
        return ""
    return " ".join(p for p in (user.first_name, user.last_name) if p).strip() or (
        user.username or ""
    )


def media_kind(message: Message) -> MediaKind | None:
    if message.photo:
        return "photo"
    if message.sticker:
        return "sticker"
    if message.voice:
        return "voice"
    if message.audio:
        return "audio"
    if message.video or message.video_note or message.animation:
        return "video"
    if message.document:
        return "file"
    if message.location or message.venue:
        return "location"
    if message.contact:
        return "other"
    return None


def citizen_inbound(update: Update, commune: str = DEFAULT_COMMUNE) -> Inbound | None:
    """A private-chat message or button press as the core sees it; None if not for the core."""
    raw = update.to_dict()
    if update.callback_query is not None:
        query = update.callback_query
        return Inbound(
            key=ConversationKey(channel=CHANNEL, user_id=str(query.from_user.id), commune=commune),
            kind="button",
            button=query.data or "",
            display_name=display_name(query.from_user),
            message_id=f"cb{query.id}",
            reply_to=str(query.message.message_id) if query.message is not None else None,
            raw=raw,
        )
    message = update.message or update.edited_message
    if message is None or message.from_user is None:
        return None
    key = ConversationKey(channel=CHANNEL, user_id=str(message.chat.id), commune=commune)
    name = display_name(message.from_user)
    message_id = str(message.message_id)
    if message.text is not None:
        return Inbound(
            key=key,
            kind="text",
            text=message.text,
            display_name=name,
            message_id=message_id,
            raw=raw,
        )
    kind = media_kind(message)
    return Inbound(
        key=key,
        kind="media",
        media=kind or "other",
        text=message.caption or "",
        display_name=name,
        message_id=message_id,
        raw=raw,
    )
