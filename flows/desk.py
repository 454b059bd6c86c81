"""Desk operations, one service for every desk (the Telegram group today, a web inbox next).

Each operation is a staff turn of the engine: it runs under the conversation's lock, changes the
stored handoff and commits the notices with it. A claim, reply or close made at one desk is seen
by the others through the stored handoff and through the notice every desk receives (see
bot.channels.fanout), so two desks never disagree about who holds a citizen.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.callbacks import STAFF_ACTS, Act, Callback
from flows.engine import Engine, StaffAction
from flows.ports import Storage

_ACTIONS: dict[Act, StaffAction] = {Act.CLAIM: "claim", Act.RETURN: "return", Act.CLOSE: "close"}
assert set(_ACTIONS) == set(STAFF_ACTS)


@dataclass(frozen=True)
class ClaimResult:
    """`held_by`: the colleague who held the conversation (warned, or taken over from)."""

    ok: bool
    held_by: str | None = None


class DeskService:
    def __init__(self, engine: Engine, storage: Storage) -> None:
        self._engine = engine
        self._storage = storage

    async def claim(
        self, staff: str, conversation_id: int, take_over: bool = True, receipt: int | None = None
    ) -> ClaimResult:
        """Take a conversation. If a colleague holds it, `take_over=False` only reports who
        (a web inbox asks first); `take_over=True` takes it and both are told (Telegram)."""
        handoff = await self._storage.handoffs.current(conversation_id)
        held_by = None
        if handoff is not None and handoff.status == "claimed" and handoff.claimed_by != staff:
            held_by = handoff.claimed_by
        if held_by is not None and not take_over:
            return ClaimResult(ok=False, held_by=held_by)
        ok = await self._engine.staff_action(staff, conversation_id, "claim", receipt=receipt)
        return ClaimResult(ok=ok, held_by=held_by)

    async def reply(
        self,
        staff: str,
        conversation_id: int,
        text: str,
        deliver: bool = True,
        receipt: int | None = None,
    ) -> bool:
        """Answer the citizen (claims a waiting conversation on the way)."""
        return await self._engine.staff_reply(
            staff, conversation_id, text, deliver=deliver, receipt=receipt
        )

    async def send_file(self, staff: str, conversation_id: int, file_id: int, name: str) -> bool:
        """Send a stored file (the storage layer keeps the bytes); the transcript reads
        «📎 name». Claims a waiting conversation on the way, like a reply."""
        return await self._engine.staff_reply(
            staff, conversation_id, f"📎 {name}", attachment=file_id
        )

    async def hand_back(self, staff: str, conversation_id: int, receipt: int | None = None) -> bool:
        return await self._engine.staff_action(staff, conversation_id, "return", receipt=receipt)

    async def close(self, staff: str, conversation_id: int, receipt: int | None = None) -> bool:
        return await self._engine.staff_action(staff, conversation_id, "close", receipt=receipt)

    async def note(
        self, staff: str, conversation_id: int, text: str, receipt: int | None = None
    ) -> bool:
        """An internal note: every desk sees it, the citizen never does."""
        if not text.strip():
            return False
        return await self._engine.staff_note(staff, conversation_id, text, receipt=receipt)

    async def transfer(
        self, staff: str, conversation_id: int, colleague: str, receipt: int | None = None
    ) -> bool:
        colleague = colleague.strip()[:100]
        if not colleague:
            return False
        return await self._engine.staff_transfer(staff, conversation_id, colleague, receipt)

    async def press(self, staff: str, pressed: Callback, receipt: int | None = None) -> bool:
        """A desk button (claim, return, close). False for any other or unreadable button."""
        action = _ACTIONS.get(pressed.act)
        if action is None or pressed.number is None:
            return False
        if action == "claim":
            return (await self.claim(staff, pressed.number, receipt=receipt)).ok
        return await self._engine.staff_action(staff, pressed.number, action, receipt=receipt)
