"""Answers about one guide: the card, its sections, the walkthrough, checklist and fee calculator.

Button data are self-contained ("s:khai-sinh:p:2" = birth registration, in person, step 3), so a
button from an old message or from before a restart still does the right thing.
"""

from __future__ import annotations

from flows import render, texts
from flows.aspects import LIGHT_WORDS, Aspect, exact, missing_paper
from flows.callbacks import Act, Flow, button
from flows.feecalc import calculable_fee, money, needs_pages, quote
from flows.menu import HUMAN, MENU, card_buttons, section_buttons
from flows.models import Button
from flows.turn import CARD_CHARS, Turn
from knowledge.library import Library
from knowledge.normalize import fold
from knowledge.schema import Guide

MAX_COUNT = 500


def named(guide: Guide, text: str) -> str:
    """Every answer about a part of a guide says which procedure it is about."""
    mark = f"«{guide.title}»"
    return text if mark in text else f"{mark} — {text[0].lower() + text[1:]}"


def show_card(turn: Turn, library: Library, guide: Guide) -> None:
    turn.about = (guide.id, None)
    turn.reset_flow()
    turn.state.guide_id = guide.id
    turn.state.misses = 0
    # The whole message (title, card, question) fits render.CARD_BUDGET characters.
    budget = render.CARD_BUDGET - len(guide.title) - len(texts.HELPFUL) - 3
    body = render.card(guide, library, budget) + "\n\n" + texts.HELPFUL
    buttons = render.per_guide(library, guide, "card_buttons", lambda: tuple(card_buttons(guide)))
    turn.say_paged(body, list(buttons), title=guide.title, limit=CARD_CHARS)
    turn.log("answer", guide=guide.id)


def show_aspect(turn: Turn, library: Library, guide: Guide, aspect: Aspect, text: str = "") -> None:
    """Answer a follow-up ("mất bao lâu") about the guide in context."""
    if aspect == "late" and not _late_lines(guide, library) and faq_for(guide, text) is not None:
        # the guide says nothing of deadlines or lateness, but its FAQ answers the question
        # ("quá hạn hẹn trả mà chưa có thì làm sao": the result is late, not the citizen)
        show_follow_up(turn, library, guide, text)
        return
    turn.about = (guide.id, aspect)
    turn.state.guide_id = guide.id
    turn.state.misses = 0
    turn.log("answer", guide=guide.id, aspect=aspect)
    _show_aspect(turn, library, guide, aspect, text)


def _show_aspect(turn: Turn, library: Library, guide: Guide, aspect: Aspect, text: str) -> None:
    if guide.id == CONTACT_GUIDE and _contact_line(turn, library, text):
        return
    if aspect == "steps":
        start_steps(turn, library, guide, name=True)
    elif aspect == "docs":
        index = _missing_faq(guide, text)
        if index is None:
            show_documents(turn, library, guide)
        else:  # "không có giấy chứng sinh thì sao": what its FAQ says to bring instead
            show_faq_answer(turn, library, guide, index, name=True)
    elif aspect == "fee":
        show_fees(turn, library, guide)
    elif aspect == "online":
        show_online(turn, library, guide)
    elif aspect == "faq":
        show_faq(turn, guide)
    elif aspect == "time":
        turn.reset_flow()
        turn.say(render.processing_time(guide, library), section_buttons(guide))
    elif aspect == "who":
        turn.reset_flow()
        turn.say_paged(_who(guide, library), section_buttons(guide))
    elif aspect == "late":
        turn.reset_flow()
        turn.say_paged(_late(guide, library), section_buttons(guide))
    elif aspect == "benefit":
        turn.reset_flow()
        turn.say_paged(_benefit(guide, library), section_buttons(guide))
    else:
        turn.reset_flow()
        turn.say(named(guide, render.where(guide, library)), section_buttons(guide))


CONTACT_GUIDE = "lien-he"
_HOURS_CUES = (
    "may gio",
    "gio lam",
    "gio nao",
    "thu 7",
    "thu bay",
    "chu nhat",
    "mo cua",
    "nghi trua",
)
_PHONE_CUES = ("so dien thoai", "sdt", "dien thoai", "hotline", "goi so", "so may", "so dt")
_ADDRESS_CUES = ("dia chi", "o dau", "cho nao", "duong nao")


