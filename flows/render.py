"""Turn a guide into the short texts a citizen reads: card, documents, fees, online, FAQ.

Pure functions of (guide, library): no state, no channel markup. Placeholders are filled here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from flows import texts
from flows.feecalc import fee_amount_text, money
from flows.wording import press
from knowledge.library import Library
from knowledge.schema import Document, Fee, Guide

CARD_BUDGET = 700  # characters of the whole card message: one phone screen
CARD_PAPERS = 3  # papers named on the card
_KEEP = 80  # a line cut as a last resort keeps at least this many characters
_BRACKETS = re.compile(r" \([^()]*\)")
_CLAUSE_BREAKS = ("; ", " – ", ", ", " (")
T = TypeVar("T")


# Guide authors write "bấm «Gặp cán bộ»" for the assistant's own buttons: such phrases become
# references (flows.wording), so each channel words them as it shows that button.
_GUIDE_PRESS = re.compile(r"bấm «([^»]+)»")
_GUIDE_BUTTONS = {
    texts.B_HUMAN: "/canbo",
    texts.B_MENU: "/menu",
    texts.B_PRIVACY: "/riengtu",
    texts.B_FEEDBACK: None,
}


def _fill(library: Library, text: str) -> str:
    def reference(match: re.Match[str]) -> str:
        label = match.group(1)
        if label not in _GUIDE_BUTTONS:
            return match.group(0)  # a button of a web portal, not ours
        return press(label, _GUIDE_BUTTONS[label])

    return _GUIDE_PRESS.sub(reference, library.fill(text))


def _card_docs(guide: Guide, papers: int = CARD_PAPERS) -> list[Document]:
    """Key papers first (marked in the guide), then the ones everybody brings."""
    key = [d for d in guide.documents if d.key]
    general = [d for d in guide.documents if not d.key and not d.optional and d.case is None]
    return [*key, *general][:papers]


def _doc_short(doc: Document, library: Library) -> str:
    name = _fill(library, doc.name)
    if doc.case is None:
        return name
    case = _fill(library, doc.case)
    return f"{name} (nếu {case[0].lower() + case[1:]})"


def _docs_short(guide: Guide, library: Library, papers: int = CARD_PAPERS) -> str:
    shown = _card_docs(guide, papers)
    if not shown:
        return "xem mục «Giấy tờ cần mang»"
    more = len(guide.documents) - len(shown)
    text = "; ".join(_doc_short(d, library) for d in shown)
    return text + (f" (và {more} giấy tờ khác tùy trường hợp)" if more > 0 else "")


def _sentences(text: str) -> list[str]:
    return text.replace(". ", ".\n").split("\n")


def first_sentences(text: str, limit: int) -> str:
    """Whole sentences within `limit`; at least the first one, however long."""
    sentences = _sentences(text)
    kept = sentences[0]
    for sentence in sentences[1:]:
        if len(f"{kept} {sentence}") > limit:
            break
        kept = f"{kept} {sentence}"
    return kept


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters: whole sentences if possible, else a clause and "…"."""
    if len(text) <= limit:
        return text
    kept = first_sentences(text, limit)
    if len(kept) <= limit:
        return kept
    window = text[: limit - 1]
    cut = max(window.rfind(sep) for sep in _CLAUSE_BREAKS)
    if cut < limit // 2:
        cut = window.rfind(" ")
    return window[: cut if cut > 0 else limit - 1].rstrip(" ,;–(") + "…"


def fees_in_force(guide: Guide, library: Library) -> list[Fee]:
    return [fee for fee in guide.fees if fee.in_force(library.day)] or list(guide.fees)


def _fee_short(guide: Guide, library: Library) -> str:
    current = fees_in_force(guide, library)
    text = fee_amount_text(current[0], library.kb.office)
    if len(current) > 1:
        text += " (xem mục «Lệ phí»)"
    return text


@dataclass
class _Line:
    template: str
    text: str
    suffix: str = ""  # kept whole (the portal's address)

    _key: tuple[str, str] | None = None
    _rendered: str = ""

    def render(self) -> str:
        """Cached until `text` or `suffix` changes: `card` measures itself after every step."""
        key = (self.text, self.suffix)
        if key != self._key:
            self._key = key
            self._rendered = self.template.format(self.text + self.suffix) if self.template else ""
        return self._rendered


