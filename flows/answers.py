"""Answers about one guide: the card, its sections, the walkthrough, checklist and fee calculator.

Button data are self-contained ("s:khai-sinh:p:2" = birth registration, in person, step 3), so a
button from an old message or from before a restart still does the right thing.
"""

from __future__ import annotations

from flows import render, texts
from flows.aspects import Aspect
from flows.feecalc import calculable_fee, money, needs_pages, quote
from flows.menu import HUMAN, MENU, card_buttons, section_buttons
from flows.models import Button
from flows.turn import CARD_CHARS, Turn
from knowledge.library import Library
from knowledge.schema import Guide

MAX_COUNT = 500


def show_card(turn: Turn, library: Library, guide: Guide) -> None:
    turn.reset_flow()
    turn.state.guide_id = guide.id
    turn.state.misses = 0
    # The whole message (title, card, question) fits render.CARD_BUDGET characters.
    budget = render.CARD_BUDGET - len(guide.title) - len(texts.HELPFUL) - 3
    body = render.card(guide, library, budget) + "\n\n" + texts.HELPFUL
    turn.say_paged(body, card_buttons(guide), title=guide.title, limit=CARD_CHARS)
    turn.log("answer", guide=guide.id)


def show_aspect(turn: Turn, library: Library, guide: Guide, aspect: Aspect) -> None:
    """Answer a follow-up ("mất bao lâu") about the guide in context."""
    turn.state.guide_id = guide.id
    turn.state.misses = 0
    turn.log("answer", guide=guide.id, aspect=aspect)
    if aspect == "steps":
        start_steps(turn, library, guide)
    elif aspect == "docs":
        show_documents(turn, library, guide)
    elif aspect == "fee":
        show_fees(turn, library, guide)
    elif aspect == "online":
        show_online(turn, library, guide)
    elif aspect == "faq":
        show_faq(turn, guide)
    elif aspect == "time":
        turn.reset_flow()
        turn.say(render.processing_time(guide, library), section_buttons(guide))
    else:
        turn.reset_flow()
        turn.say(render.where(guide, library), section_buttons(guide))


# --- sections ------------------------------------------------------------------------------


def show_documents(turn: Turn, library: Library, guide: Guide) -> None:
    turn.reset_flow()
    buttons = section_buttons(guide)
    if guide.documents:
        buttons.insert(0, Button(label="Đánh dấu giấy tờ đã có", data=f"ck:{guide.id}"))
    turn.say_paged(render.documents(guide, library), buttons)


def show_fees(turn: Turn, library: Library, guide: Guide) -> None:
    turn.reset_flow()
    buttons = section_buttons(guide)
    if calculable_fee(guide, library.day) is not None:
        buttons.insert(0, Button(label=texts.B_CALC, data=f"fc:{guide.id}"))
    turn.say_paged(render.fees(guide, library), buttons)


def show_online(turn: Turn, library: Library, guide: Guide) -> None:
    turn.reset_flow()
    turn.say_paged(render.online(guide, library), section_buttons(guide))


def show_faq(turn: Turn, guide: Guide) -> None:
    turn.reset_flow()
    if not guide.faq:
        turn.say(texts.NO_FAQ, section_buttons(guide))
        return
    # Full questions, unnumbered: a channel that lists them numbers them once.
    buttons = [Button(label=item.q, data=f"qa:{guide.id}:{i}") for i, item in enumerate(guide.faq)]
    turn.say(texts.FAQ_INTRO.format(title=guide.title), [*buttons, *section_buttons(guide)])


def show_faq_answer(turn: Turn, library: Library, guide: Guide, index: int) -> bool:
    if not 0 <= index < len(guide.faq):
        return False
    turn.reset_flow()
    buttons = [Button(label=texts.B_FAQ, data=f"q:{guide.id}"), *section_buttons(guide)]
    turn.say_paged(render.faq_answer(guide, library, index), buttons)
    return True


# --- walkthrough ---------------------------------------------------------------------------


def start_steps(turn: Turn, library: Library, guide: Guide) -> None:
    if guide.steps.in_person and guide.steps.online:
        turn.reset_flow()
        turn.say(
            texts.STEPS_CHOOSE,
            [
                Button(label=texts.B_IN_PERSON, data=f"s:{guide.id}:p:0"),
                Button(label=texts.B_ONLINE, data=f"s:{guide.id}:o:0"),
                *section_buttons(guide),
            ],
        )
        return
    show_step(turn, library, guide, online=not guide.steps.in_person, index=0)


def show_step(turn: Turn, library: Library, guide: Guide, online: bool, index: int) -> bool:
    steps = guide.steps.online if online else guide.steps.in_person
    if not 0 <= index < len(steps):
        return False
    turn.reset_flow()
    turn.state.flow = "walk"
    turn.state.guide_id = guide.id
    turn.state.step = index
    mode = "o" if online else "p"
    turn.state.data = {"mode": mode}
    buttons = []
    if index + 1 < len(steps):
        buttons.append(Button(label=texts.B_NEXT, data=f"s:{guide.id}:{mode}:{index + 1}"))
    if index > 0:
        buttons.append(Button(label=texts.B_BACK, data=f"s:{guide.id}:{mode}:{index - 1}"))
    buttons += [Button(label=texts.B_DONE, data=f"sd:{guide.id}"), HUMAN]
    turn.say(render.step_text(guide, library, online, index), buttons)
    return True


