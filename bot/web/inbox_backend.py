"""What the staff inbox needs from the desk, as one small protocol, and an adapter over today's
engine (flows.engine staff actions) and storage.

Every desk action goes through flows.desk.DeskService, the service the Telegram desk uses: it
runs under the conversation's lock, in one turn, and a reply reaches the citizen through the
durable outbox like a Telegram staff reply does; the Telegram desk sees the same handoff rows
and notices, so a claim in one shows in the other. The web pages only know `InboxBackend`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

from bot.storage.accounts import AccountStore, InboxNote
from bot.storage.files import StaffFiles
from flows.desk import ClaimResult, DeskService
from flows.engine import Engine
from flows.hours import OfficeHours
from flows.ports import Clock, Handoff, Storage, TranscriptLine
from knowledge.library import Library

TRANSCRIPT_LINES = 100
FILE_CHANNELS = frozenset({"web", "telegram"})  # channels whose transport delivers a staff file
FileResult = Literal["sent", "gone", "zalo", "channel"]


@dataclasses.dataclass(frozen=True)
class QueueEntry:
    handoff: Handoff
    conversation_id: int
    name: str
    channel: str
    guide_title: str | None
    waiting: dt.timedelta
    answer_by: dt.datetime | None  # what the citizen was promised (office hours)


@dataclasses.dataclass(frozen=True)
class ConversationView:
    conversation_id: int
    name: str
    channel: str
    handoff: Handoff | None  # the open one, if any
    guide_title: str | None
    answer_by: dt.datetime | None
    transcript: list[TranscriptLine]
    notes: list[InboxNote]


class InboxBackend(Protocol):
    """Desk operations for one commune's inbox; `staff` is the name citizens see."""

    async def queue(self, commune: str) -> list[QueueEntry]: ...

    async def conversation(self, commune: str, conversation_id: int) -> ConversationView | None:
        """None when the conversation does not exist or belongs to another commune."""

    async def claim(self, staff: str, conversation_id: int, take_over: bool) -> ClaimResult:
        """`take_over=False`: if a colleague holds it, only say who (the page asks first)."""

    async def reply(self, staff: str, conversation_id: int, text: str) -> bool: ...

    async def send_file(
        self, staff: str, conversation_id: int, name: str, mime: str, data: bytes
    ) -> FileResult:
        """Store the file and queue it to the citizen; "zalo"/"channel": that channel cannot
        receive it (nothing stored or sent), "gone": no open handoff."""

    async def hand_back(self, staff: str, conversation_id: int) -> bool: ...

    async def close(self, staff: str, conversation_id: int) -> bool: ...

    async def note(self, author: str, conversation_id: int, text: str) -> None: ...

    async def transfer(self, staff: str, conversation_id: int, colleague: str) -> bool: ...

    async def version(self, commune: str) -> str:
        """Changes whenever the queue or an open conversation changes (for live updates)."""

    async def wait(self, timeout: float) -> None:
        """Return after `timeout` seconds, or sooner when an inbox action changed something."""


class FlowsInbox:
    """InboxBackend over the desk service (actions) and Storage (what the pages show)."""

    def __init__(
        self,
        engine: Engine,
        storage: Storage,
        notes: AccountStore,
        library: Callable[[], Library],
        clock: Clock,
        files: StaffFiles | None = None,
    ) -> None:
        self._engine = engine
        self._files = files
        self._desk = DeskService(engine, storage)
        self._storage = storage
        self._notes = notes
        self._library = library
        self._clock = clock
        self._changed = asyncio.Condition()

    def answer_by(self, handoff: Handoff) -> dt.datetime | None:
        """The promise flows.handoff makes: soon (the reminder delay) when asked in office
        hours, else from the next opening."""
        hours = OfficeHours(self._library().kb.office)
        if hours.is_open(handoff.created_at):
            return handoff.created_at + dt.timedelta(minutes=self._engine.config.reminder_minutes)
        return hours.next_opening(handoff.created_at)

    def _guide_title(self, guide_id: str | None) -> str | None:
        guide = self._library().guide(guide_id) if guide_id else None
        return guide.title if guide else None

    async def queue(self, commune: str) -> list[QueueEntry]:
        now = self._clock.now()
        entries = []
        for handoff in await self._storage.handoffs.queue():
            conversation = await self._storage.conversations.find(handoff.conversation_id)
            if conversation is None or conversation.key.commune != commune:
                continue
            entries.append(
                QueueEntry(
                    handoff=handoff,
                    conversation_id=conversation.id,
                    name=conversation.display_name or f"Người dân #{conversation.id}",
                    channel=conversation.key.channel,
                    guide_title=self._guide_title(handoff.guide_id),
                    waiting=max(now - handoff.created_at, dt.timedelta(0)),
                    answer_by=self.answer_by(handoff),
                )
            )
        return entries

    async def conversation(self, commune: str, conversation_id: int) -> ConversationView | None:
        conversation = await self._storage.conversations.find(conversation_id)
        if conversation is None or conversation.key.commune != commune:
            return None
        handoff = await self._storage.handoffs.current(conversation_id)
        guide_id = handoff.guide_id if handoff else conversation.state.guide_id
        return ConversationView(
            conversation_id=conversation.id,
            name=conversation.display_name or f"Người dân #{conversation.id}",
            channel=conversation.key.channel,
            handoff=handoff,
            guide_title=self._guide_title(guide_id),
            answer_by=self.answer_by(handoff) if handoff else None,
            transcript=await self._storage.conversations.transcript(
                conversation_id, TRANSCRIPT_LINES
            ),
            notes=await self._notes.notes(conversation_id),
        )

    async def _done(self, ok: bool) -> bool:
        async with self._changed:
            self._changed.notify_all()
        return ok

    async def claim(self, staff: str, conversation_id: int, take_over: bool) -> ClaimResult:
        result = await self._desk.claim(staff, conversation_id, take_over=take_over)
        await self._done(result.ok)
        return result

    async def reply(self, staff: str, conversation_id: int, text: str) -> bool:
        return await self._done(await self._desk.reply(staff, conversation_id, text))

    async def send_file(
        self, staff: str, conversation_id: int, name: str, mime: str, data: bytes
    ) -> FileResult:
        conversation = await self._storage.conversations.find(conversation_id)
        if conversation is None or await self._storage.handoffs.current(conversation_id) is None:
            return "gone"
        channel = conversation.key.channel
        if channel not in FILE_CHANNELS or self._files is None:
            return "zalo" if channel == "zalo" else "channel"
        file_id = await self._files.put(conversation_id, name, mime, data, self._clock.now())
        if file_id is None:
            return "gone"
        # a handoff ended meanwhile: the file stays with the conversation (erased with it)
        sent = await self._desk.send_file(staff, conversation_id, file_id, name)
        await self._done(sent)
        return "sent" if sent else "gone"

    async def hand_back(self, staff: str, conversation_id: int) -> bool:
        return await self._done(await self._desk.hand_back(staff, conversation_id))

    async def close(self, staff: str, conversation_id: int) -> bool:
        return await self._done(await self._desk.close(staff, conversation_id))

    async def note(self, author: str, conversation_id: int, text: str) -> None:
        await self._notes.add_note(conversation_id, author, text, self._clock.now())
        await self._done(True)

    async def transfer(self, staff: str, conversation_id: int, colleague: str) -> bool:
        """The colleague becomes the holder (the citizen is told who helps them now)."""
        return await self._done(await self._desk.transfer(staff, conversation_id, colleague))

    async def version(self, commune: str) -> str:
        parts = []
        for entry in await self.queue(commune):
            last = await self._storage.conversations.transcript(entry.conversation_id, 1)
            h = entry.handoff
            stamp = last[-1].at.isoformat() if last else ""
            parts.append(f"{h.id}:{h.status}:{h.claimed_by}:{stamp}")
        return "|".join(parts)

    async def wait(self, timeout: float) -> None:
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)


