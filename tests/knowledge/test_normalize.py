import unicodedata

import pytest

from knowledge.normalize import fold, tokens


def plain(text: str) -> list[str]:
    return [t.plain for t in tokens(text)]


def exact(text: str) -> list[str | None]:
    return [t.exact for t in tokens(text)]


def test_decomposed_input_matches_composed():
    composed = "Đăng ký khai sinh cho con"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert tokens(decomposed) == tokens(composed)


def test_d_stroke_folds_to_d():
    assert plain("Đăng ĐĂNG đăng") == ["dang", "dang", "dang"]


@pytest.mark.parametrize(("old", "new"), [("hoà", "hòa"), ("thuý", "thúy"), ("khoẻ", "khỏe")])
def test_old_and_new_tone_placement_agree(old, new):
    assert tokens(old) == tokens(new)


@pytest.mark.parametrize(
    ("i_form", "y_form"), [("kí", "ký"), ("lí", "lý"), ("quí", "quý"), ("mĩ", "mỹ")]
)
def test_i_and_y_spellings_agree(i_form, y_form):
    assert tokens(i_form) == tokens(y_form)


def test_y_as_a_vowel_on_its_own_is_kept():
    assert plain("y tế yêu") == ["y", "te", "yeu"]


def test_marks_distinguish_words_that_fold_alike():
    assert plain("đẻ để") == ["de", "de"]
    assert exact("đẻ")[0] != exact("để")[0]
    assert exact("de") == [None]


def test_fold_drops_punctuation_emoji_and_invisible_characters():
    assert fold("😀 Xin\u200b chào!!  GKS?") == "xin chao gks"


def test_fullwidth_characters_are_normalised():
    assert fold("ＣＣＣＤ") == "cccd"
