"""Vietnamese formatting of numbers, percentages, dates and waiting times."""

from __future__ import annotations

import datetime as dt


def num(value: int | None) -> str:
    """1.234: Vietnamese thousands separator."""
    return "không xác định" if value is None else f"{value:,}".replace(",", ".")


def pct(value: float | None) -> str:
    """87,5%: Vietnamese decimal comma."""
    return "—" if value is None else f"{value * 100:.1f}".replace(".", ",") + "%"


def day(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def duration(seconds: float | None) -> str:
    """Waiting times for a reader: 45 giây, 12 phút, 14 giờ 50 phút, 1 ngày 17 giờ 45 phút."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{round(seconds)} giây"
    hours, minutes = divmod(round(seconds / 60), 60)
    days, hours = divmod(hours, 24)
    parts = [(days, "ngày"), (hours, "giờ"), (minutes, "phút")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n)
