"""Turn a guide into the short texts a citizen reads: card, documents, fees, online, FAQ.

Pure functions of (guide, library): no state, no channel markup. Placeholders are filled here.
"""

from __future__ import annotations

from flows import texts
from flows.feecalc import fee_amount_text, money
from knowledge.library import Library
from knowledge.schema import Document, Fee, Guide


def _docs_short(guide: Guide, library: Library) -> str:
    required = [d for d in guide.documents if not d.optional and d.case is None]
    if not required:
        return "xem mục «Giấy tờ cần mang»"
    names = [d.name for d in required[:3]]
    more = len(guide.documents) - len(names)
    shown = "; ".join(library.fill(n) for n in names)
    return shown + (f" (và {more} giấy tờ khác tùy trường hợp)" if more > 0 else "")


def fees_in_force(guide: Guide, library: Library) -> list[Fee]:
    return [fee for fee in guide.fees if fee.in_force(library.day)] or list(guide.fees)


def _fee_short(guide: Guide, library: Library) -> str:
    current = fees_in_force(guide, library)
    text = fee_amount_text(current[0], library.kb.office)
    if len(current) > 1:
        text += " (xem thêm ở mục «Lệ phí»)"
    return text


def card(guide: Guide, library: Library) -> str:
    lines = [
        library.fill(guide.summary),
        "",
        texts.CARD_WHO.format(agency=library.fill(guide.agency)),
        texts.CARD_DOCS.format(docs=_docs_short(guide, library)),
        texts.CARD_FEE.format(fee=_fee_short(guide, library)),
        texts.CARD_TIME.format(time=library.fill(guide.processing_time.text)),
        texts.CARD_WHERE.format(where=library.fill(guide.where.desk)),
    ]
    if guide.where.online:
        online = library.fill(guide.where.online)
        if guide.where.online_url:
            online += f" ({guide.where.online_url})"
        lines.append(texts.CARD_ONLINE.format(online=online))
    return "\n".join(lines)


def document_line(index: int, doc: Document, library: Library) -> str:
    counts = []
    if doc.originals:
        counts.append(f"{doc.originals} bản chính")
    if doc.copies:
        counts.append(f"{doc.copies} bản sao")
    line = f"{index}. {library.fill(doc.name)}"
    if counts:
        line += f" ({', '.join(counts)})"
    if doc.optional:
        line += " — nếu có"
    if doc.form:
        line += f"\n   Mẫu: {library.fill(doc.form)}"
    if doc.notes:
        line += f"\n   {library.fill(doc.notes)}"
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
        texts.CARD_APPLICANT.format(who=library.fill(guide.who)),
    ]
    number = 0
    for doc in general:
        number += 1
        parts.append(document_line(number, doc, library))
    for case, docs in cases.items():
        case_text = library.fill(case)
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
        line = f"• {library.fill(fee.name)}: {fee_amount_text(fee, office)}"
        if fee.conditions:
            line += f"\n  Áp dụng: {library.fill(fee.conditions)}"
        if fee.exemptions:
            line += f"\n  Miễn cho: {', '.join(fee.exemptions)}"
        line += f"\n  Căn cứ: {'; '.join(fee.legal_basis)}"
        parts.append(line)
    if guide.deadline:
        parts.append(f"Lưu ý thời hạn: {library.fill(guide.deadline.text)}")
    return "\n".join(parts)


def processing_time(guide: Guide, library: Library) -> str:
    text = f"Thời gian giải quyết «{guide.title}»: {library.fill(guide.processing_time.text)}"
    if guide.deadline:
        text += f"\nThời hạn phải làm: {library.fill(guide.deadline.text)}"
    return text + f"\nCăn cứ: {'; '.join(guide.processing_time.legal_basis)}"


def where(guide: Guide, library: Library) -> str:
    office = library.kb.office
    text = f"Nơi nộp: {library.fill(guide.where.desk)}."
    if "công an" in guide.agency.lower():
        text += f"\nĐịa chỉ: {office.police_name}, {office.police_address}."
    else:
        text += f"\nĐịa chỉ: {office.center_name}, {office.address}."
    return text + f"\nGiờ làm việc: {library.fill('{gio_lam_viec}')}."


def online(guide: Guide, library: Library) -> str:
    if not guide.where.online and not guide.steps.online:
        return texts.ONLINE_NONE.format(desk=library.fill(guide.where.desk))
    lines = []
    if guide.where.online:
        lines.append(library.fill(guide.where.online))
    if guide.where.online_url:
        lines.append(f"Địa chỉ: {guide.where.online_url}")
    if guide.steps.online:
        lines.append("Các bước:")
        lines += [f"{i}. {library.fill(s)}" for i, s in enumerate(guide.steps.online, start=1)]
    return "\n".join(lines)


def step_text(guide: Guide, library: Library, online_mode: bool, index: int) -> str:
    steps = guide.steps.online if online_mode else guide.steps.in_person
    header = texts.STEP.format(n=index + 1, total=len(steps))
    way = "nộp trực tuyến" if online_mode else "nộp tại quầy"
    return f"{header} ({way})\n{library.fill(steps[index])}"


def faq_answer(guide: Guide, library: Library, index: int) -> str:
    item = guide.faq[index]
    text = f"{library.fill(item.q)}\n{library.fill(item.a)}"
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
