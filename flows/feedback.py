"""Feedback on procedures (phản ánh, kiến nghị): content, optional contact with consent, a code.

Contact details are asked only after saying why, and only stored if the citizen agrees.
"""

from __future__ import annotations

import re

from flows import texts
from flows.callbacks import Act, Flow, button
from flows.masking import find_phone, mask_personal
from flows.menu import HUMAN, MENU
from flows.models import Reply, StaffNotice
from flows.ports import StaffDesk, Storage
from flows.turn import Turn
from knowledge.normalize import fold

MIN_CHARS = 10
MAX_CHARS = 3000
# "tôi muốn phản ánh", "em xin góp ý", "cho tôi kiến nghị": the wish to give feedback, said in
# words instead of pressing the menu button. What follows it, if long enough, is the content.
_WISH = re.compile(
    r"^(?:(?:toi|em|minh|chau|con|cho (?:toi|em|minh)|xin|ad|anh|chi|oi|a|\W)\s*)*"
    r"(?:muon|can|xin|dinh|can duoc|co y kien)?\s*"
    r"(?:phan anh|gop y|kien nghi|khieu nai|to cao|y kien)"
    r"(?:\s+(?:voi|len|ve|a|nhe|cho)\b)*\s*[:,.\-]?\s*(?P<rest>.*)$"
)
_NOT_A_WISH = ("the nao", "o dau", "nhu the nao", "ra sao", "the nao", "cach", "bao lau", "?")


def feedback_wish(text: str) -> str | None:
    """The feedback content already given with the wish ("" when only the wish), or None when
    the text is not a wish to give feedback (e.g. "phản ánh ở đâu?" is a question)."""
    folded = fold(text)
    match = _WISH.match(folded)
    if match is None or any(cue in folded for cue in _NOT_A_WISH):
        return None
    rest = match.group("rest").strip()
    # the whole message is the content: "tôi muốn khiếu nại về ..." reads well to staff
    return text.strip() if len(rest) >= MIN_CHARS else ""


class Feedback:
    def __init__(self, storage: Storage, desk: StaffDesk) -> None:
        self._storage = storage
        self._desk = desk

    def start(self, turn: Turn, content: str = "") -> None:
        """Ask for the content, or, when it came with the wish, go straight to consent."""
        turn.reset_flow()
        turn.state.flow = Flow.FEEDBACK
        turn.state.data = {"stage": "content"}
        if content:
            self._take_content(turn, content)
            return
        turn.say(texts.FEEDBACK_ASK, [button(texts.B_CANCEL, Act.CANCEL), HUMAN])

    def _take_content(self, turn: Turn, text: str) -> None:
        # contact details go in their own consented fields; the content is kept masked
        turn.state.data["content"] = mask_personal(text.strip())[:MAX_CHARS]
        turn.state.data["stage"] = "consent"
        turn.say(
            texts.FEEDBACK_CONSENT,
            [button(texts.B_YES, Act.FEEDBACK, "y"), button(texts.B_NO, Act.FEEDBACK, "n")],
        )

    async def on_text(self, turn: Turn, text: str) -> None:
        data = turn.state.data
        stage = data.get("stage")
        cancel = button(texts.B_CANCEL, Act.CANCEL)
        if stage == "content":
            if len(text.strip()) < MIN_CHARS:
                turn.say(texts.FEEDBACK_TOO_SHORT, [cancel])
                return
            self._take_content(turn, text)
        elif stage == "consent":
            turn.say(
                texts.FEEDBACK_CONSENT,
                [button(texts.B_YES, Act.FEEDBACK, "y"), button(texts.B_NO, Act.FEEDBACK, "n")],
            )
        elif stage == "name":
            data["name"] = text.strip()[:100]
            data["stage"] = "phone"
            turn.say(texts.FEEDBACK_PHONE, [button(texts.B_SKIP, Act.FEEDBACK, "skip")])
        elif stage == "phone":
            phone = find_phone(text)
            if phone is None:
                turn.say(texts.FEEDBACK_BAD_PHONE, [button(texts.B_SKIP, Act.FEEDBACK, "skip")])
                return
            await self._finish(turn, phone)

    async def on_button(self, turn: Turn, choice: str) -> bool:
        """A feedback button (y, n, skip). False when it does not belong to the current step."""
        stage = turn.state.data.get("stage") if turn.state.flow == Flow.FEEDBACK else None
        if choice == "y" and stage == "consent":
            turn.state.data["stage"] = "name"
            turn.say(texts.FEEDBACK_NAME, [button(texts.B_SKIP, Act.FEEDBACK, "skip")])
        elif choice == "n" and stage == "consent":
            await self._finish(turn, None, with_contact=False)
        elif choice == "skip" and stage in ("name", "phone"):
            await self._finish(turn, None)
        else:
            return False
        return True

    async def _finish(self, turn: Turn, phone: str | None, with_contact: bool = True) -> None:
        data = turn.state.data
        name = data.get("name") if with_contact else None
        item = await self._storage.feedback.add(
            turn.conversation.id, str(data.get("content", "")), turn.now, name=name, phone=phone
        )
        turn.reset_flow()
        turn.say(texts.FEEDBACK_DONE.format(ref=item.ref), [MENU, HUMAN])
        turn.log("feedback", ref=item.ref, contact=bool(name or phone))
        contact = ", ".join(x for x in (name, phone) if x) or "không để lại"
        turn.notify(
            StaffNotice(
                key=turn.key,
                kind="feedback",
                at=turn.now,
                reply=Reply(
                    text=texts.S_FEEDBACK.format(
                        ref=item.ref, content=item.content, contact=contact
                    )
                ),
            )
        )
