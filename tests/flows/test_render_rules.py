"""Render rules on every bundled guide: the card fits a phone, names the key papers first, and
long answers break into pages between items, never after a heading or before a note."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.channels.console import LIMITS as CONSOLE
from bot.channels.telegram.keyboard import LIMITS as TELEGRAM
from bot.channels.zalo.outbox import LIMITS as ZALO
from bot.outbound import ChannelLimits, render
from flows import render as texts_of
from flows.answers import (
    show_card,
    show_checklist,
    show_documents,
    show_faq,
    show_faq_answer,
    show_fees,
    show_online,
    show_step,
    start_steps,
)
from flows.models import Button, ConversationKey, Reply
from flows.ports import Conversation
from flows.turn import Turn, split_pages
from flows.wording import press, word
from knowledge.holder import LibraryHolder
from knowledge.library import Library
from knowledge.loader import DEFAULT_DIR
from tests.flows.driver import OPEN_TIME
from tests.readable import Seen, problems


@pytest.fixture(scope="module")
def library() -> Library:
    return LibraryHolder(DEFAULT_DIR, lambda: OPEN_TIME.date()).current()


def new_turn() -> Turn:
    key = ConversationKey(channel="sim", user_id="u")
    conversation = Conversation(id=1, key=key, created_at=OPEN_TIME, last_seen_at=OPEN_TIME)
    return Turn(conversation, OPEN_TIME)


def test_every_card_fits_a_phone(library: Library) -> None:
    for guide in library.kb.guides:
        turn = new_turn()
        show_card(turn, library, guide)
        [card] = turn.replies
        shown = f"{card.title}\n{card.text}"
        assert len(shown) <= texts_of.CARD_BUDGET, (guide.id, len(shown))
        assert len(card.buttons) <= 7, guide.id
        assert "Gặp cán bộ" in [b.label for b in card.buttons], guide.id
        assert "Cần mang:" in card.text and "Lệ phí:" in card.text, guide.id


def test_card_names_the_key_papers_first(library: Library) -> None:
    for gid, paper in (("khai-sinh", "Giấy chứng sinh"), ("khai-tu", "Giấy báo tử")):
        guide = library.guide(gid)
        assert guide is not None
        card = texts_of.card(guide, library, 600)
        assert card.split("Cần mang: ", 1)[1].startswith(paper), card


def test_without_key_papers_the_card_names_the_papers_everybody_brings(library: Library) -> None:
    marked = library.guide("ket-hon")
    assert marked is not None
    unmarked = [d.model_copy(update={"key": False}) for d in marked.documents]
    guide = marked.model_copy(update={"documents": unmarked})
    first = next(d for d in guide.documents if not d.optional and d.case is None)
    card = texts_of.card(guide, library)
    assert card.split("Cần mang: ", 1)[1].startswith(library.fill(first.name))


def long_texts(library: Library) -> list[tuple[str, str]]:
    found = []
    for guide in library.kb.guides:
        found += [
            (guide.id, texts_of.documents(guide, library)),
            (guide.id, texts_of.fees(guide, library)),
            (guide.id, texts_of.online(guide, library)),
        ]
    return found


def squeeze(text: str) -> str:
    return text.replace("\n", "").replace(" ", "")


@pytest.mark.parametrize("limit", [160, 250, 400, 900])
def test_pages_never_end_on_a_heading_nor_start_with_a_note(library: Library, limit: int) -> None:
    for gid, text in long_texts(library):
        notes = {line.strip() for line in text.splitlines() if line.startswith(" ")}
        items = {line.strip() for line in text.splitlines() if not line.startswith(" ")}
        pages = split_pages(text, limit)
        kept = [line for p in pages for line in p.splitlines() if not line.startswith("(tiếp) ")]
        assert squeeze("".join(kept)) == squeeze(text), gid  # nothing lost
        for page in pages[:-1]:
            assert not page.rstrip().endswith(":") or len(page) > limit, (gid, page)
        for page in pages[1:]:
            first = page.splitlines()[0].strip()
            assert first not in notes - items, (gid, limit, page[:80])


def test_a_numbered_list_keeps_full_labels_and_one_number() -> None:
    long = "Người cao tuổi thuộc hộ nghèo, không có con cái phụng dưỡng được trợ cấp bao nhiêu?"
    reply = Reply(
        text=f"Chọn một câu. Muốn gặp cán bộ, {press('Gặp cán bộ', '/canbo')}.",
        buttons=tuple(Button(label=x, data=str(i)) for i, x in enumerate([long, "A", "B"]))
        + (Button(label="Gặp cán bộ", data="h"),) * 3,
    )
    [zalo] = render(reply, ChannelLimits(text_chars=2000, max_buttons=5, label_chars=20))
    assert f"1. {long}" in zalo.text and "1. 1." not in zalo.text
    assert "Muốn gặp cán bộ, gõ số 4." in zalo.text and zalo.buttons == ()
    [telegram] = render(reply, ChannelLimits(text_chars=4096, label_chars=40))
    assert "bấm «Gặp cán bộ»" in telegram.text and len(telegram.buttons) == 6
    assert telegram.listed is not None and "gõ số 4" in telegram.listed


def test_references_follow_what_is_shown() -> None:
    human = Button(label="Gặp cán bộ", data="h")
    text = f"Cần người thật: {press('Gặp cán bộ', '/canbo')}. Xong: {press('Xong')}."
    assert word(text, [human], "buttons") == "Cần người thật: bấm «Gặp cán bộ». Xong: «Xong»."
    assert word(text, [], "numbers").startswith("Cần người thật: gõ /canbo.")
    assert word(text, [human], "words").startswith("Cần người thật: gõ /canbo.")


def test_intro_comes_once_and_first(library: Library) -> None:
    turn = new_turn()
    guide = library.guide("khai-sinh")
    assert guide is not None
    show_card(turn, library, guide)
    turn.introduce()
    assert turn.replies[0].text.startswith("🤖 Đây là trợ lý tự động")
    assert turn.state.introduced
    again = Turn(turn.conversation, OPEN_TIME + dt.timedelta(minutes=1))
    show_card(again, library, guide)
    again.introduce()
    assert "trợ lý tự động" not in again.replies[0].text


CHANNELS = {
    "telegram": (TELEGRAM, "html"),
    "zalo": (ZALO, "plain"),
    "console": (CONSOLE, "plain"),
}


def every_answer(library: Library) -> list[Reply]:
    """Card, sections, FAQ list and answers, checklist and steps of every bundled guide."""
    replies: list[Reply] = []
    for guide in library.kb.guides:
        turn = new_turn()
        show_card(turn, library, guide)
        show_documents(turn, library, guide)
        show_fees(turn, library, guide)
        show_online(turn, library, guide)
        show_faq(turn, guide)
        for index in range(len(guide.faq)):
            show_faq_answer(turn, library, guide, index)
        show_checklist(turn, guide, {0})
        start_steps(turn, library, guide)
        for online in (False, True):
            steps = guide.steps.online if online else guide.steps.in_person
            for index in range(len(steps)):
                show_step(turn, library, guide, online, index)
        replies += turn.replies
    return replies


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_every_answer_of_every_guide_is_readable_on_every_channel(
    library: Library, channel: str
) -> None:
    limits, markup = CHANNELS[channel]
    for reply in every_answer(library):
        for message in render(reply, limits):
            seen = Seen(message.text, tuple(b.label for b in message.buttons))
            max_buttons = limits.max_buttons
            assert problems(seen, limits.text_chars, max_buttons, markup) == [], seen.text[:200]
