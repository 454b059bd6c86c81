"""Compute fees from a guide's structured fee data (tiers, caps, per-copy units).

Nothing is hard-coded: certified copies are 2,000 đ/page for pages 1-2, 1,000 đ from page 3,
capped per copy, only because the guide's YAML says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from knowledge.schema import Fee, Guide, Office


@dataclass(frozen=True)
class FeeQuote:
    per_copy: int
    copies: int
    capped: bool

    @property
    def total(self) -> int:
        return self.per_copy * self.copies


def needs_pages(fee: Fee) -> bool:
    return bool(fee.tiers)


def countable(fee: Fee) -> bool:
    """Fees that grow with a count the citizen knows (pages, copies)."""
    return bool(fee.tiers) or (fee.amount is not None and fee.amount > 0 and fee.unit == "bản")


def calculable_fee(guide: Guide, day: dt.date) -> Fee | None:
    return next((fee for fee in guide.fees if countable(fee) and fee.in_force(day)), None)


def quote(fee: Fee, pages: int, copies: int) -> FeeQuote:
    if pages < 1 or copies < 1:
        raise ValueError("pages and copies must be positive")
    if not fee.tiers:
        return FeeQuote(per_copy=fee.amount or 0, copies=copies, capped=False)
    per_copy = 0
    for page in range(1, pages + 1):
        tier = next(
            (
                t
                for t in fee.tiers
                if t.from_unit <= page and (t.to_unit is None or page <= t.to_unit)
            ),
            None,
        )
        per_copy += tier.amount if tier else 0
    capped = fee.cap is not None and per_copy > fee.cap
    if fee.cap is not None:
        per_copy = min(per_copy, fee.cap)
    return FeeQuote(per_copy=per_copy, copies=copies, capped=capped)


def money(amount: int) -> str:
    """Vietnamese thousands separator: 200000 -> '200.000 đồng'."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def fee_amount_text(fee: Fee, office: Office) -> str:
    """One line stating a fee's amount as the citizen will pay it."""
    if fee.provincial is not None:
        local = office.provincial_fees.get(fee.provincial)
        if local is None:
            return "theo mức của tỉnh (hỏi cán bộ)"
        text = f"{money(local.amount)}/{local.unit}"
        if local.online_amount is not None:
            text += f" (nộp trực tuyến: {money(local.online_amount)})"
        return text + f", theo quy định của {office.province}"
    if fee.tiers:
        parts = []
        for tier in fee.tiers:
            span = (
                f"trang {tier.from_unit}–{tier.to_unit}"
                if tier.to_unit and tier.to_unit != tier.from_unit
                else f"trang {tier.from_unit}"
                if tier.to_unit
                else f"từ trang {tier.from_unit}"
            )
            parts.append(f"{span}: {money(tier.amount)}/{fee.unit}")
        text = "; ".join(parts)
        if fee.cap is not None:
            text += f"; tối đa {money(fee.cap)}/{fee.per or 'bản'}"
        return text
    if fee.amount == 0:
        return "Miễn phí"
    text = f"{money(fee.amount or 0)}/{fee.unit}"
    if fee.online_amount is not None:
        text += f" (nộp trực tuyến: {money(fee.online_amount)})"
    return text
