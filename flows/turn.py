"""One inbound message being handled: the conversation, its state, and what the turn produces.

Handlers only add to a Turn; the engine commits it to storage in one transaction at the end, so
a crash mid-turn leaves the previous state, never half of a new one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flows import texts
from flows.masking import mask_personal
from flows.models import Button, ConversationKey, Reply, StaffNotice
from flows.ports import Conversation, ConversationState, Event, Handoff, Outgoing, TranscriptLine

PAGE_CHARS = 900  # a phone screen or two; longer answers get a "Xem tiếp" button
CARD_CHARS = 1600  # the summary card keeps its buttons in place unless it is really long


def split_pages(text: str, limit: int = PAGE_CHARS) -> list[str]:
    """Split at paragraph, then line, then sentence boundaries; never mid-word if avoidable."""
    if len(text) <= limit:
        return [text]
    pages: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 3:
            cut = max(window.rfind(". "), window.rfind("; "))
            cut = cut + 1 if cut >= limit // 3 else window.rfind(" ")
        if cut < limit // 3:
            cut = limit
        pages.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pages.append(rest)
    return pages


@dataclass
class Turn:
    conversation: Conversation
    now: dt.datetime
    replies: list[Reply] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    transcript: list[TranscriptLine] = field(default_factory=list)
    deleted: bool = False
    edit: str | None = None  # the message a `replace` reply may edit (the pressed one)
    # everything else the turn sends (desk notices, messages to the citizen outside `replies`)
    # and the handoff changes: all committed with the turn, in one transaction
    outgoing: list[Outgoing] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)

    def notify(self, notice: StaffNotice) -> None:
        """A notice for the desk, sent once the turn is committed."""
        self.outgoing.append(Outgoing(notice=notice, conversation_id=self.conversation.id))

    def send(self, reply: Reply) -> None:
        """A message to this citizen outside the replies to their own message (staff turns)."""
        self.outgoing.append(
            Outgoing(key=self.key, reply=reply, conversation_id=self.conversation.id)
        )

    def save(self, handoff: Handoff) -> None:
        """Record a handoff change (or a new handoff) to commit with the turn."""
        self.handoffs = [h for h in self.handoffs if h.id != handoff.id] + [handoff]

    @property
    def state(self) -> ConversationState:
        return self.conversation.state

    @property
    def key(self) -> ConversationKey:
        return self.conversation.key

    @property
    def name(self) -> str:
        return self.conversation.display_name or f"Người dân {self.key.user_id[-4:]}"

    def heard(self, text: str) -> None:
        self.transcript.append(
            TranscriptLine(direction="in", text=mask_personal(text), at=self.now)
        )

    def say(
        self,
        text: str,
        buttons: list[Button] | None = None,
        title: str | None = None,
        replace: bool = False,
    ) -> None:
        """Send a message; its buttons become the ones typed numbers refer to."""
        reply = Reply(text=text, title=title, buttons=tuple(buttons or ()), replace=replace)
        self.replies.append(reply)
        if buttons is not None:
            self.state.buttons = list(buttons)
        shown = f"{title}\n{text}" if title else text
        self.transcript.append(
            TranscriptLine(direction="out", text=mask_personal(shown), at=self.now)
        )

    def say_paged(
        self, text: str, buttons: list[Button], title: str | None = None, limit: int = PAGE_CHARS
    ) -> None:
        """Long text goes out one page at a time; the rest waits behind "Xem tiếp"."""
        pages = split_pages(text, limit)
        self.state.pages = pages[1:]
        if len(pages) == 1:
            self.say(text, buttons, title)
            return
        self.state.data["after_pages"] = [b.model_dump() for b in buttons]
        self.say(pages[0], [Button(label=texts.B_MORE, data="more"), *buttons], title)

    def more(self) -> bool:
        if not self.state.pages:
            return False
        page = self.state.pages.pop(0)
        after = [Button.model_validate(b) for b in self.state.data.get("after_pages", [])]
        buttons = [Button(label=texts.B_MORE, data="more"), *after] if self.state.pages else after
        self.say(page, buttons)
        return True

    def log(self, kind: str, **data: Any) -> None:
        self.events.append(Event(kind=kind, at=self.now, data=data))

    def reset_flow(self) -> None:
        state = self.state
        state.flow = None
        state.step = 0
        state.data = {}
        state.pages = []
