"""Vietnamese text normalisation for matching.

Citizens type with or without diacritics, in composed or decomposed Unicode, with old or new tone
placement (hoà/hòa) and i/y spellings (kí/ký). We reduce every syllable to two keys:
- `plain`: lowercase ASCII without any marks (what most phone users type), the index key;
- `exact`: the base letters with vowel-quality marks plus a tone digit, so "hoà" and "hòa" agree
  but "đẻ" and "để" do not. `exact` is None when the citizen typed no marks at all.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Combining tone marks (and their deprecated duplicates U+0340/U+0341 seen in old keyboards).
_TONES = {
    "\u0300": "1",
    "\u0340": "1",
    "\u0301": "2",
    "\u0341": "2",
    "\u0303": "3",
    "\u0309": "4",
    "\u0323": "5",
}
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_WORD = re.compile(r"[^\W_]+")
# A consonant onset followed by a lone "y" is the same syllable as with "i" (ký = kí, lý = lí).
_I_Y = re.compile(r"^(ch|gh|kh|ng|nh|ph|th|tr|qu|[bcdđghklmnprstvx])y$")


@dataclass(frozen=True, slots=True)
class Token:
    plain: str
    exact: str | None

    def __str__(self) -> str:
        return self.plain


def clean(text: str) -> str:
    """NFKC-compose, drop invisible characters and lowercase."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).lower()


def _fold(base: str) -> str:
    decomposed = unicodedata.normalize("NFD", base.replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def split_syllable(word: str) -> tuple[str, str]:
    """Return (base with vowel-quality marks, tone digit or '') for a lowercase word."""
    tone = ""
    kept = []
    for ch in unicodedata.normalize("NFD", word):
        mark = _TONES.get(ch)
        if mark is None:
            kept.append(ch)
        else:
            tone = mark
    return unicodedata.normalize("NFC", "".join(kept)), tone


@lru_cache(maxsize=65_536)
def make_token(word: str) -> Token:
    base, tone = split_syllable(word)
    base = _I_Y.sub(r"\1i", base)
    plain = _fold(base)
    if not plain.isascii():  # letters from other scripts: keep them, they never match guides
        plain = base
    exact = None if (base == plain and not tone) else base + tone
    return Token(plain, exact)


def tokens(text: str) -> list[Token]:
    return [make_token(word) for word in _WORD.findall(clean(text))]


def fold(text: str) -> str:
    """ASCII, lowercase, single-spaced form of `text` (for display-independent keys)."""
    return " ".join(t.plain for t in tokens(text))
