"""What makes a message readable for a citizen, checked on what a channel actually sent.

Used by the Telegram, Zalo and console tests: every instruction to press names a button the
message shows, every "gõ số N" names a line of its list, lists keep full labels and are
numbered once, and the channel's limits hold.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

PRESS = re.compile(r"bấm «([^»]+)»")
TYPE_NUMBER = re.compile(r"gõ số (\d+)")
LISTED = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)
NUMBERS_HINT = "(Gõ số để chọn.)"


@dataclass(frozen=True)
class Seen:
    """One message as the citizen sees it: its text and the labels of its buttons."""

    text: str
    buttons: tuple[str, ...] = ()

    def choices(self) -> dict[int, str]:
        """The numbered list of choices at the end of the message (after its blank line)."""
        if NUMBERS_HINT not in self.text:
            return {}
        block = self.text.rsplit("\n\n", 1)[-1]
        return {int(n): label for n, label in LISTED.findall(block)}


def problems(
    seen: Seen, max_chars: int, max_buttons: int | None = None, markup: str = "plain"
) -> list[str]:
    text = html.unescape(seen.text) if markup == "html" else seen.text
    found: list[str] = []
    if len(seen.text) > max_chars:
        found.append(f"{len(seen.text)} characters (limit {max_chars})")
    if max_buttons is not None and len(seen.buttons) > max_buttons:
        found.append(f"{len(seen.buttons)} buttons (limit {max_buttons})")
    if "⟪" in text or "⟫" in text:
        found.append("an unworded reference to a button")
    for label in PRESS.findall(text):
        if label not in seen.buttons:
            found.append(f"says to press «{label}» but shows no such button")
    choices = Seen(text, seen.buttons).choices()
    for number in TYPE_NUMBER.findall(text):
        if int(number) not in choices:
            found.append(f"says to type {number} but lists no choice {number}")
    if choices and seen.buttons:
        found.append("lists choices to type and shows buttons too")
    if choices and sorted(choices) != list(range(1, len(choices) + 1)):
        found.append(f"choices numbered {sorted(choices)}")
    for label in choices.values():
        if label.endswith("…"):
            found.append(f"a listed choice is cut: {label!r}")
        if re.match(r"\d+\. ", label):
            found.append(f"a listed choice is numbered twice: {label!r}")
    for label in seen.buttons:
        if re.match(r"[☐☑]? ?\d+\. ", label):
            found.append(f"a button carries its own number: {label!r}")
    return found


def number_of(seen: Seen, label: str) -> int:
    """The number to type for the choice `label` (full label, as listed)."""
    for number, listed in seen.choices().items():
        if listed == label:
            return number
    raise AssertionError(f"no choice {label!r} in {seen.text!r}")
