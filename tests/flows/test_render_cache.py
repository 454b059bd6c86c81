"""Cards are rendered once per library: a citizen still reads the guide as it is now, never a
card kept from another version of it."""

from __future__ import annotations

from flows import render
from knowledge.holder import LibraryHolder
from knowledge.library import Library
from knowledge.loader import DEFAULT_DIR
from tests.flows.driver import OPEN_TIME


def _library() -> Library:
    return LibraryHolder(DEFAULT_DIR, lambda: OPEN_TIME.date()).current()


def test_a_card_is_made_once_and_said_the_same_way() -> None:
    library = _library()
    guide = next(iter(library.guides.values()))
    first = render.card(guide, library, 600)
    assert render.card(guide, library, 600) is first  # kept, not made again
    assert len(first) <= 600


def test_another_version_of_a_guide_gets_its_own_card() -> None:
    library = _library()
    guide = next(iter(library.guides.values()))
    render.card(guide, library, 600)
    edited = guide.model_copy(update={"summary": "Tóm tắt đã sửa cho phiên bản khác."})
    assert "Tóm tắt đã sửa" in render.card(edited, library, 600)
    assert "Tóm tắt đã sửa" not in render.card(guide, library, 600)


def test_a_new_library_renders_afresh() -> None:
    old, new = _library(), _library()
    guide = next(iter(old.guides.values()))
    assert render.card(guide, old, 600) is not render.card(new.guides[guide.id], new, 600)
