"""Commune facts written into guide text as {placeholders}, filled from office.yaml.

Guides are shared between communes (a province can ship one library); the address, hours and
phone numbers of one commune live only in its office.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from knowledge.schema import WEEKDAYS, Office

_PATTERN = re.compile(r"\{([a-z_]+)\}")
DAY_NAMES = {
    "mon": "Thứ Hai",
    "tue": "Thứ Ba",
    "wed": "Thứ Tư",
    "thu": "Thứ Năm",
    "fri": "Thứ Sáu",
    "sat": "Thứ Bảy",
    "sun": "Chủ nhật",
}


def opening_hours(office: Office) -> str:
    """Group weekdays with identical sessions: 'Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00'."""
    groups: list[tuple[list[str], str]] = []
    for day in WEEKDAYS:
        sessions = office.hours.get(day) or []
        if not sessions:
            continue
        text = ", ".join(f"{s.start}–{s.end}" for s in sessions)
        if groups and groups[-1][1] == text and _next_day(groups[-1][0][-1]) == day:
            groups[-1][0].append(day)
        else:
            groups.append(([day], text))
    parts = []
    for days, text in groups:
        label = (
            DAY_NAMES[days[0]]
            if len(days) == 1
            else f"{DAY_NAMES[days[0]]} – {DAY_NAMES[days[-1]]}"
        )
        parts.append(f"{label}: {text}")
    return "; ".join(parts) + " (trừ ngày lễ, Tết)"


def _next_day(day: str) -> str:
    return WEEKDAYS[(WEEKDAYS.index(day) + 1) % 7]  # type: ignore[arg-type,unused-ignore]


def police_hours(office: Office) -> str:
    """The police's own reception hours; they differ from the commune centre's."""
    if not office.police_hours:
        return f"theo lịch tiếp dân của {office.police_name} (nên gọi hỏi trước)"
    return opening_hours(office.model_copy(update={"hours": office.police_hours}))


def _phones(office: Office) -> str:
    return "; ".join(f"{p.label}: {p.number}" for p in office.phones)


_VALUES: dict[str, Callable[[Office], str]] = {
    "xa": lambda o: o.commune,
    "tinh": lambda o: o.province,
    "trung_tam": lambda o: o.center_name,
    "dia_chi": lambda o: o.address,
    "cong_an": lambda o: o.police_name,
    "dia_chi_cong_an": lambda o: o.police_address,
    "dien_thoai": _phones,
    "gio_lam_viec": opening_hours,
    "gio_cong_an": police_hours,
    "email": lambda o: o.email or "(chưa có)",
    "cong_dvc": lambda o: o.portal_url,
}
NAMES = frozenset(_VALUES)
LOCAL_PREFIX = "local_"
"""`{local_KEY}` is filled from `local:` in office.yaml: what the province decides (forms, steps)."""
LOCAL_MISSING = "theo hướng dẫn của tỉnh (hỏi cán bộ tại quầy)"


def local_names(data: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Yield (path, KEY) for every {local_KEY} in `data`, to check against office.yaml."""
    for path, name in _all_names(data):
        if name.startswith(LOCAL_PREFIX):
            yield path, name.removeprefix(LOCAL_PREFIX)


def _all_names(
    data: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(data, str):
        for name in _PATTERN.findall(data):
            yield path, name
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _all_names(value, (*path, str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _all_names(value, (*path, index))


def fill(text: str, office: Office) -> str:
    """Replace known placeholders; unknown ones are left visible (validation reports them)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith(LOCAL_PREFIX):
            return office.local.get(name.removeprefix(LOCAL_PREFIX), LOCAL_MISSING)
        getter = _VALUES.get(name)
        return getter(office) if getter else match.group(0)

    return _PATTERN.sub(replace, text)


def unknown_placeholders(
    data: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Yield (path, name) for every {name} in string values of `data` that we cannot fill."""
    if isinstance(data, str):
        for name in _PATTERN.findall(data):
            if name not in NAMES and not name.startswith(LOCAL_PREFIX):
                yield path, name
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from unknown_placeholders(value, (*path, str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from unknown_placeholders(value, (*path, index))
