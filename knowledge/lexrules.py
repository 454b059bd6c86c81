"""Compiled lexicon: rewrites what citizens type into the words the guides are indexed under."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from knowledge.normalize import Token, tokens
from knowledge.schema import Lexicon


def compatible(key: Token, typed: Token, multi_syllable: bool) -> bool:
    """Does a lexicon key syllable accept what the citizen typed?

    A key written without marks accepts anything with the same letters. A key written with
    marks accepts the same marks, or unmarked typing only inside a multi-syllable key: the
    single syllable "đẻ" must not capture "de" (which is far more often "để").
    """
    if key.exact is None:
        return True
    if typed.exact is None:
        return multi_syllable
    return key.exact == typed.exact


@dataclass(frozen=True)
class _Rule:
    key: tuple[Token, ...]
    output: tuple[Token, ...]
    # "75 tuổi" -> "75 tuổi cao tuổi": the output repeats the key, so a second pass would add
    # the words again
    extends: bool = False


class LexiconRules:
    def __init__(self, lexicon: Lexicon) -> None:
        self._rules: dict[tuple[str, ...], list[_Rule]] = {}
        self._max_len = 1
        for source, target, marks_matter in lexicon.entries():
            key = tuple(tokens(source))
            if not key:
                continue
            if not marks_matter:
                key = tuple(Token(t.plain, None) for t in key)
            output = tuple(tokens(target))
            extends = [t.plain for t in output[: len(key)]] == [t.plain for t in key]
            rule = _Rule(key, output, extends)
            self._rules.setdefault(tuple(t.plain for t in key), []).append(rule)
            self._max_len = max(self._max_len, len(key))
        # Rules written with marks are tried before unmarked ones for the same letters.
        for rules in self._rules.values():
            rules.sort(key=lambda r: sum(t.exact is None for t in r.key))
        # first syllable -> the key lengths starting with it, longest first
        lengths: dict[str, set[int]] = {}
        for plains in self._rules:
            lengths.setdefault(plains[0], set()).add(len(plains))
        self._starters = {first: sorted(sizes, reverse=True) for first, sizes in lengths.items()}
        self._stopwords: dict[str, list[Token]] = {}
        for word in lexicon.stopwords:
            for token in tokens(word)[:1]:
                self._stopwords.setdefault(token.plain, []).append(token)

    def outputs(self) -> Iterable[Token]:
        for rules in self._rules.values():
            for rule in rules:
                yield from rule.output

    def rewrite(self, words: Sequence[Token]) -> list[Token]:
        """Greedy longest-match replacement, twice: a short form spelled out by the first pass
        ("ng Hàn" -> "người Hàn") can start a phrase the second one rewrites ("người nước
        ngoài"). Outputs are the guides' own words, which rarely start a rule again."""
        once, changed = self._pass(words)
        return self._pass(once, again=True)[0] if changed else once

    def _pass(self, words: Sequence[Token], again: bool = False) -> tuple[list[Token], bool]:
        """One greedy longest-match replacement; whether any rule applied. `again`: the second
        pass, where a rule that repeats its key (`_Rule.extends`) has been applied already: its
        words stay as they are (and no shorter rule takes them: "mã otp" is no "mã mã otp")."""
        result: list[Token] = []
        changed = False
        plains = [t.plain for t in words]
        i = 0
        while i < len(words):
            sizes = self._starters.get(plains[i])
            if sizes is None:
                result.append(words[i])
                i += 1
                continue
            for length in sizes:
                if length > len(words) - i:
                    continue
                candidates = self._rules.get(tuple(plains[i : i + length]))
                if candidates is None:
                    continue
                window = words[i : i + length]
                rule = next(
                    (
                        r
                        for r in candidates
                        if all(
                            compatible(k, w, length > 1) for k, w in zip(r.key, window, strict=True)
                        )
                    ),
                    None,
                )
                if rule is not None and again and rule.extends:
                    result.extend(window)  # applied in the first pass: kept, not extended again
                    i += length
                    break
                if rule is not None:
                    result.extend(rule.output)
                    changed = True
                    i += length
                    break
            else:
                result.append(words[i])
                i += 1
        return result, changed

    def is_stopword(self, token: Token) -> bool:
        # Unmarked typing counts: a stopword only lowers a weight, so a wrong guess costs little.
        candidates = self._stopwords.get(token.plain)
        return candidates is not None and any(compatible(s, token, True) for s in candidates)