def _contact_line(turn: Turn, library: Library, text: str) -> bool:
    """The one line asked for ("mấy giờ", "số điện thoại"), not the whole contact card."""
    padded = f" {fold(text)} "
    office = library.kb.office
    line = None
    if any(f" {cue} " in padded for cue in _HOURS_CUES):
        line = f"Giờ làm việc: {library.fill('{gio_lam_viec}')}."
    elif any(f" {cue} " in padded for cue in _PHONE_CUES):
        line = "Điện thoại: " + "; ".join(f"{p.label}: {p.number}" for p in office.phones) + "."
    elif any(f" {cue} " in padded for cue in _ADDRESS_CUES):
        line = f"Địa chỉ: {office.center_name}, {office.address}."
    if line is None:
        return False
    guide = library.guide(CONTACT_GUIDE)
    turn.reset_flow()
    turn.say(line, section_buttons(guide) if guide else [MENU, HUMAN])
    return True


def _faq_about(guide: Guide, library: Library, cues: tuple[str, ...]) -> list[str]:
    """FAQ items whose question has one of `cues`, compared with accents: the FAQ is written
    with them, and folded "muon" ("muộn", late) would pick "Muốn thay người giám hộ..."."""
    found = []
    wanted = [exact(cue) for cue in cues]
    for item in guide.faq:
        padded = exact(item.q)
        if any(cue in padded for cue in wanted):
            found.append(f"• {library.fill(item.q)}\n  {library.fill(item.a)}")
    return found


def _who(guide: Guide, library: Library) -> str:
    lines = [f"«{guide.title}» — người nộp: {library.fill(guide.who)}"]
    lines += _faq_about(guide, library, WHO_FAQ_CUES)
    return "\n".join(lines)


def _late_lines(guide: Guide, library: Library) -> list[str]:
    """What the guide says about filing late: its FAQ on it first (it answers "có bị phạt
    không" in the citizen's terms), then the deadline and its legal basis."""
    lines = _faq_about(guide, library, LATE_FAQ_CUES)
    if guide.deadline:
        lines.append(f"Thời hạn phải làm: {library.fill(guide.deadline.text)}")
        lines.append(f"Căn cứ: {'; '.join(guide.deadline.legal_basis)}")
    return lines


def _late(guide: Guide, library: Library) -> str:
    lines = _late_lines(guide, library)
    if not lines:
        return texts.LATE_UNKNOWN.format(title=guide.title)
    return "\n".join([f"«{guide.title}» — về việc làm muộn:", *lines])


def _missing_faq(guide: Guide, text: str) -> int | None:
    """The FAQ item about the paper the citizen lacks ("không có giấy chứng sinh thì sao" ->
    "Không có giấy chứng sinh thì làm sao?"): one that speaks of lacking a paper and shares
    the paper's own words (FAQ_WORDS of them, or all of a shorter name)."""
    paper = missing_paper(text)
    if paper is None:
        return None
    words = {w for w in paper.split() if w not in LIGHT_WORDS and w not in _PAPER_WORDS}
    if not words:
        return None  # "mất giấy tờ": no paper in particular
    for index, item in enumerate(guide.faq):
        padded = f" {fold(item.q)} "
        lacking = any(f" {cue} " in padded for cue in _LACKING)
        if lacking and len(words & set(padded.split())) >= min(FAQ_WORDS, len(words)):
            return index
    return None


_PAPER_WORDS = {"giay", "to", "ban", "chinh", "goc", "sao", "voi", "benh", "vien"}
_LACKING = ("khong co", "mat", "thieu", "chi con", "chi co", "bi mat", "lam mat")


def _benefit(guide: Guide, library: Library) -> str:
    """What the citizen receives. Never the processing fee: "miễn phí" is not an amount."""
    benefits = [b for b in guide.benefits if b.in_force(library.day)]
    if not benefits:
        return texts.BENEFIT_UNKNOWN.format(title=guide.title)
    lines = [f"«{guide.title}» — mức được hưởng:"]
    for item in benefits:
        line = f"• {library.fill(item.name)}"
        if item.amount is not None:
            line += f": {money(item.amount)}" + (f"/{item.per}" if item.per else "")
        if item.text:
            line += f"\n  {library.fill(item.text)}"
        if item.conditions:
            line += f"\n  Áp dụng: {library.fill(item.conditions)}"
        line += f"\n  Căn cứ: {'; '.join(item.legal_basis)}"
        lines.append(line)
    return "\n".join(lines)