def finish_steps(turn: Turn, guide: Guide) -> None:
    turn.reset_flow()
    turn.say(
        texts.STEPS_DONE + "\n" + texts.HELPFUL,
        [
            Button(label=texts.B_YES_HELPFUL, data=f"r+:{guide.id}"),
            Button(label=texts.B_NOT_HELPFUL, data=f"r-:{guide.id}"),
            Button(label=texts.B_CARD, data=f"g:{guide.id}"),
            MENU,
        ],
    )


# --- checklist -----------------------------------------------------------------------------


def show_checklist(
    turn: Turn, guide: Guide, have: set[int] | None = None, replace: bool = False
) -> None:
    if turn.state.flow != "check" or turn.state.guide_id != guide.id:
        turn.reset_flow()
        turn.state.flow = "check"
        turn.state.guide_id = guide.id
    if have is not None:
        turn.state.data["have"] = sorted(have)
    ticked = set(turn.state.data.get("have", []))
    buttons = [
        Button(label=f"{'☑' if i in ticked else '☐'} {doc.name}", data=f"ct:{guide.id}:{i}")
        for i, doc in enumerate(guide.documents)
    ]
    turn.say(
        texts.CHECKLIST,
        [*buttons, Button(label=texts.B_DONE, data=f"cd:{guide.id}")],
        replace=replace,
    )


def toggle_checklist(turn: Turn, guide: Guide, index: int) -> bool:
    if not 0 <= index < len(guide.documents):
        return False
    same = turn.state.flow == "check" and turn.state.guide_id == guide.id
    have = set(turn.state.data.get("have", [])) if same else set()
    have ^= {index}
    show_checklist(turn, guide, have, replace=same)
    return True


def finish_checklist(turn: Turn, library: Library, guide: Guide) -> None:
    same = turn.state.flow == "check" and turn.state.guide_id == guide.id
    have = set(turn.state.data.get("have", [])) if same else set()
    missing = [(i, d) for i, d in enumerate(guide.documents) if i not in have]
    required = [(i, d) for i, d in missing if not d.optional and d.case is None]
    conditional = [(i, d) for i, d in missing if d.optional or d.case is not None]
    turn.reset_flow()
    if required:
        lines = [texts.CHECKLIST_MISSING]
        lines += [render.document_line(i + 1, d, library) for i, d in required]
    else:
        lines = [texts.CHECKLIST_COMPLETE]
    if conditional:
        lines.append("\nMang thêm nếu thuộc trường hợp sau:")
        for i, doc in conditional:
            when = f" (nếu {doc.case[0].lower() + doc.case[1:]})" if doc.case else " (nếu có)"
            lines.append(f"{i + 1}. {doc.name}{when}")
    turn.say_paged("\n".join(lines), section_buttons(guide))
    turn.log("checklist", guide=guide.id, missing=[i for i, _ in required])


# --- fee calculator ------------------------------------------------------------------------


def start_fee_calc(turn: Turn, library: Library, guide: Guide) -> bool:
    fee = calculable_fee(guide, library.day)
    if fee is None:
        return False
    turn.reset_flow()
    turn.state.flow = "fee"
    turn.state.guide_id = guide.id
    stage = "pages" if needs_pages(fee) else "copies"
    turn.state.data = {"stage": stage}
    cancel = Button(label=texts.B_CANCEL, data="x")
    turn.say(texts.FEE_PAGES if stage == "pages" else texts.FEE_COPIES, [cancel, HUMAN])
    return True


def parse_count(text: str) -> int | None:
    digits = text.strip().rstrip(".").strip()
    for suffix in (" trang", " bản", " ban", " tờ", " to"):
        digits = digits.removesuffix(suffix)
    if not digits.isdigit():
        return None
    value = int(digits)
    return value if 1 <= value <= MAX_COUNT else None


def fee_calc_input(turn: Turn, library: Library, guide: Guide, text: str) -> None:
    fee = calculable_fee(guide, library.day)
    count = parse_count(text)
    cancel = Button(label=texts.B_CANCEL, data="x")
    if fee is None:
        turn.reset_flow()
        return
    if count is None:
        turn.say(texts.FEE_BAD_NUMBER.format(limit=MAX_COUNT), [cancel, HUMAN])
        return
    if turn.state.data.get("stage") == "pages":
        turn.state.data = {"stage": "copies", "pages": count}
        turn.say(texts.FEE_COPIES, [cancel, HUMAN])
        return
    pages = int(turn.state.data.get("pages", 1))
    result = quote(fee, pages=pages, copies=count)
    text_out = texts.FEE_RESULT.format(
        copies=count,
        per_copy=money(result.per_copy) + (f" ({pages} trang)" if fee.tiers else ""),
        total=money(result.total),
        rule=render.fee_rule(fee),
    )
    if result.capped:
        text_out += "\n" + texts.FEE_CAPPED
    turn.reset_flow()
    turn.say(text_out, [Button(label=texts.B_CALC, data=f"fc:{guide.id}"), *section_buttons(guide)])
    turn.log("fee_quote", guide=guide.id, pages=pages, copies=count, total=result.total)