def card(guide: Guide, library: Library, budget: int | None = None) -> str:
    """The summary (see `_card`), rendered once per library for each guide and budget: the
    same few hundred cards serve every citizen, and measuring one takes a fraction of a
    millisecond."""
    return per_guide(library, guide, ("card", budget), lambda: _card(guide, library, budget))


def per_guide(library: Library, guide: Guide, name: Hashable, make: Callable[[], T]) -> T:
    """`make()` made once per library for one of its own guides (see `Library.memo`); for a
    guide from elsewhere (another day's version), made every time."""
    if library.guide(guide.id) is not guide:
        return make()
    return library.memo((name, guide.id), make)


def _card(guide: Guide, library: Library, budget: int | None) -> str:
    """The summary. With a `budget`, it is made shorter step by step, the least needed first:
    the agency line goes (the desk line says where), long lines keep their first sentences,
    two papers instead of three; a clause is cut with "…" only as a last resort."""
    summary = _Line("{}", _fill(library, guide.summary))
    who = _Line(texts.CARD_WHO, _fill(library, guide.agency))
    docs = _Line(texts.CARD_DOCS, _docs_short(guide, library))
    time = _Line(texts.CARD_TIME, _fill(library, guide.processing_time.text))
    where = _Line(texts.CARD_WHERE, _fill(library, guide.where.desk))
    lines = [summary, _Line("", ""), who, docs, _Line(texts.CARD_FEE, _fee_short(guide, library))]
    lines += [time, where]
    online = None
    if guide.where.online:
        online = _Line(texts.CARD_ONLINE, _fill(library, guide.where.online))
        online.suffix = f" ({guide.where.online_url})" if guide.where.online_url else ""
        lines.append(online)

    def size() -> int:
        return sum(len(line.render()) for line in lines) + len(lines) - 1

    def fits() -> bool:
        return budget is None or size() <= budget

    def trim(line: _Line, cut: bool = False) -> None:
        assert budget is not None
        limit = max(1, len(line.text) - (size() - budget))
        line.text = shorten(line.text, limit) if cut else first_sentences(line.text, limit)

    def unbracket(*targets: _Line | None) -> None:
        for line in targets:
            if line is not None:
                line.text = _BRACKETS.sub("", line.text)

    steps: list[Callable[[], None]] = [
        lambda: lines.remove(who),
        lambda: trim(summary),
        lambda: trim(time),
        lambda: setattr(docs, "text", _docs_short(guide, library, papers=2)),
        lambda: trim(where),
        lambda: trim(online) if online is not None else None,
        lambda: unbracket(where, online, summary),
        lambda: setattr(docs, "text", _docs_short(guide, library, papers=1)),
    ]
    for step in steps:
        if fits():
            break
        step()
    cuttable = [line for line in (summary, time, where, online) if line is not None]
    while not fits():  # the last resort: cut the longest line at a clause, never below _KEEP
        longest = max(cuttable, key=lambda x: len(x.text))
        if len(longest.text) <= _KEEP:
            break
        assert budget is not None
        limit = max(_KEEP, len(longest.text) - (size() - budget))
        longest.text = shorten(longest.text, limit)
    return "\n".join(line.render() for line in lines)


def document_line(index: int, doc: Document, library: Library) -> str:
    counts = []
    if doc.originals:
        counts.append(f"{doc.originals} bản chính")
    if doc.copies:
        counts.append(f"{doc.copies} bản sao")
    line = f"{index}. {_fill(library, doc.name)}"
    if counts:
        line += f" ({', '.join(counts)})"
    if doc.optional:
        line += " — nếu có"
    if doc.form:
        line += f"\n   Mẫu: {_fill(library, doc.form)}"
    if doc.notes:
        line += f"\n   {_fill(library, doc.notes)}"
    return line