WHO_FAQ_CUES = (
    "người khác",
    "ủy quyền",
    "nhờ người",
    "làm thay",
    "nộp thay",
    "đi thay",
    "làm hộ",
    "nộp hộ",
    "ai đi",
    "ai nộp",
    "ai làm",
    "có mặt",
    "vắng mặt",
)
LATE_FAQ_CUES = ("quá hạn", "trễ", "muộn", "phạt", "hết hạn", "chưa khai", "nhiều năm")


# --- sections ------------------------------------------------------------------------------


def show_documents(turn: Turn, library: Library, guide: Guide) -> None:
    turn.reset_flow()
    buttons = section_buttons(guide)
    if guide.documents:
        buttons.insert(0, button("Đánh dấu giấy tờ đã có", Act.CHECKLIST, guide.id))
    turn.say_paged(named(guide, render.documents(guide, library)), buttons)


def show_fees(turn: Turn, library: Library, guide: Guide) -> None:
    turn.reset_flow()
    buttons = section_buttons(guide)
    if calculable_fee(guide, library.day) is not None:
        buttons.insert(0, button(texts.B_CALC, Act.FEE_CALC, guide.id))
    turn.say_paged(render.fees(guide, library), buttons)


def show_online(turn: Turn, library: Library, guide: Guide) -> None:
    turn.reset_flow()
    turn.say_paged(named(guide, render.online(guide, library)), section_buttons(guide))


def show_faq(turn: Turn, guide: Guide, intro: str = texts.FAQ_INTRO) -> None:
    turn.reset_flow()
    if not guide.faq:
        turn.say(named(guide, texts.NO_FAQ), section_buttons(guide))
        return
    # Full questions, unnumbered: a channel that lists them numbers them once.
    buttons = [button(item.q, Act.FAQ_ANSWER, guide.id, i) for i, item in enumerate(guide.faq)]
    turn.say(intro.format(title=guide.title), [*buttons, *section_buttons(guide)])


FAQ_WORDS = 2  # content words a follow-up shares with a question of the guide's FAQ


def faq_for(guide: Guide, text: str) -> int | None:
    """The FAQ question a follow-up asks again in other words ("có cần xét nghiệm ADN không"
    -> "Có bắt buộc phải xét nghiệm ADN không?"): the one sharing the most content words, at
    least FAQ_WORDS of them (or all of a one-word question's) and more than half of its own.
    A message made only of the title's words ("khai sinh" again) asks for the card."""
    asked = {w for w in fold(text).split() if w not in LIGHT_WORDS}
    if not asked or asked <= set(fold(guide.title).split()):
        return None
    best, shared = None, 0
    for index, item in enumerate(guide.faq):
        common = len(asked & set(fold(item.q).split()))
        if common > shared:
            best, shared = index, common
    enough = shared >= min(FAQ_WORDS, len(asked)) and 2 * shared > len(asked)
    return best if enough else None


def asks_title_only(guide: Guide, text: str) -> bool:
    """The message is only the guide's name again ("khai sinh"): it asks for the card."""
    asked = {w for w in fold(text).split() if w not in LIGHT_WORDS}
    return asked <= set(fold(guide.title).split())


def show_follow_up(turn: Turn, library: Library, guide: Guide, text: str) -> None:
    """A follow-up about the guide without aspect words: the FAQ answer it asks for; for a
    question its FAQ does not answer, while the guide is already being discussed, the list of
    its FAQ (the card again would repeat what the citizen just read); otherwise the card."""
    index = faq_for(guide, text)
    if index is None:
        if turn.state.guide_id != guide.id or not guide.faq or asks_title_only(guide, text):
            show_card(turn, library, guide)
            return
        turn.about = (guide.id, "faq")
        turn.state.misses = 0
        turn.log("answer", guide=guide.id, aspect="faq")
        show_faq(turn, guide, texts.FAQ_NOT_ANSWERED)
        return
    turn.about = (guide.id, "faq")
    turn.state.misses = 0
    turn.log("answer", guide=guide.id, aspect="faq")
    show_faq_answer(turn, library, guide, index, name=True)


