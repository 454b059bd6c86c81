"""Menus and the button sets that recur on every step ("Gặp cán bộ" is always one tap away)."""

from __future__ import annotations

from flows import texts
from flows.callbacks import Act, button
from flows.models import Button
from flows.turn import Turn
from knowledge.library import Library
from knowledge.schema import Guide

HUMAN = button(texts.B_HUMAN, Act.HUMAN)
MENU = button(texts.B_MENU, Act.MENU)


CARD_BUTTONS = 7  # what a phone shows without scrolling past the card


def card_buttons(guide: Guide) -> list[Button]:
    """At most CARD_BUTTONS, the most needed kept: the online path is also reached through
    "Các bước" and the card's "Trực tuyến" line, the menu through /menu and every section."""
    gid = guide.id
    wanted: list[Button | None] = [
        button(texts.B_FEEDBACK, Act.FEEDBACK) if gid == "phan-anh-kien-nghi" else None,
        button(texts.B_DOCS, Act.DOCS, gid),
        button(texts.B_STEPS, Act.STEPS, gid),
        button(texts.B_FEES, Act.FEES, gid),
        HUMAN,
        button(texts.B_YES_HELPFUL, Act.HELPFUL, gid),
        button(texts.B_NOT_HELPFUL, Act.UNHELPFUL, gid),
        button(texts.B_FAQ, Act.FAQ, gid) if guide.faq else None,
        button(texts.B_ONLINE, Act.ONLINE, gid) if _online(guide) else None,
        MENU,
    ]
    kept = [b for b in wanted if b is not None][:CARD_BUTTONS]
    order = [texts.B_FEEDBACK, texts.B_STEPS, texts.B_DOCS, texts.B_FEES, texts.B_ONLINE]
    order += [texts.B_FAQ, texts.B_HUMAN, texts.B_MENU, texts.B_YES_HELPFUL, texts.B_NOT_HELPFUL]
    return sorted(kept, key=lambda b: order.index(b.label))


def _online(guide: Guide) -> bool:
    return bool(guide.where.online or guide.steps.online)


def section_buttons(guide: Guide) -> list[Button]:
    """After a section: back to the summary, a person, or the menu."""
    return [button(texts.B_CARD, Act.CARD, guide.id), HUMAN, MENU]


def main_menu_buttons(library: Library) -> list[Button]:
    """The fields that have guides (made once per library: sorting them takes a while)."""
    return list(library.memo("main_menu_buttons", lambda: tuple(_main_menu_buttons(library))))


def _main_menu_buttons(library: Library) -> list[Button]:
    fields = [
        button(f"{f.icon} {f.title}".strip(), Act.FIELD, f.id)
        for f in library.kb.fields.fields
        if library.by_field(f.id)
    ]
    # Feedback is reached through its field ("Liên hệ & phản ánh"): one way in, not two.
    return [*fields, button(texts.B_PRIVACY, Act.PRIVACY), HUMAN]


def show_menu(turn: Turn, library: Library, text: str = texts.MENU) -> None:
    turn.reset_flow()
    turn.say(text, main_menu_buttons(library))


def show_welcome(turn: Turn, library: Library) -> None:
    show_menu(turn, library, texts.WELCOME.format(commune=library.kb.office.commune))
    turn.state.introduced = True


def show_field(turn: Turn, library: Library, field_id: str) -> bool:
    guides = library.by_field(field_id)
    if not guides:
        return False
    turn.reset_flow()
    buttons = [button(g.title, Act.CARD, g.id) for g in guides]
    turn.say(
        texts.FIELD_LIST.format(field=library.kb.field_title(field_id)),
        [*buttons, MENU, HUMAN],
    )
    return True
