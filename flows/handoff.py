"""The handoff state machine: bot -> waiting -> with staff -> back to bot or closed.

While a citizen waits or talks with staff the bot stays quiet (their messages go to the desk),
except for the escapes /huy and /xoadulieu. Timestamps feed waiting-time figures in reports.

Every change is part of the caller's Turn: the handoff row, the conversation's mode, the desk
notices and the messages to the citizen commit together (a crash never leaves `waiting` with
`mode=bot`, or a topic nobody was told about), and are delivered from the outbox afterwards.
"""

from __future__ import annotations

import datetime as dt

from flows import texts
from flows.callbacks import RATING_STAFF, Act, button
from flows.hours import OfficeHours, describe_moment
from flows.menu import MENU
from flows.models import Button, ConversationKey, MediaKind, Reply, StaffNotice
from flows.ports import VN_TZ, Conversation, Handoff, Storage
from flows.turn import Turn
from knowledge.library import Library
from knowledge.placeholders import opening_hours

RECENT_LINES = 8


def staff_buttons(conversation_id: int) -> tuple[Button, ...]:
    return (
        button(texts.S_CLAIM, Act.CLAIM, number=conversation_id),
        button(texts.S_RETURN, Act.RETURN, number=conversation_id),
        button(texts.S_CLOSE, Act.CLOSE, number=conversation_id),
    )


def _clock(moment: dt.datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def _one_line(text: str, limit: int = 160) -> str:
    flat = " / ".join(part.strip() for part in text.splitlines() if part.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def display_name(conversation: Conversation) -> str:
    return conversation.display_name or f"Người dân {conversation.key.user_id[-4:]}"


class Handoffs:
    def __init__(self, storage: Storage, reminder_minutes: int) -> None:
        self._storage = storage
        self._reminder = dt.timedelta(minutes=reminder_minutes)

    async def _position(self, handoff: Handoff) -> int:
        """Place in the waiting queue; a handoff not committed yet comes last."""
        queue = [h for h in await self._storage.open_handoffs() if h.status == "waiting"]
        ids = [h.id for h in queue]
        return ids.index(handoff.id) + 1 if handoff.id in ids else len(ids) + 1

    async def start(self, turn: Turn, library: Library, reason: str) -> None:
        """Queue the conversation for a person and tell the citizen what happens next."""
        conversation = turn.conversation
        existing = await self._storage.current_handoff(conversation.id)
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
            id=await self._storage.reserve_handoff_id(),
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
        recent = await self._storage.recent_transcript(conversation.id, RECENT_LINES)
        recent_lines = [*recent, *[t for t in turn.transcript if t.direction == "in"]][
            -RECENT_LINES:
        ]
        recent_text = "\n".join(
            f"{'👤' if line.direction == 'in' else '🤖' if line.direction == 'out' else '🧑‍💼'} "
            f"{_one_line(line.text)}"
            for line in recent_lines
        )
        turn.notify(
            StaffNotice(
                key=conversation.key,
                kind="handoff",
                at=turn.now,
                subject=guide.title if guide else None,
                reply=Reply(
                    text=texts.S_HANDOFF.format(
                        name=display_name(conversation),
                        channel=conversation.key.channel,
                        guide=guide.title if guide else "(chưa rõ)",
                        since=_clock(handoff.created_at),
                        recent=recent_text or "(không có)",
                    ),
                    buttons=staff_buttons(conversation.id),
                ),
            )
        )

    async def cancel(self, turn: Turn, notice: str = texts.S_CANCELLED) -> bool:
        handoff = await self._storage.current_handoff(turn.conversation.id)
        turn.state.mode = "bot"
        if handoff is None:
            return False
        handoff.status = "cancelled"
        handoff.ended_at = turn.now
        turn.save(handoff)
        turn.log("handoff_cancelled", handoff=handoff.id)
        self._post(turn, notice.format(name=turn.name))
        return True

    async def forward(
        self, turn: Turn, text: str, media: MediaKind | None = None, origin: str | None = None
    ) -> None:
        """A citizen message during a handoff goes to the desk, not to the bot."""
        if media is not None:
            caption = f": {text}" if text else ""
            body = texts.S_CITIZEN_MEDIA.format(
                name=turn.name, media=texts.MEDIA_NAMES.get(media, "tệp"), caption=caption
            )
        else:
            body = texts.S_CITIZEN.format(name=turn.name, text=text)
        turn.notify(
            StaffNotice(
                key=turn.key,
                kind="citizen",
                reply=Reply(text=body),
                media=media,
                origin=origin,
                at=turn.now,
            )
        )

    def _post(self, turn: Turn, text: str) -> None:
        turn.notify(StaffNotice(key=turn.key, reply=Reply(text=text), kind="info", at=turn.now))

    # --- staff side: called by the engine under the conversation's lock ----------------------

    def claim(self, turn: Turn, handoff: Handoff, staff: str) -> None:
        handoff.status = "claimed"
        handoff.claimed_by = staff
        handoff.claimed_at = turn.now
        turn.save(handoff)
        turn.state.mode = "staff"
        self._post(turn, texts.S_CLAIMED.format(staff=staff))
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
            self._post(turn, texts.S_CLOSED.format(staff=staff))
        else:
            reply = Reply(text=texts.HANDOFF_RETURNED, buttons=(MENU,))
            self._post(turn, texts.S_RETURNED.format(staff=staff))
        turn.state.buttons = list(reply.buttons)
        turn.send(reply)

    async def due_reminders(self, hours: OfficeHours, now: dt.datetime) -> list[Handoff]:
        """Waiting handoffs to remind once: after N minutes if asked in working hours, else at
        the next opening."""
        if not hours.is_open(now):
            return []
        due = []
        for handoff in await self._storage.open_handoffs():
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
        minutes = int((turn.now - handoff.created_at).total_seconds() // 60)
        template = texts.S_REMIND_OPENING if opening else texts.S_REMIND
        text = template.format(
            name=display_name(turn.conversation),
            since=_clock(handoff.created_at),
            minutes=minutes,
        )
        turn.notify(
            StaffNotice(
                key=turn.key,
                kind="reminder",
                at=turn.now,
                reply=Reply(text=text, buttons=staff_buttons(turn.conversation.id)),
            )
        )
        handoff.reminded_at = turn.now
        turn.save(handoff)


def undelivered_notice(
    key: ConversationKey, name: str, text: str, why: str, now: dt.datetime
) -> StaffNotice:
    """What staff are told when a message to a citizen cannot be delivered: the text and why."""
    reason = f"«{_one_line(text, 150)}»" + (f" ({why[:120]})" if why else "")
    return StaffNotice(
        key=key,
        kind="undelivered",
        at=now,
        reply=Reply(text=texts.S_UNDELIVERED.format(name=name, reason=reason)),
    )