def show_faq_answer(
    turn: Turn, library: Library, guide: Guide, index: int, name: bool = False
) -> bool:
    """`name`: a typed follow-up's answer says which procedure it is about (a pressed question
    came from a list that did, and starts with the question pressed)."""
    if not 0 <= index < len(guide.faq):
        return False
    turn.reset_flow()
    buttons = [button(texts.B_FAQ, Act.FAQ, guide.id), *section_buttons(guide)]
    body = render.faq_answer(guide, library, index)
    turn.say_paged(named(guide, body) if name else body, buttons)
    return True


# --- walkthrough ---------------------------------------------------------------------------


def start_steps(turn: Turn, library: Library, guide: Guide, name: bool = False) -> None:
    if guide.steps.in_person and guide.steps.online:
        turn.reset_flow()
        turn.say(
            named(guide, texts.STEPS_CHOOSE) if name else texts.STEPS_CHOOSE,
            [
                button(texts.B_IN_PERSON, Act.STEP, guide.id, 0),
                button(texts.B_ONLINE, Act.STEP, guide.id, 0, online=True),
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
    turn.state.flow = Flow.WALK
    turn.state.guide_id = guide.id
    turn.state.step = index
    mode = "o" if online else "p"
    turn.state.data = {"mode": mode}
    buttons = []
    if index + 1 < len(steps):
        buttons.append(Button(label=texts.B_NEXT, data=f"s:{guide.id}:{mode}:{index + 1}"))
    if index > 0:
        buttons.append(Button(label=texts.B_BACK, data=f"s:{guide.id}:{mode}:{index - 1}"))
    buttons += [button(texts.B_DONE, Act.STEPS_DONE, guide.id), HUMAN]
    turn.say(render.step_text(guide, library, online, index), buttons)
    return True


def finish_steps(turn: Turn, guide: Guide) -> None:
    turn.reset_flow()
    turn.say(
        texts.STEPS_DONE + "\n" + texts.HELPFUL,
        [
            button(texts.B_YES_HELPFUL, Act.HELPFUL, guide.id),
            button(texts.B_NOT_HELPFUL, Act.UNHELPFUL, guide.id),
            button(texts.B_CARD, Act.CARD, guide.id),
            MENU,
        ],
    )


# --- checklist -----------------------------------------------------------------------------


def show_checklist(
    turn: Turn, guide: Guide, have: set[int] | None = None, replace: bool = False
) -> None:
    if turn.state.flow != Flow.CHECK or turn.state.guide_id != guide.id:
        turn.reset_flow()
        turn.state.flow = Flow.CHECK
        turn.state.guide_id = guide.id
    if have is not None:
        turn.state.data["have"] = sorted(have)
    ticked = set(turn.state.data.get("have", []))
    buttons = [
        button(f"{'☑' if i in ticked else '☐'} {doc.name}", Act.TICK, guide.id, i)
        for i, doc in enumerate(guide.documents)
    ]
    turn.say(
        texts.CHECKLIST,
        [*buttons, button(texts.B_DONE, Act.CHECK_DONE, guide.id)],
        replace=replace,
    )


def toggle_checklist(turn: Turn, guide: Guide, index: int) -> bool:
    if not 0 <= index < len(guide.documents):
        return False
    same = turn.state.flow == Flow.CHECK and turn.state.guide_id == guide.id
    have = set(turn.state.data.get("have", [])) if same else set()
    have ^= {index}
    show_checklist(turn, guide, have, replace=same)
    return True


def finish_checklist(turn: Turn, library: Library, guide: Guide) -> None:
    same = turn.state.flow == Flow.CHECK and turn.state.guide_id == guide.id
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
    turn.state.flow = Flow.FEE
    turn.state.guide_id = guide.id
    stage = "pages" if needs_pages(fee) else "copies"
    turn.state.data = {"stage": stage}
    cancel = button(texts.B_CANCEL, Act.CANCEL)
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
    cancel = button(texts.B_CANCEL, Act.CANCEL)
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
    turn.say(text_out, [button(texts.B_CALC, Act.FEE_CALC, guide.id), *section_buttons(guide)])
    turn.log("fee_quote", guide=guide.id, pages=pages, copies=count, total=result.total)
