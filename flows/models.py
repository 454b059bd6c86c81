"""Channel-neutral message models: what every channel turns its payloads into, and back.

The core never sees a Telegram or Zalo type. A channel builds `Inbound` from its payload (keeping
the raw payload for debugging) and renders `Reply` within its own limits (see bot.outbound).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

InboundKind = Literal["text", "button", "media", "follow", "unfollow", "contact"]
MediaKind = Literal[
    "photo", "sticker", "voice", "audio", "video", "file", "location", "link", "other"
]


DEFAULT_COMMUNE = "default"


class ConversationKey(BaseModel):
    """Who the conversation is with: one citizen on one channel of one commune.

    `commune` names the tenant (a province runs many communes in one process); a single-commune
    setup uses DEFAULT_COMMUNE. It is not part of `str(key)`: queue names and platform ids are
    unique within a commune, and every stored row carries its commune separately.
    """

    model_config = ConfigDict(frozen=True)

    channel: str
    user_id: str
    commune: str = DEFAULT_COMMUNE

    def __str__(self) -> str:
        return f"{self.channel}:{self.user_id}"


class Inbound(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: ConversationKey
    kind: InboundKind = "text"
    text: str = ""
    button: str | None = None  # the short id carried by a button press
    media: MediaKind | None = None
    display_name: str = ""
    # Platform id of the message (unique within the conversation): duplicate deliveries are
    # handled once, and a staff desk on the same platform can copy the original (photos...).
    message_id: str | None = None
    # Platform id of the message whose button was pressed: a `replace` reply may edit it.
    reply_to: str | None = None
    # The durable-inbox entry this message came from: marked done in the turn's commit (and
    # then the inbox key, not message_id, is what guards against duplicate deliveries).
    receipt: int | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)


class Button(BaseModel):
    """A choice. `data` is a short ASCII id (fits Telegram's 64-byte callback_data)."""

    model_config = ConfigDict(frozen=True)

    label: str
    data: str


class Reply(BaseModel):
    """One message to a citizen or to staff. `title` is shown emphasised where possible."""

    model_config = ConfigDict(frozen=True)

    text: str
    title: str | None = None
    buttons: tuple[Button, ...] = ()
    # A hint: this reply updates the message whose button was pressed (e.g. a checklist tick).
    # Channels that can edit messages do so; others just send it.
    replace: bool = False
    # False while a typed number answers the question (a page count, a phone number): then a
    # channel that lists choices in text asks for the choice's words, not its number.
    numbered_choices: bool = True
    # Which guide (and which part of it) the reply is about, when it is about one: the
    # simulate channel prints them so outside checks can tell which procedure was answered.
    guide: str | None = None
    aspect: str | None = None


Direction = Literal["in", "out", "staff"]
HandoffStatus = Literal["waiting", "claimed", "returned", "closed", "cancelled"]
NoticeKind = Literal["handoff", "citizen", "info", "reminder", "feedback", "undelivered"]
# What happened, when a notice is about the handoff (None: a free-text note in `reply`).
NoticeEvent = Literal[
    "queued",  # a citizen asked for a person
    "message",  # the citizen wrote while waiting or with staff
    "remind",
    "remind_opening",
    "claimed",
    "taken_over",  # claimed while someone else held it (`other` held it)
    "returned",
    "closed",
    "cancelled",  # the citizen cancelled
    "deleted",  # the citizen erased their data
    "transferred",  # `staff` handed it to `other`
    "note",  # an internal note between staff, never sent to the citizen
]


class CitizenRef(BaseModel):
    """Who the citizen is, as staff may see it: a name, the channel, a masked contact."""

    model_config = ConfigDict(frozen=True)

    display_name: str
    channel: str
    contact: str = ""


class GuideRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str


class RecentMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    direction: Direction
    text: str  # masked, as stored in the transcript
    at: dt.datetime | None = None


class HandoffRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int | None = None
    status: HandoffStatus = "waiting"
    claimed_by: str | None = None
    waiting_since: dt.datetime | None = None


class StaffNotice(BaseModel):
    """A message for the staff desk about one conversation (or the whole desk if key is None).

    Notices about a handoff carry facts (`event`, citizen, guide, recent messages, handoff
    state) and every desk renders them (flows.notices.render); other notices carry their text
    in `reply`. Stored in the outbox as JSON: every field added later has a default, so rows
    written by older versions (text only) still load and render as their text.
    """

    model_config = ConfigDict(frozen=True)

    key: ConversationKey | None
    reply: Reply | None = None
    kind: NoticeKind = "info"
    media: MediaKind | None = None
    origin: str | None = None  # platform id of the citizen's message, so a desk can copy it
    subject: str | None = None  # what the conversation is about (a desk may name a topic by it)
    at: dt.datetime | None = None
    event: NoticeEvent | None = None
    conversation_id: int | None = None
    citizen: CitizenRef | None = None
    guide: GuideRef | None = None
    recent: tuple[RecentMessage, ...] = ()
    handoff: HandoffRef | None = None
    staff: str | None = None  # the staff member who acted
    other: str | None = None  # the colleague a claim was taken from or a transfer went to
    text: str | None = None  # the citizen's message, or the note
