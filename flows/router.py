"""Decide what a citizen's command, button or free text means, and run the matching flow."""

from __future__ import annotations

from flows import answers, texts
from flows.aspects import detect, without_cues
from flows.feedback import Feedback
from flows.handoff import Handoffs
from flows.masking import mask_personal
from flows.menu import HUMAN, MENU, main_menu_buttons, show_field, show_menu, show_welcome
from flows.models import Button, Reply, StaffNotice
from flows.ports import StaffDesk, Storage
from flows.turn import Turn
from knowledge.library import Library
from knowledge.normalize import fold

_GREETINGS = {"xin chao", "chao", "chao ban", "hello", "hi", "alo", "chao bot", "chao ad", "hey"}
_THANKS = {"cam on", "cam on ban", "cam on nhieu", "thanks", "thank you", "tks", "ok cam on"}
CLARIFY_OPTIONS = 4


class Router:
    def __init__(
        self, handoffs: Handoffs, feedback: Feedback, storage: Storage, desk: StaffDesk
    ) -> None:
        self._handoffs = handoffs
        self._feedback = feedback
        self._storage = storage
        self._desk = desk

    # --- commands ------------------------------------------------------------------------

    async def command(self, turn: Turn, library: Library, text: str) -> None:
        word, _, arg = text.partition(" ")
        name = word[1:].split("@", 1)[0].lower()
        arg = arg.strip()
        if name == "start":
            guide = library.guide(arg) if arg else None
            if turn.state.mode != "bot":
                await self._handoffs.start(turn, library, "start")
            elif guide is not None:
                answers.show_card(turn, library, guide)
            elif not (arg and show_field(turn, library, arg)):
                show_welcome(turn, library)
        elif name in ("menu", "help", "trogiup"):
            if turn.state.mode != "bot":
                await self._handoffs.start(turn, library, "menu")
            else:
                show_menu(turn, library)
        elif name == "huy":
            await self.press(turn, library, "x")
        elif name == "canbo":
            await self._handoffs.start(turn, library, "command")
        elif name == "xoadulieu":
            self._ask_delete(turn)
        else:
            if turn.state.mode != "bot":
                await self._handoffs.forward(turn, text)
                return
            turn.say(texts.UNKNOWN_COMMAND, [MENU, HUMAN])

    # --- buttons -------------------------------------------------------------------------

    async def press(self, turn: Turn, library: Library, data: str) -> None:
        state = turn.state
        if data == "x":
            await self._cancel(turn, library)
        elif data in ("del", "del:y", "del:n"):
            await self._delete(turn, library, data)
        elif state.mode != "bot":
            label = next((b.label for b in state.buttons if b.data == data), data)
            await self._handoffs.forward(turn, f"[bấm nút] {label}")
        elif data == "menu":
            show_menu(turn, library)
        elif data == "h":
            await self._handoffs.start(turn, library, "button")
        elif data == "more":
            if not turn.more():
                self._stale(turn, library)
        elif data == "nf":
            turn.log("clarify_rejected", query=state.data.get("query", ""))
            self._fallback(turn, library, state.data.get("query", ""))
        elif data == "priv":
            turn.reset_flow()
            turn.say(texts.PRIVACY, [Button(label="Xóa dữ liệu của tôi", data="del"), MENU])
        elif data == "fb":
            self._feedback.start(turn)
        elif data.startswith("fb:"):
            if not await self._feedback.on_button(turn, data):
                self._stale(turn, library)
        elif data == "skip" and state.flow == "reason":
            turn.reset_flow()
            turn.say(texts.THANKS_HELPFUL, [MENU, HUMAN])
        elif data.startswith("f:"):
            if not show_field(turn, library, data[2:]):
                self._stale(turn, library)
        elif data.startswith(("r+:", "r-:")):
            await self._rate(turn, library, data)
        elif not self._guide_press(turn, library, data):
            self._stale(turn, library)

    def _guide_press(self, turn: Turn, library: Library, data: str) -> bool:
        kind, _, rest = data.partition(":")
        gid, _, tail = rest.partition(":")
        guide = library.guide(gid)
        if guide is None:
            return False
        if kind == "g":
            answers.show_card(turn, library, guide)
        elif kind == "st":
            answers.start_steps(turn, library, guide)
        elif kind == "s":
            mode, _, index = tail.partition(":")
            return index.isdigit() and answers.show_step(
                turn, library, guide, mode == "o", int(index)
            )
        elif kind == "sd":
            answers.finish_steps(turn, guide)
        elif kind == "d":
            answers.show_documents(turn, library, guide)
        elif kind == "ck":
            answers.show_checklist(turn, guide, set())
        elif kind == "ct":
            return tail.isdigit() and answers.toggle_checklist(turn, guide, int(tail))
        elif kind == "cd":
            answers.finish_checklist(turn, library, guide)
        elif kind == "fee":
            answers.show_fees(turn, library, guide)
        elif kind == "fc":
            return answers.start_fee_calc(turn, library, guide)
        elif kind == "on":
            answers.show_online(turn, library, guide)
        elif kind == "q":
            answers.show_faq(turn, guide)
        elif kind == "qa":
            return tail.isdigit() and answers.show_faq_answer(turn, library, guide, int(tail))
        else:
            return False
        return True

    def _stale(self, turn: Turn, library: Library) -> None:
        turn.log("stale_button")
        show_menu(turn, library, texts.STALE)

    async def _cancel(self, turn: Turn, library: Library) -> None:
        if turn.state.mode != "bot":
            await self._handoffs.cancel(turn)
            turn.reset_flow()
            turn.say(texts.HANDOFF_CANCELLED, [MENU])
        elif turn.state.flow is not None:
            turn.reset_flow()
            turn.say(texts.CANCELLED, main_menu_buttons(library))
        else:
            turn.say(texts.NOTHING_TO_CANCEL, main_menu_buttons(library))

    def _ask_delete(self, turn: Turn) -> None:
        turn.state.flow = "delete"
        turn.state.data = {}
        turn.say(
            texts.DELETE_CONFIRM,
            [
                Button(label=texts.B_DELETE_YES, data="del:y"),
                Button(label=texts.B_DELETE_NO, data="del:n"),
            ],
        )

    async def _delete(self, turn: Turn, library: Library, data: str) -> None:
        if data == "del":
            self._ask_delete(turn)
            return
        if turn.state.flow != "delete":
            self._stale(turn, library)
            return
        if data == "del:n":
            turn.state.flow = None
            turn.say(texts.DELETE_KEPT, [MENU])
            return
        if turn.state.mode != "bot":
            await self._handoffs.cancel(turn, texts.S_DELETED)
        await self._storage.delete_conversation(turn.conversation.id)
        turn.deleted = True
        turn.say(texts.DELETED, [MENU])

    async def _rate(self, turn: Turn, library: Library, data: str) -> None:
        helpful = data.startswith("r+")
        target = data[3:]
        guide_id = None if target == "staff" else target
        if guide_id is not None and library.guide(guide_id) is None:
            self._stale(turn, library)
            return
        rating = await self._storage.add_rating(turn.conversation.id, guide_id, helpful, turn.now)
        turn.log("rating", guide=guide_id, helpful=helpful, staff=target == "staff")
        turn.reset_flow()
        if helpful:
            turn.say(texts.THANKS_HELPFUL, [MENU])
            return
        turn.state.flow = "reason"
        turn.state.data = {"rating": rating.id, "guide": guide_id}
        turn.say(texts.ASK_REASON, [HUMAN, Button(label=texts.B_SKIP, data="skip")])

    # --- free text -----------------------------------------------------------------------

    async def text(self, turn: Turn, library: Library, text: str) -> None:
        state = turn.state
        flow_guide = library.guide(state.guide_id) if state.guide_id else None
        if state.flow == "fee" and flow_guide is not None:
            answers.fee_calc_input(turn, library, flow_guide, text)
            return
        if state.flow == "feedback":
            await self._feedback.on_text(turn, text)
            return
        if state.flow == "reason":
            await self._reason(turn, text)
            return
        folded = fold(text)
        if folded in _GREETINGS:
            show_welcome(turn, library)
            return
        if folded in _THANKS:
            turn.say("Dạ, không có gì ạ! Bạn cần hỏi gì thêm cứ gõ nhé.", [MENU, HUMAN])
            return
        aspect = detect(text)
        result = library.match(text)
        if aspect is not None and result.intent != "guide":
            # "khai sinh mất bao lâu": the aspect words are shared by every guide; match the rest.
            core = library.match(without_cues(text))
            if core.intent == "guide":
                result = core
        best = result.best
        turn.log(
            "question",
            text=_masked(text),
            intent=result.intent,
            guide=best.id if best else None,
            score=best.score if best else 0.0,
        )
        if result.intent == "handoff":
            await self._handoffs.start(turn, library, "text")
            return
        if result.intent == "guide" and best is not None:
            guide = library.guide(best.id)
            assert guide is not None
            if aspect is not None and aspect != "steps":
                answers.show_aspect(turn, library, guide, aspect)
            else:
                answers.show_card(turn, library, guide)
            return
        if aspect is not None and flow_guide is not None:
            answers.show_aspect(turn, library, flow_guide, aspect)
            return
        if result.intent == "clarify":
            options = [m for m in result.matches[:CLARIFY_OPTIONS]]
            turn.reset_flow()
            state.flow = "clarify"
            state.data = {"query": _masked(text)}
            buttons = [Button(label=m.title, data=f"g:{m.id}") for m in options]
            turn.say(
                texts.CLARIFY,
                [*buttons, Button(label=texts.NOT_THESE, data="nf"), HUMAN],
            )
            turn.log("clarify", options=[m.id for m in options], query=_masked(text))
            return
        self._fallback(turn, library, _masked(text))

    def _fallback(self, turn: Turn, library: Library, query: str) -> None:
        """Two stages: first a hint to rephrase, then the menu and a person."""
        state = turn.state
        state.misses += 1
        stage = 1 if state.misses == 1 else 2
        turn.reset_flow()
        turn.log("fallback", query=query, stage=stage)
        if stage == 1:
            turn.say(texts.FALLBACK_FIRST, [MENU, HUMAN])
        else:
            turn.say(texts.FALLBACK_SECOND, main_menu_buttons(library))

    async def _reason(self, turn: Turn, text: str) -> None:
        data = turn.state.data
        rating_id = data.get("rating")
        if isinstance(rating_id, int):
            await self._storage.set_rating_reason(rating_id, _masked(text)[:500])
        guide = data.get("guide") or "hỗ trợ của cán bộ"
        turn.reset_flow()
        turn.log("rating_reason", guide=data.get("guide"), reason=_masked(text)[:500])
        turn.say(texts.THANKS_REASON, [MENU, HUMAN])
        turn.notify(
            StaffNotice(
                key=turn.key,
                kind="info",
                at=turn.now,
                reply=Reply(
                    text=texts.S_RATING_BAD.format(
                        name=turn.name, guide=guide, reason=_masked(text)[:500]
                    )
                ),
            )
        )


def _masked(text: str) -> str:
    """What we keep of a citizen's question in events: masked and short."""
    return mask_personal(text)[:300]
