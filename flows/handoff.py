"""The handoff state machine: bot -> waiting -> with staff -> back to bot or closed.

While a citizen waits or talks with staff the bot stays quiet (their messages go to the desk),
except for the escapes /huy and /xoadulieu. Timestamps feed waiting-time figures in reports.

Every change is part of the caller's Turn: the handoff row, the conversation's mode, the desk
notices and the messages to the citizen commit together (a crash never leaves `waiting` with
`mode=bot`, or a topic nobody was told about), and are delivered from the outbox afterwards.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flows import texts
from flows.callbacks import RATING_STAFF, Act, button
from flows.hours import OfficeHours, describe_moment
from flows.menu import MENU
from flows.models import (
    ConversationKey,
    GuideRef,
    HandoffRef,
    MediaKind,
    NoticeEvent,
    NoticeKind,
    RecentMessage,
    Reply,
    StaffNotice,
)
from flows.notices import citizen_ref, one_line
from flows.notices import staff_buttons as staff_buttons
from flows.ports import VN_TZ, Conversation, Handoff, Storage
from flows.turn import Turn
from knowledge.library import Library
from knowledge.placeholders import opening_hours
from knowledge.schema import Guide

RECENT_LINES = 8


def display_name(conversation: Conversation) -> str:
    return conversation.display_name or f"Người dân {conversation.key.user_id[-4:]}"


def notice(
    turn: Turn,
    event: NoticeEvent,
    handoff: Handoff | None,
    kind: NoticeKind = "info",
    **facts: Any,
) -> StaffNotice:
    """A notice about this conversation's handoff, with the facts every desk needs."""
    conversation = turn.conversation
    state = None
    if handoff is not None:
        state = HandoffRef(
            id=handoff.id,
            status=handoff.status,
            claimed_by=handoff.claimed_by,
            waiting_since=handoff.created_at,
        )
    return StaffNotice(
        key=conversation.key,
        kind=kind,
        at=turn.now,
        event=event,
        conversation_id=conversation.id,
        citizen=citizen_ref(conversation.key, conversation.display_name),
        handoff=state,
        **facts,
    )