def documents(guide: Guide, library: Library) -> str:
    if not guide.documents:
        return "Thủ tục này không cần nộp giấy tờ."
    general = [d for d in guide.documents if d.case is None]
    cases: dict[str, list[Document]] = {}
    for doc in guide.documents:
        if doc.case is not None:
            cases.setdefault(doc.case, []).append(doc)
    parts = [
        texts.DOCS_INTRO.format(title=guide.title),
        texts.CARD_APPLICANT.format(who=_fill(library, guide.who)),
    ]
    number = 0
    for doc in general:
        number += 1
        parts.append(document_line(number, doc, library))
    for case, docs in cases.items():
        case_text = _fill(library, case)
        parts.append(f"\nNếu {case_text[0].lower() + case_text[1:]}:")
        for doc in docs:
            number += 1
            parts.append(document_line(number, doc, library))
    parts.append(f"\nCăn cứ: {'; '.join(guide.documents_basis)}")
    return "\n".join(parts)


def fees(guide: Guide, library: Library) -> str:
    office = library.kb.office
    parts = [texts.FEES_INTRO.format(title=guide.title)]
    for fee in fees_in_force(guide, library):
        line = f"• {_fill(library, fee.name)}: {fee_amount_text(fee, office)}"
        if fee.conditions:
            line += f"\n  Áp dụng: {_fill(library, fee.conditions)}"
        if fee.exemptions:
            line += f"\n  Miễn cho: {', '.join(fee.exemptions)}"
        line += f"\n  Căn cứ: {'; '.join(fee.legal_basis)}"
        parts.append(line)
    if guide.deadline:
        parts.append(f"Lưu ý thời hạn: {_fill(library, guide.deadline.text)}")
    return "\n".join(parts)


def processing_time(guide: Guide, library: Library) -> str:
    text = f"Thời gian giải quyết «{guide.title}»: {_fill(library, guide.processing_time.text)}"
    if guide.deadline:
        text += f"\nThời hạn phải làm: {_fill(library, guide.deadline.text)}"
    return text + f"\nCăn cứ: {'; '.join(guide.processing_time.legal_basis)}"


def where(guide: Guide, library: Library) -> str:
    office = library.kb.office
    text = f"Nơi nộp: {_fill(library, guide.where.desk)}."
    if "công an" in guide.agency.lower():
        text += f"\nĐịa chỉ: {office.police_name}, {office.police_address}."
    else:
        text += f"\nĐịa chỉ: {office.center_name}, {office.address}."
    return text + f"\nGiờ làm việc: {_fill(library, '{gio_lam_viec}')}."


def online(guide: Guide, library: Library) -> str:
    if not guide.where.online and not guide.steps.online:
        return texts.ONLINE_NONE.format(desk=_fill(library, guide.where.desk))
    lines = []
    if guide.where.online:
        lines.append(_fill(library, guide.where.online))
    if guide.where.online_url:
        lines.append(f"Địa chỉ: {guide.where.online_url}")
    if guide.steps.online:
        lines.append("Các bước:")
        lines += [f"{i}. {_fill(library, s)}" for i, s in enumerate(guide.steps.online, start=1)]
    return "\n".join(lines)


def step_text(guide: Guide, library: Library, online_mode: bool, index: int) -> str:
    steps = guide.steps.online if online_mode else guide.steps.in_person
    header = texts.STEP.format(n=index + 1, total=len(steps))
    way = "nộp trực tuyến" if online_mode else "nộp tại quầy"
    return f"{header} ({way})\n{_fill(library, steps[index])}"


def faq_answer(guide: Guide, library: Library, index: int) -> str:
    item = guide.faq[index]
    text = f"{_fill(library, item.q)}\n{_fill(library, item.a)}"
    if item.legal_basis:
        text += f"\nCăn cứ: {'; '.join(item.legal_basis)}"
    if item.verify:
        text += f"\n({texts.VERIFY_NOTE})"
    return text


def fee_rule(fee: Fee) -> str:
    if fee.tiers:
        parts = []
        for tier in fee.tiers:
            if tier.to_unit:
                parts.append(f"trang {tier.from_unit}–{tier.to_unit}: {money(tier.amount)}/trang")
            else:
                parts.append(f"từ trang {tier.from_unit}: {money(tier.amount)}/trang")
        rule = ", ".join(parts)
        if fee.cap is not None:
            rule += f", tối đa {money(fee.cap)} mỗi bản"
    else:
        rule = f"{money(fee.amount or 0)}/{fee.unit}"
    return f"{rule} ({'; '.join(fee.legal_basis)})"