class ProvinceInbox:
    """One InboxBackend over every commune of the process: each commune's own FlowsInbox
    (its engine and its view of the database). Pages name the commune and check that the
    conversation is that commune's before acting; an id-only action goes to the commune whose
    store holds the conversation (ids are unique in a database)."""

    def __init__(self, inboxes: dict[str, FlowsInbox]) -> None:
        self._inboxes = inboxes
        self._changed = asyncio.Condition()

    async def _of(self, conversation_id: int) -> FlowsInbox | None:
        for inbox in self._inboxes.values():
            if await inbox._storage.conversations.find(conversation_id) is not None:
                return inbox
        return None

    async def _act(
        self, conversation_id: int, act: Callable[[FlowsInbox], Awaitable[bool]]
    ) -> bool:
        inbox = await self._of(conversation_id)
        ok = inbox is not None and await act(inbox)
        async with self._changed:
            self._changed.notify_all()
        return ok

    async def queue(self, commune: str) -> list[QueueEntry]:
        inbox = self._inboxes.get(commune)
        return await inbox.queue(commune) if inbox else []

    async def conversation(self, commune: str, conversation_id: int) -> ConversationView | None:
        inbox = self._inboxes.get(commune)
        return await inbox.conversation(commune, conversation_id) if inbox else None

    async def claim(self, staff: str, conversation_id: int, take_over: bool) -> ClaimResult:
        inbox = await self._of(conversation_id)
        result = (
            await inbox.claim(staff, conversation_id, take_over) if inbox else ClaimResult(False)
        )
        async with self._changed:
            self._changed.notify_all()
        return result

    async def reply(self, staff: str, conversation_id: int, text: str) -> bool:
        return await self._act(conversation_id, lambda i: i.reply(staff, conversation_id, text))

    async def send_file(
        self, staff: str, conversation_id: int, name: str, mime: str, data: bytes
    ) -> FileResult:
        inbox = await self._of(conversation_id)
        result: FileResult = "gone"
        if inbox is not None:
            result = await inbox.send_file(staff, conversation_id, name, mime, data)
        async with self._changed:
            self._changed.notify_all()
        return result

    async def hand_back(self, staff: str, conversation_id: int) -> bool:
        return await self._act(conversation_id, lambda i: i.hand_back(staff, conversation_id))

    async def close(self, staff: str, conversation_id: int) -> bool:
        return await self._act(conversation_id, lambda i: i.close(staff, conversation_id))

    async def note(self, author: str, conversation_id: int, text: str) -> None:
        async def act(inbox: FlowsInbox) -> bool:
            await inbox.note(author, conversation_id, text)
            return True

        await self._act(conversation_id, act)

    async def transfer(self, staff: str, conversation_id: int, colleague: str) -> bool:
        return await self._act(
            conversation_id, lambda i: i.transfer(staff, conversation_id, colleague)
        )

    async def version(self, commune: str) -> str:
        inbox = self._inboxes.get(commune)
        return await inbox.version(commune) if inbox else ""

    async def wait(self, timeout: float) -> None:
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