class Handoffs:
    def __init__(self, storage: Storage, reminder_minutes: int) -> None:
        self._storage = storage
        self._reminder = dt.timedelta(minutes=reminder_minutes)

    async def _position(self, handoff: Handoff) -> int:
        """Place in the waiting queue; a handoff not committed yet comes last."""
        queue = [h for h in await self._storage.handoffs.queue() if h.status == "waiting"]
        ids = [h.id for h in queue]
        return ids.index(handoff.id) + 1 if handoff.id in ids else len(ids) + 1

    async def start(self, turn: Turn, library: Library, reason: str) -> None:
        """Queue the conversation for a person and tell the citizen what happens next."""
        conversation = turn.conversation
        existing = await self._storage.handoffs.current(conversation.id)
        cancel = button(texts.B_CANCEL_HANDOFF, Act.CANCEL)
        if existing is not None:
            if existing.status == "claimed":
                turn.say(texts.HANDOFF_WITH_STAFF.format(staff=existing.claimed_by or ""), [cancel])
            else:
                position = await self._position(existing)
                turn.say(texts.HANDOFF_ALREADY.format(position=position), [cancel])
            return
        guide_id = turn.state.guide_id
        turn.reset_flow()
        handoff = Handoff(
            id=await self._storage.handoffs.reserve_id(),
            conversation_id=conversation.id,
            status="waiting",
            guide_id=guide_id,
            reason=reason,
            created_at=turn.now,
        )
        turn.save(handoff)
        turn.state.mode = "waiting"
        position = await self._position(handoff)
        hours = OfficeHours(library.kb.office)
        lines = [texts.HANDOFF_QUEUED.format(position=position)]
        if hours.is_open(turn.now):
            lines.append(texts.HANDOFF_OPEN)
        else:
            opening = hours.next_opening(turn.now)
            when = describe_moment(opening, turn.now) if opening else "ngày làm việc tiếp theo"
            holiday = hours.holiday(turn.now.astimezone(VN_TZ).date())
            if holiday:
                lines.append(texts.HOLIDAY_TODAY.format(name=holiday))
            lines.append(
                texts.HANDOFF_CLOSED_NOW.format(hours=opening_hours(library.kb.office), when=when)
            )
        turn.say("\n".join(lines), [cancel])
        turn.log(
            "handoff",
            guide=guide_id,
            reason=reason,
            handoff=handoff.id,
            open=hours.is_open(turn.now),
        )
        guide = library.guide(guide_id) if guide_id else None
        recent = await self._storage.conversations.transcript(conversation.id, RECENT_LINES)
        recent_lines = [*recent, *[t for t in turn.transcript if t.direction == "in"]][
            -RECENT_LINES:
        ]
        turn.notify(
            notice(
                turn,
                "queued",
                handoff,
                kind="handoff",
                subject=guide.title if guide else None,
                guide=GuideRef(id=guide.id, title=guide.title) if guide else None,
                recent=tuple(
                    RecentMessage(direction=line.direction, text=line.text, at=line.at)
                    for line in recent_lines
                ),
            )
        )

    async def cancel(self, turn: Turn, deleted: bool = False) -> bool:
        handoff = await self._storage.handoffs.current(turn.conversation.id)
        turn.state.mode = "bot"
        if handoff is None:
            return False
        handoff.status = "cancelled"
        handoff.ended_at = turn.now
        turn.save(handoff)
        turn.log("handoff_cancelled", handoff=handoff.id)
        turn.notify(notice(turn, "deleted" if deleted else "cancelled", handoff))
        return True

    async def forward(
        self,
        turn: Turn,
        text: str,
        media: MediaKind | None = None,
        origin: str | None = None,
        answered: Guide | None = None,
    ) -> None:
        """A citizen message during a handoff goes to the desk; `answered`: the guide the bot
        answered it with meanwhile (Router.while_waiting), so staff know what was said."""
        guide = GuideRef(id=answered.id, title=answered.title) if answered else None
        turn.notify(
            notice(
                turn,
                "message",
                None,
                kind="citizen",
                media=media,
                origin=origin,
                text=text,
                guide=guide,
            )
        )

    # --- staff side: called by the engine under the conversation's lock ----------------------

    def claim(self, turn: Turn, handoff: Handoff, staff: str) -> None:
        handoff.status = "claimed"
        handoff.claimed_by = staff
        handoff.claimed_at = turn.now
        turn.save(handoff)
        turn.state.mode = "staff"
        turn.notify(notice(turn, "claimed", handoff, staff=staff))
        turn.send(Reply(text=texts.HANDOFF_CLAIMED.format(staff=staff)))

    def staff_message(
        self, turn: Turn, handoff: Handoff, staff: str, text: str, center: str, deliver: bool = True
    ) -> None:
        if handoff.status == "waiting":
            handoff.status = "claimed"
            handoff.claimed_by = staff
            handoff.claimed_at = turn.now
            turn.state.mode = "staff"
        if handoff.first_response_at is None:
            handoff.first_response_at = turn.now
        turn.save(handoff)
        if deliver:
            signed = texts.STAFF_SIGNATURE.format(text=text, staff=staff, center=center)
            turn.send(Reply(text=signed))

    def end(self, turn: Turn, handoff: Handoff, staff: str, close: bool) -> None:
        handoff.status = "closed" if close else "returned"
        handoff.ended_at = turn.now
        turn.save(handoff)
        turn.state.mode = "bot"
        turn.state.flow = None
        if close:
            reply = Reply(
                text=texts.HANDOFF_CLOSED,
                buttons=(
                    button(texts.B_YES_HELPFUL, Act.HELPFUL, RATING_STAFF),
                    button(texts.B_NOT_HELPFUL, Act.UNHELPFUL, RATING_STAFF),
                    MENU,
                ),
            )
            turn.notify(notice(turn, "closed", handoff, staff=staff))
        else:
            reply = Reply(text=texts.HANDOFF_RETURNED, buttons=(MENU,))
            turn.notify(notice(turn, "returned", handoff, staff=staff))
        turn.state.buttons = list(reply.buttons)
        turn.send(reply)

    def transfer(self, turn: Turn, handoff: Handoff, staff: str, colleague: str) -> None:
        """`staff` hands the conversation to `colleague`, who holds it from now on."""
        handoff.status = "claimed"
        handoff.claimed_by = colleague
        handoff.claimed_at = handoff.claimed_at or turn.now
        turn.save(handoff)
        turn.state.mode = "staff"
        turn.notify(notice(turn, "transferred", handoff, staff=staff, other=colleague))
        turn.send(Reply(text=texts.HANDOFF_TRANSFERRED.format(staff=colleague)))

    def note(self, turn: Turn, handoff: Handoff, staff: str, text: str) -> None:
        """An internal note: every desk sees it, the citizen never does."""
        turn.notify(notice(turn, "note", handoff, staff=staff, text=text))

    async def due_reminders(self, hours: OfficeHours, now: dt.datetime) -> list[Handoff]:
        """Waiting handoffs to remind once: after N minutes if asked in working hours, else at
        the next opening."""
        if not hours.is_open(now):
            return []
        due = []
        for handoff in await self._storage.handoffs.queue():
            if handoff.status != "waiting" or handoff.reminded_at is not None:
                continue
            if hours.is_open(handoff.created_at):
                moment = handoff.created_at + self._reminder
            else:
                moment = hours.next_opening(handoff.created_at) or handoff.created_at
            if now >= moment:
                due.append(handoff)
        return due

    def remind(self, turn: Turn, handoff: Handoff, opening: bool) -> None:
        event: NoticeEvent = "remind_opening" if opening else "remind"
        turn.notify(notice(turn, event, handoff, kind="reminder"))
        handoff.reminded_at = turn.now
        turn.save(handoff)


def undelivered_notice(
    key: ConversationKey, name: str, text: str, why: str, now: dt.datetime
) -> StaffNotice:
    """What staff are told when a message to a citizen cannot be delivered: the text and why."""
    reason = f"«{one_line(text, 150)}»" + (f" ({why[:120]})" if why else "")
    return StaffNotice(
        key=key,
        kind="undelivered",
        at=now,
        reply=Reply(text=texts.S_UNDELIVERED.format(name=name, reason=reason)),
    )
