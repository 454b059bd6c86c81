"""Staff notices: built from facts (who, which guide, what was said, since when), rendered late.

The core decides *what* happened; each desk decides how to show it. `render` turns a notice into
the Vietnamese text and buttons every text desk shows (Telegram, console, simulation), so they all
read the same; a web inbox can use the structured fields instead. A notice stored by an older
version (text only, no `event`) renders as the text it carries.
"""

from __future__ import annotations

import datetime as dt

from flows import texts
from flows.callbacks import Act, button
from flows.models import (
    Button,
    CitizenRef,
    ConversationKey,
    GuideRef,
    HandoffRef,
    RecentMessage,
    Reply,
    StaffNotice,
)
from knowledge.timezone import VN_TZ

RECENT_MARK = {"in": "👤", "out": "🤖", "staff": "🧑‍💼"}
MEDIA_DEFAULT = "tệp"


def clock(moment: dt.datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def one_line(text: str, limit: int = 160) -> str:
    flat = " / ".join(part.strip() for part in text.splitlines() if part.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def masked_contact(user_id: str) -> str:
    """Enough of the platform id for staff to tell two citizens apart, not to contact them."""
    return f"…{user_id[-4:]}" if len(user_id) > 4 else "…"


def citizen_ref(key: ConversationKey, display_name: str) -> CitizenRef:
    name = display_name or f"Người dân {key.user_id[-4:]}"
    return CitizenRef(display_name=name, channel=key.channel, contact=masked_contact(key.user_id))


def staff_buttons(conversation_id: int) -> tuple[Button, ...]:
    return (
        button(texts.S_CLAIM, Act.CLAIM, number=conversation_id),
        button(texts.S_RETURN, Act.RETURN, number=conversation_id),
        button(texts.S_CLOSE, Act.CLOSE, number=conversation_id),
    )


def _name(notice: StaffNotice) -> str:
    if notice.citizen is not None:
        return notice.citizen.display_name
    return f"Người dân {notice.key.user_id[-4:]}" if notice.key is not None else "Người dân"


def _recent(lines: tuple[RecentMessage, ...]) -> str:
    return "\n".join(f"{RECENT_MARK[line.direction]} {one_line(line.text)}" for line in lines)


def _buttons(notice: StaffNotice) -> tuple[Button, ...]:
    return staff_buttons(notice.conversation_id) if notice.conversation_id is not None else ()


def render(notice: StaffNotice) -> Reply:
    """The text and buttons a text desk shows for this notice."""
    if notice.event is None:
        return notice.reply or Reply(text="")
    name = _name(notice)
    staff = notice.staff or "Cán bộ"
    handoff = notice.handoff or HandoffRef(status="waiting")
    since = handoff.waiting_since or notice.at
    event = notice.event
    if event == "queued":
        channel = notice.citizen.channel if notice.citizen else "-"
        text = texts.S_HANDOFF.format(
            name=name,
            channel=channel,
            guide=notice.guide.title if notice.guide else "(chưa rõ)",
            since=clock(since) if since else "-",
            recent=_recent(notice.recent) or "(không có)",
        )
        return Reply(text=text, buttons=_buttons(notice))
    if event in ("remind", "remind_opening"):
        minutes = int((notice.at - since).total_seconds() // 60) if notice.at and since else 0
        template = texts.S_REMIND_OPENING if event == "remind_opening" else texts.S_REMIND
        text = template.format(name=name, since=clock(since) if since else "-", minutes=minutes)
        return Reply(text=text, buttons=_buttons(notice))
    if event == "message":
        body = notice.text or ""
        if notice.media is not None:
            caption = f": {body}" if body else ""
            media = texts.MEDIA_NAMES.get(notice.media, MEDIA_DEFAULT)
            return Reply(text=texts.S_CITIZEN_MEDIA.format(name=name, media=media, caption=caption))
        text = texts.S_CITIZEN.format(name=name, text=body)
        if notice.guide is not None:
            text += "\n" + texts.S_BOT_ANSWERED.format(title=notice.guide.title)
        return Reply(text=text)
    templates = {
        "claimed": texts.S_CLAIMED,
        "returned": texts.S_RETURNED,
        "closed": texts.S_CLOSED,
        "transferred": texts.S_TRANSFERRED,
        "note": texts.S_NOTE,
    }
    if event == "taken_over":
        text = texts.S_ALREADY_CLAIMED.format(staff=notice.other or "", other=staff)
    elif event == "cancelled":
        text = texts.S_CANCELLED.format(name=name)
    elif event == "deleted":
        text = texts.S_DELETED.format(name=name)
    else:
        text = templates[event].format(staff=staff, other=notice.other or "", text=notice.text)
    return Reply(text=text)


def handoff_ref(
    handoff_id: int | None,
    status: str,
    claimed_by: str | None,
    waiting_since: dt.datetime | None,
) -> HandoffRef:
    return HandoffRef.model_validate(
        {
            "id": handoff_id,
            "status": status,
            "claimed_by": claimed_by,
            "waiting_since": waiting_since,
        }
    )


__all__ = [
    "CitizenRef",
    "GuideRef",
    "HandoffRef",
    "RecentMessage",
    "citizen_ref",
    "clock",
    "handoff_ref",
    "masked_contact",
    "one_line",
    "render",
    "staff_buttons",
]
