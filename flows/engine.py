"""The conversation engine: one entry point for citizens, one for staff, one for time passing.

Messages of one conversation are handled in order (a lock per conversation, like aiogram's event
isolation); different conversations run concurrently. Every turn ends with one storage commit:
state, transcript, events, handoff changes, the inbox entry it answers and, with a `delivery`
(production), every message it sends, written to the durable outbox and delivered afterwards.
Without one (console, simulation, tests) the messages are delivered right after the commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from flows import texts
from flows.aspects import detect, without_cues
from flows.callbacks import EXAMPLE_SKIP, FORM_FLOWS, Act, button
from flows.feedback import Feedback
from flows.handoff import Handoffs, display_name, notice, undelivered_notice
from flows.hours import OfficeHours
from flows.locks import KeyedLocks
from flows.masking import mask_personal
from flows.menu import HUMAN, MENU, show_welcome
from flows.models import ConversationKey, Inbound, Reply, StaffNotice
from flows.ports import (
    Clock,
    Conversation,
    Delivery,
    Event,
    Handoff,
    Outbox,
    Outgoing,
    StaffDesk,
    Storage,
    TranscriptLine,
)
from flows.ports import Turn as StoredTurn
from flows.router import Router, choice_number
from flows.turn import CleanTexts, Turn, numbers_are_answers
from knowledge.library import Library
from knowledge.matcher import Match
from knowledge.normalize import fold

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
StaffAction = Literal["claim", "return", "close"]


@dataclass(frozen=True)
class EngineConfig:
    reminder_minutes: int = 15
    max_text_chars: int = 4000
    match_chars: int = 600
    long_text_chars: int = 2000


EXAMPLE_LOOKBACK = dt.timedelta(hours=6)
_SMALL_TALK = ("cam on", "thank", "ok", "vang", "da vang", "xin chao", "chao", "alo", "tks")


def _is_question(text: str) -> bool:
    """Worth teaching the assistant: a few words, not a command or button, not small talk,
    and not an aspect follow-up without its subject ("cần mang gì", "bao lâu")."""
    folded = fold(text)
    if text.startswith(("/", "[")) or len(folded.split()) < 3:
        return False
    if folded.startswith(_SMALL_TALK):
        return False
    return not (detect(text) is not None and len(without_cues(text).split()) < 2)


def _clean_texts(library: Library) -> CleanTexts:
    """The assistant's texts already known to need no masking, shared by every engine serving
    this library (a province's communes say the same cards): kept with the library, so a
    reload starts afresh."""
    return library.memo(CleanTexts, CleanTexts)


def sanitize(text: str, limit: int) -> str:
    return _CONTROL.sub(" ", text).strip()[:limit]


class Engine:
    def __init__(
        self,
        library: Callable[[], Library],
        storage: Storage,
        desk: StaffDesk,
        outbox: Outbox,
        clock: Clock,
        config: EngineConfig | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        self._library = library
        self._storage = storage
        self._desk = desk
        self._outbox = outbox
        self._clock = clock
        self._delivery = delivery
        self.config = config or EngineConfig()
        self._locks: KeyedLocks[ConversationKey] = KeyedLocks()
        self.handoffs = Handoffs(storage, self.config.reminder_minutes)
        self.feedback = Feedback(storage, desk)
        self._router = Router(self.handoffs, self.feedback, storage, desk)

    # --- citizens ------------------------------------------------------------------------

    @property
    def durable(self) -> bool:
        """True when turns queue their messages in the outbox (a sender delivers them)."""
        return self._delivery is not None

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Handle one citizen message. Returns the replies; with a delivery they are already
        queued in the outbox (the caller must not send them), else the caller sends them."""
        async with self._locks.hold(inbound.key):
            now = self._clock.now()
            # Platform message ids are unique per chat (Telegram) or per account (Zalo). An
            # inbox entry has its own unique key, checked when it was stored: a re-processed
            # entry (after a crash before its commit) must be handled, not dropped.
            if (
                inbound.receipt is None
                and inbound.message_id is not None
                and not await self._storage.dedup.first_seen(
                    inbound.key.channel, f"{inbound.key.user_id}/{inbound.message_id}", now
                )
            ):
                return []
            name = inbound.display_name.strip()[:100]
            conversation = await self._storage.conversations.get_or_create(inbound.key, now, name)
            library = self._library()
            turn = Turn(conversation, now, edit=inbound.reply_to, clean=_clean_texts(library))
            try:
                await self._dispatch(turn, library, inbound)
            except Exception:
                log.exception("turn failed for %s", inbound.key)
                turn = await self._failed_turn(inbound, name)
            turn.introduce()
            await self._commit(turn, name or None, inbound.receipt)
            return turn.replies

    async def _failed_turn(self, inbound: Inbound, name: str) -> Turn:
        """Keep the state from before the failed turn; tell the citizen politely."""
        conversation = await self._storage.conversations.get_or_create(
            inbound.key, self._clock.now(), name
        )
        turn = Turn(conversation, self._clock.now(), clean=_clean_texts(self._library()))
        turn.heard(inbound.text or f"[{inbound.kind}]")
        turn.say(texts.FAILED, [HUMAN, MENU])
        turn.log("error", inbound=inbound.kind)
        return turn

    async def _commit(
        self,
        turn: Turn,
        display_name: str | None,
        receipt: int | None = None,
        citizen: bool = True,
    ) -> bool:
        """One transaction for the whole turn, then delivery. Returns False when a message to
        the citizen could not be delivered inline (always True with a durable outbox).
        `citizen=False` (staff and time turns) keeps the citizen's last-seen time, which is what
        platform reply windows are measured from."""
        outgoing = list(turn.outgoing)
        if self._delivery is not None:
            replies = [
                Outgoing(
                    key=turn.key,
                    reply=reply,
                    edit=turn.edit if reply.replace else None,
                    conversation_id=turn.conversation.id,
                )
                for reply in turn.replies
            ]
            outgoing = [*replies, *outgoing]
        if turn.deleted:  # the conversation is gone: only the goodbyes remain
            if self._delivery is not None:
                await self._storage.outbox.enqueue(outgoing, turn.now, receipt=receipt)
            elif receipt is not None:
                await self._storage.inbox.done(receipt, turn.now)
        else:
            await self._storage.commit(
                StoredTurn(
                    conversation_id=turn.conversation.id,
                    state=turn.state,
                    seen_at=turn.now if citizen else turn.conversation.last_seen_at,
                    display_name=display_name,
                    transcript=turn.transcript,
                    events=turn.events,
                    handoffs=turn.handoffs,
                    outgoing=outgoing if self._delivery is not None else [],
                    receipt=receipt,
                )
            )
        if self._delivery is not None:
            self._delivery.wake()
            return True
        return await self._deliver_inline(turn.conversation, outgoing)

    async def _deliver_inline(self, conversation: Conversation, outgoing: list[Outgoing]) -> bool:
        delivered = True
        for item in outgoing:
            if item.notice is not None:
                await self._desk.post(item.notice)
                continue
            if item.key is None or item.reply is None:
                continue
            if await self._outbox.send(item.key, item.reply):
                continue
            delivered = False
            now = self._clock.now()
            await self._storage.events.log(
                conversation.id,
                Event(kind="unreachable", at=now, data={"text": item.reply.text[:200]}),
            )
            await self._desk.post(
                undelivered_notice(item.key, display_name(conversation), item.reply.text, "", now)
            )
        return delivered

    async def _dispatch(self, turn: Turn, library: Library, inbound: Inbound) -> None:
        state = turn.state
        if inbound.kind == "follow":
            turn.heard("[quan tâm trang]")
            show_welcome(turn, library)
            return
        if inbound.kind == "unfollow":
            turn.heard("[bỏ quan tâm]")
            turn.log("unfollow")
            return
        if inbound.kind == "contact":
            # Contact details the citizen chose to share (Zalo's request-info form).
            turn.heard(f"[thông tin liên hệ] {inbound.text}")
            if state.mode != "bot":
                await self.handoffs.forward(turn, f"[thông tin liên hệ] {inbound.text}")
                return
            turn.say(texts.CONTACT_THANKS, [MENU, HUMAN])
            return
        if inbound.kind == "media":
            turn.heard(f"[{inbound.media or inbound.kind}]")
            if state.mode != "bot":
                await self.handoffs.forward(
                    turn, inbound.text, inbound.media or "other", inbound.message_id
                )
                return
            turn.say(texts.MEDIA, [HUMAN, MENU])
            return

        raw = inbound.text or ""
        text = sanitize(raw, self.config.max_text_chars)
        folded = fold(text)  # once: the checks below all read it
        data = inbound.button
        if inbound.kind == "button":
            label = next((b.label for b in state.buttons if b.data == data), data or "")
            turn.heard(f"[{label}]")
        else:
            turn.heard(text)
            if text.startswith("/"):
                await self._router.command(turn, library, text)
                return
            data = self._typed_choice(turn, text, folded, library)
            count = len(state.buttons)
            if (
                data is None
                and choice_number(text) is not None
                and count
                and state.mode == "bot"
                and (state.flow not in FORM_FLOWS)
            ):
                # A number that is not one of the buttons: never a guide, never a handoff.
                turn.say(texts.CHOOSE_NUMBER.format(count=count), list(state.buttons))
                return
        if data is not None:
            await self._router.press(turn, library, data)
            return
        if state.mode != "bot":
            answered = None
            if folded:
                answered = await self._router.while_waiting(
                    turn, library, text[: self.config.match_chars]
                )
            await self.handoffs.forward(turn, text, answered=answered)
            return
        if not folded:
            turn.say(texts.EMPTY if not text else texts.NO_WORDS, [MENU, HUMAN])
            return
        if len(raw) > self.config.long_text_chars:
            turn.say(texts.TOO_LONG)
        await self._router.text(turn, library, text[: self.config.match_chars])

    def _typed_choice(self, turn: Turn, text: str, folded: str, library: Library) -> str | None:
        """A typed number or exact button label stands for pressing that button."""
        state = turn.state
        buttons = state.buttons
        number = choice_number(text)
        # With a person, or when asked for a count or a phone, a number is an answer ("2 bản").
        if number is not None and buttons and not numbers_are_answers(state):
            index = number - 1
            return buttons[index].data if 0 <= index < len(buttons) else None
        if not folded:
            return None
        # button labels folded: the assistant's own words, a bounded few, shared with the library
        labels: dict[str, str] = library.memo("folded button labels", dict)
        for choice in buttons:
            label = labels.get(choice.label)
            if label is None:
                if len(labels) >= 4096:
                    labels.clear()
                label = labels[choice.label] = fold(choice.label)
            if label == folded:
                return choice.data
        return None

    # --- staff ---------------------------------------------------------------------------

    async def staff_action(
        self, staff: str, conversation_id: int, action: StaffAction, receipt: int | None = None
    ) -> bool:
        """Claim, return to bot, or close. False (and a note to the desk) if nothing is open."""
        async with self._staff_turn(conversation_id, receipt) as opened:
            if opened is None:
                return False
            _, handoff, turn = opened
            now = turn.now
            if action == "claim":
                if handoff.status == "claimed" and handoff.claimed_by == staff:
                    return True
                if handoff.status == "claimed" and handoff.claimed_by:
                    # two officers on one citizen: say so, so neither answers blind
                    turn.notify(
                        notice(turn, "taken_over", handoff, staff=staff, other=handoff.claimed_by)
                    )
                self.handoffs.claim(turn, handoff, staff)
                turn.log(
                    "handoff_claimed",
                    handoff=handoff.id,
                    staff=staff,
                    wait_s=(now - handoff.created_at).total_seconds(),
                )
            else:
                self.handoffs.end(turn, handoff, staff, action == "close")
                kind = "handoff_closed" if action == "close" else "handoff_returned"
                turn.log(kind, handoff=handoff.id, staff=staff)
                if handoff.first_response_at is not None:
                    await self._offer_example(turn, handoff)
            await self._commit(turn, None, receipt, citizen=False)
            return True

    async def _offer_example(self, turn: Turn, handoff: Handoff) -> None:
        """A question staff had to answer is a candidate example for a guide: offer it to the
        editors in the desk, with the likely guides as buttons."""
        library = self._library()
        conversation = turn.conversation
        question = await self._unanswered_question(conversation, handoff)
        if question is None:
            return
        options = [m for m in library.match(question).matches[:3]]
        if handoff.guide_id and handoff.guide_id not in [m.id for m in options]:
            guide = library.guide(handoff.guide_id)
            if guide is not None:
                options.insert(0, Match(guide.id, guide.title, 1.0))
        buttons = [button(m.title[:40], Act.EXAMPLE, m.id) for m in options[:3]]
        turn.notify(
            StaffNotice(
                key=conversation.key,
                kind="info",
                at=self._clock.now(),
                reply=Reply(
                    text=texts.S_CANDIDATE.format(question=question),
                    buttons=(*buttons, button(texts.S_SKIP_CANDIDATE, Act.EXAMPLE, EXAMPLE_SKIP)),
                ),
            )
        )

    async def _unanswered_question(
        self, conversation: Conversation, handoff: Handoff
    ) -> str | None:
        """The question that made a person necessary: the last one before the handoff the bot
        could not match (its question event says so), else the first real question the citizen
        put to staff. Never a thank-you or a follow-up such as "cần mang gì"."""
        since = handoff.created_at - EXAMPLE_LOOKBACK
        until = handoff.created_at + dt.timedelta(seconds=1)
        unmatched = [
            str(e.data.get("text") or "")
            for cid, e in await self._storage.events.between(since, until)
            if cid == conversation.id
            and e.kind == "question"
            and e.data.get("intent") in ("clarify", "none")
        ]
        library = self._library()
        to_staff = [
            line.text
            for line in await self._storage.conversations.transcript(conversation.id, 30)
            if line.direction == "in"
            and line.at >= handoff.created_at
            and library.match(line.text).intent in ("clarify", "none")  # not answerable yet
        ]
        for text in [*reversed(unmatched), *to_staff]:
            if _is_question(text):
                return text[:300]
        return None

    async def staff_reply(
        self,
        staff: str,
        conversation_id: int,
        text: str,
        center: str = "",
        deliver: bool = True,
        receipt: int | None = None,
        copy_of: str | None = None,
        attachment: int | None = None,
    ) -> bool:
        """Relay a staff answer to the citizen. False if no handoff is open or (without a
        durable outbox) not delivered; with one, True once it is queued (staff are told later
        if it cannot be delivered). `deliver=False` records an answer the channel already
        delivered itself (a file); `copy_of` queues a copy of a desk message (a file, `text`
        its caption) in the same commit; `attachment` a stored file (`text` «📎 name»)."""
        async with self._staff_turn(conversation_id, receipt) as opened:
            if opened is None:
                return False
            _, handoff, turn = opened
            now = turn.now
            first = handoff.first_response_at is None
            center = center or self._library().kb.office.center_name
            special = copy_of is not None or attachment is not None
            self.handoffs.staff_message(turn, handoff, staff, text, center, deliver and not special)
            if special:
                turn.outgoing.append(
                    Outgoing(
                        key=turn.key,
                        reply=Reply(text=text),
                        copy_of=copy_of,
                        attachment=attachment,
                        conversation_id=turn.conversation.id,
                    )
                )
            turn.transcript.append(
                TranscriptLine(direction="staff", text=mask_personal(text), at=now)
            )
            if first:
                turn.log(
                    "staff_first_response",
                    handoff=handoff.id,
                    staff=staff,
                    wait_s=(now - handoff.created_at).total_seconds(),
                )
            turn.log("staff_reply", handoff=handoff.id, queued=self.durable)
            return await self._commit(turn, None, receipt, citizen=False)

    async def staff_transfer(
        self, staff: str, conversation_id: int, colleague: str, receipt: int | None = None
    ) -> bool:
        """Hand an open conversation to a colleague (who then holds it)."""
        async with self._staff_turn(conversation_id, receipt) as opened:
            if opened is None:
                return False
            _, handoff, turn = opened
            self.handoffs.transfer(turn, handoff, staff, colleague)
            turn.log("handoff_transferred", handoff=handoff.id, staff=staff, to=colleague)
            await self._commit(turn, None, receipt, citizen=False)
            return True

    async def staff_note(
        self, staff: str, conversation_id: int, text: str, receipt: int | None = None
    ) -> bool:
        """An internal note on an open conversation, kept (masked) with its events."""
        async with self._staff_turn(conversation_id, receipt) as opened:
            if opened is None:
                return False
            _, handoff, turn = opened
            note = mask_personal(sanitize(text, self.config.max_text_chars))
            self.handoffs.note(turn, handoff, staff, note)
            turn.log("staff_note", handoff=handoff.id, staff=staff, text=note)
            await self._commit(turn, None, receipt, citizen=False)
            return True

    @asynccontextmanager
    async def _staff_turn(
        self, conversation_id: int, receipt: int | None = None
    ) -> AsyncIterator[tuple[Conversation, Handoff, Turn] | None]:
        """Under the conversation's lock: the conversation, its open handoff and a turn to log
        in; None (after telling the desk why) when there is nothing to act on."""
        found = await self._storage.conversations.find(conversation_id)
        if found is None:
            await self._note(None, texts.S_NO_CONVERSATION, receipt)
            yield None
            return
        async with self._locks.hold(found.key):
            conversation = await self._storage.conversations.find(conversation_id)
            handoff = await self._storage.handoffs.current(conversation_id)
            if conversation is None or handoff is None:
                await self._note(found.key, texts.S_NOT_OPEN, receipt)
                yield None
                return
            yield (
                conversation,
                handoff,
                Turn(conversation, self._clock.now(), clean=_clean_texts(self._library())),
            )

    async def _note(
        self, key: ConversationKey | None, text: str, receipt: int | None = None
    ) -> None:
        """A desk note that belongs to no turn (queued durably when there is an outbox)."""
        notice = StaffNotice(key=key, reply=Reply(text=text), at=self._clock.now())
        await self.send_outside_turn([Outgoing(notice=notice)], receipt)

    async def send_outside_turn(self, items: list[Outgoing], receipt: int | None = None) -> None:
        """Messages that belong to no conversation turn (answers to staff and editor commands,
        desk notes): queued in the transaction that marks their update done, so a crash
        neither loses them nor sends them twice. Without an outbox they are sent at once."""
        now = self._clock.now()
        if self._delivery is not None:
            await self._storage.outbox.enqueue(items, now, receipt=receipt)
            self._delivery.wake()
            return
        for item in items:
            if item.notice is not None:
                await self._desk.post(item.notice)
            elif item.key is not None and item.reply is not None:
                await self._outbox.send(item.key, item.reply)
        if receipt is not None:
            await self._storage.inbox.done(receipt, now)

    async def unprocessed(self, key: ConversationKey, receipt: int) -> None:
        """A citizen's message the inbox gave up on (its handling kept failing, or killed the
        process each time): tell the citizen it was not handled, in the transaction that marks
        it done, instead of dropping it silently. Nothing of the message itself is read."""
        reply = Reply(text=texts.UNPROCESSED, buttons=(HUMAN, MENU))
        await self.send_outside_turn([Outgoing(key=key, reply=reply)], receipt)

    async def queue(self) -> str:
        """The waiting list for staff: who, since when, claimed by whom."""
        now = self._clock.now()
        lines = []
        for index, handoff in enumerate(await self._storage.handoffs.queue(), start=1):
            conversation = await self._storage.conversations.find(handoff.conversation_id)
            if conversation is None:
                continue
            minutes = int((now - handoff.created_at).total_seconds() // 60)
            who = conversation.display_name or conversation.key.user_id
            state = (
                f"{handoff.claimed_by} đang xử lý" if handoff.status == "claimed" else "đang chờ"
            )
            lines.append(f"{index}. {who} ({conversation.key.channel}) – {state}, {minutes} phút")
        return "Hàng chờ:\n" + "\n".join(lines) if lines else "Không có ai đang chờ cán bộ."

    # --- time ----------------------------------------------------------------------------

    async def tick(self) -> int:
        """Send due reminders to the desk; returns how many were sent."""
        library = self._library()
        hours = OfficeHours(library.kb.office)
        now = self._clock.now()
        sent = 0
        for handoff in await self.handoffs.due_reminders(hours, now):
            conversation = await self._storage.conversations.find(handoff.conversation_id)
            if conversation is None:
                continue
            async with self._locks.hold(conversation.key):
                current = await self._storage.handoffs.current(conversation.id)
                fresh = await self._storage.conversations.find(conversation.id)
                if (
                    fresh is None
                    or current is None
                    or current.id != handoff.id
                    or current.reminded_at is not None
                ):
                    continue
                opening = not hours.is_open(current.created_at)
                turn = Turn(fresh, now, clean=_clean_texts(self._library()))
                self.handoffs.remind(turn, current, opening)
                await self._commit(turn, None, citizen=False)
                sent += 1
        return sent
