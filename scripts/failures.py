"""Failures of one development set, item by item: what to read before changing a decision rule.

    .venv/bin/python scripts/failures.py questions dev5 A      # questions the matcher got wrong
    .venv/bin/python scripts/failures.py dialogues dev5 A      # turns not about the right guide
    .venv/bin/python scripts/failures.py dialogues dev5 A --aspect   # also wrong aspects

Sets: questions, holdout, dev2, dev4, dev5, dev6, dev7, dev10, dev11 (and dev, dev9 for dialogues); half A, B or
- (whole set), except that a set split into a tuning and a check half opens its half A only.
The bench prints only aggregates; this prints the items so a change can fix a general cause.
Use it on what the project tunes on (half A of dev2, dev4, dev5, dev6, dev9, dev10, dev11; dev7): never on the gate sets
or on dev3, dev8, everyday and near_oos (held out), nor on the check halves (B), which must stay unread.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from knowledge.bench import DIALOGUE_SETS, HALVES, QUESTION_SETS

NOT_TO_READ = ("gate", "gate4", "dev3", "dev8", "everyday", "near_oos")


def _questions(path: Path, part: str | None) -> None:
    from knowledge.evaluate import evaluate, half, read_questions
    from knowledge.library import load_library

    report = evaluate(half(read_questions(path), part), load_library().matcher.match)
    print("\n".join(report.lines()))
    for item, result in report.failures:
        offered = ",".join(m.id for m in result.matches[:4])
        label = "+".join(sorted(item.labels))
        print(f"{label:30} {item.group:12} {result.intent:8} [{offered}]\n   {item.text}")


def _dialogues(path: Path, part: str | None, aspects: bool) -> None:
    from bot.dialogues import SPECIAL, evaluate_dialogues
    from knowledge.library import load_library

    report = evaluate_dialogues(load_library(), path, part)
    print("\n".join(report.lines()))
    for t in report.trace:
        aspect_missed = aspects and t.aspect and t.guide not in SPECIAL and not t.aspect_answered
        if t.right and not aspect_missed:
            continue
        tag = "WRONG" if t.wrong else ("ASPECT" if t.right else "MISS")
        print(
            f"{tag:6} {t.dialogue}#{t.number} expected={t.guide}/{t.aspect} "
            f"got={','.join(t.got) or '-'}/{','.join(t.aspects) or '-'}\n"
            f"   Q: {t.text}\n   R: {t.reply[:160]!r}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("questions", "dialogues"))
    parser.add_argument("set")
    parser.add_argument("half", nargs="?", default="A", choices=("A", "B", "-"))
    parser.add_argument("--aspect", action="store_true", help="dialogues: list wrong aspects too")
    args = parser.parse_args(argv)
    if args.set in NOT_TO_READ:
        print(f"{args.set}: a gate or held-out set; only `knowledge bench` aggregates are read")
        return 2
    if args.set in HALVES and args.half != "A":
        print(f"{args.set}: its half B is the check half; only `knowledge bench` aggregates")
        return 2
    sets = QUESTION_SETS if args.what == "questions" else DIALOGUE_SETS
    if args.set not in sets:
        parser.error(f"{args.what}: no set {args.set!r}; known: {', '.join(sets)}")
    part = None if args.half == "-" else args.half
    if args.what == "questions":
        _questions(sets[args.set], part)
    else:
        _dialogues(sets[args.set], part, args.aspect)
    return 0


if __name__ == "__main__":
    sys.exit(main())
