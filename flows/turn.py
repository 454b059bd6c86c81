"""One inbound message being handled: the conversation, its state, and what the turn produces.

Handlers only add to a Turn; the engine commits it to storage in one transaction at the end, so
a crash mid-turn leaves the previous state, never half of a new one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flows import texts
from flows.callbacks import Act, Flow, button
from flows.masking import mask_personal
from flows.models import Button, ConversationKey, Reply, StaffNotice
from flows.ports import Conversation, ConversationState, Event, Handoff, Outgoing, TranscriptLine
from flows.wording import plain

PAGE_CHARS = 900  # a phone screen or two; longer answers get a "Xem tiếp" button
CARD_CHARS = 1600  # the summary card keeps its buttons in place unless it is really long


def numbers_are_answers(state: ConversationState) -> bool:
    """In these steps a typed number answers the question (a count, a phone), never a choice."""
    return (
        state.mode != "bot"
        or state.flow in (Flow.FEE, Flow.REASON)
        or (state.flow == Flow.FEEDBACK and state.data.get("stage") != "consent")
    )


def _blocks(text: str) -> list[str]:
    """Lines that must stay on one page: an item with its indented notes, a heading with the
    first line under it ("Nếu ...:" never ends a page, "   Mẫu: ..." never starts one)."""
    blocks: list[str] = []
    for line in text.split("\n"):
        note = line.startswith((" ", "\t"))
        if blocks and not line.strip() and blocks[-1].rstrip().endswith(":"):
            blocks[-1] += "\n"  # a blank line does not end a heading's block
            continue
        if blocks and line.strip() and (note or blocks[-1].rstrip().endswith(":")):
            blocks[-1] += "\n" + line
        else:
            blocks.append(line)
    return blocks


def split_pages(text: str, limit: int = PAGE_CHARS) -> list[str]:
    """Split between blocks (see `_blocks`); a block longer than a page is split at a line,
    sentence or word boundary, and the next page names the item it continues."""
    if len(text) <= limit:
        return [text]
    pages: list[str] = []
    current = ""
    for block in _blocks(text):
        candidate = f"{current}\n{block}" if current else block
        if len(candidate.strip()) <= limit:
            current = candidate
            continue
        if current.strip():
            pages.append(current.strip())
        current = block
        item = block.strip().split("\n", 1)[0]
        while len(current.strip()) > limit:
            head, current = _cut(current.strip(), limit)
            pages.append(head)
            if "\n" in block.strip():  # the rest of an item's notes: say whose they are
                current = _continued(item, limit) + current
    if current.strip():
        pages.append(current.strip())
    return pages


def _continued(item: str, limit: int) -> str:
    """A short reminder of the item a page continues, at most a quarter of the page."""
    room = limit // 4 - len(texts.CONTINUED.format(item="")) - 1
    if room < 10:
        return ""
    short = item if len(item) <= room else item[: room - 1].rstrip() + "…"
    return texts.CONTINUED.format(item=short) + "\n"


def _cut(rest: str, limit: int) -> tuple[str, str]:
    """One page off a block longer than a page: at a line, sentence or word boundary."""
    window = rest[:limit]
    cut = window.rfind("\n")
    if cut >= 0 and window[:cut].rstrip().endswith(":"):
        cut = -1  # never leave a heading at the bottom of a page
    if cut < limit // 3:
        cut = max(window.rfind(". "), window.rfind("; "))
        cut = cut + 1 if cut >= limit // 3 else window.rfind(" ")
    while cut > limit // 3 and rest[:cut].rstrip().endswith(":"):
        cut = rest.rfind(" ", 0, len(rest[:cut].rstrip()))  # "Phí ...:" stays with its amount
    if cut < limit // 3:
        cut = limit
    return rest[:cut].rstrip(), rest[cut:].lstrip()


class CleanTexts:
    """Texts the assistant says that `mask_personal` leaves unchanged (guide cards, menus:
    the same few hundred texts for every citizen), so each is masked once, not at every turn.
    Only texts with nothing to mask are kept, never a citizen's own words or numbers; at
    `limit` it starts afresh."""

    def __init__(self, limit: int = 4096) -> None:
        self._seen: set[str] = set()
        self._limit = limit

    def mask(self, text: str) -> str:
        if text in self._seen:
            return text
        masked = mask_personal(text)
        if masked == text:
            if len(self._seen) >= self._limit:
                self._seen.clear()
            self._seen.add(text)
        return masked


@dataclass
class Turn:
    conversation: Conversation
    now: dt.datetime
    replies: list[Reply] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    transcript: list[TranscriptLine] = field(default_factory=list)
    deleted: bool = False
    # (guide id, aspect) the replies being said are about; set by the answers.
    about: tuple[str | None, str | None] = (None, None)
    edit: str | None = None  # the message a `replace` reply may edit (the pressed one)
    # everything else the turn sends (desk notices, messages to the citizen outside `replies`)
    # and the handoff changes: all committed with the turn, in one transaction
    outgoing: list[Outgoing] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    # masks what the assistant says before the transcript keeps it (an engine shares one)
    clean: CleanTexts = field(default_factory=CleanTexts, repr=False)

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
        guide, aspect = self.about
        reply = Reply(
            text=text,
            title=title,
            buttons=tuple(buttons or ()),
            replace=replace,
            numbered_choices=not numbers_are_answers(self.state),
            guide=guide,
            aspect=aspect,
        )
        self.replies.append(reply)
        if buttons is not None:
            self.state.buttons = list(buttons)
        self._record(reply)

    def relay(self, reply: Reply) -> None:
        """Say a reply built by a trial turn (Router.while_waiting) as it is."""
        self.replies.append(reply)
        self._record(reply)

    def _record(self, reply: Reply) -> None:
        text = plain(reply.text, reply.buttons)
        shown = f"{reply.title}\n{text}" if reply.title else text
        self.transcript.append(
            TranscriptLine(direction="out", text=self.clean.mask(shown), at=self.now)
        )

    def introduce(self) -> None:
        """The first message of a conversation opens with one line saying it is an automated
        assistant, how to reach a person and the privacy notice (texts.INTRO); the welcome
        carries that line already."""
        if self.state.introduced or not self.replies:
            return
        self.state.introduced = True
        first = self.replies[0]
        if texts.INTRO in first.text:
            return
        self.replies[0] = first.model_copy(update={"text": f"{texts.INTRO}\n\n{first.text}"})
        said = [i for i, line in enumerate(self.transcript) if line.direction == "out"]
        self._record(Reply(text=texts.INTRO, buttons=first.buttons))
        if said:  # in the order the citizen reads it
            self.transcript.insert(said[0], self.transcript.pop())

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
        self.say(pages[0], [button(texts.B_MORE, Act.MORE), *buttons], title)

    def more(self) -> bool:
        if not self.state.pages:
            return False
        page = self.state.pages.pop(0)
        after = [Button.model_validate(b) for b in self.state.data.get("after_pages", [])]
        buttons = [button(texts.B_MORE, Act.MORE), *after] if self.state.pages else after
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
