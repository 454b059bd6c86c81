"""Failures of one development set, item by item: what to read before changing a decision rule.

    .venv/bin/python scripts/failures.py questions dev5 A      # questions the matcher got wrong
    .venv/bin/python scripts/failures.py dialogues dev5 A      # turns not about the right guide
    .venv/bin/python scripts/failures.py dialogues dev5 A --aspect   # also wrong aspects

Sets: questions, holdout, dev2, dev4, dev5, dev6 (and dev for dialogues); half A, B or - (whole set).
The bench prints only aggregates; this prints the items so a change can fix a general cause.
Use it on the halves the project tunes on (half A of dev2, dev4, dev5, dev6): never on the gate sets
or on dev3 (held out), which must stay unread.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
NOT_TO_READ = ("gate", "gate4", "dev3")
QUESTION_FILES = {"questions": "questions.tsv", "holdout": "questions_holdout.tsv"}
# The dialogue files label a benefit amount "amount"; replies call that aspect "benefit".
ASPECT_NAMES = {"amount": "benefit"}


def _questions(name: str, part: str | None) -> None:
    from knowledge.evaluate import evaluate, half, read_questions
    from knowledge.library import load_library

    path = DATA / QUESTION_FILES.get(name, f"{name}_questions.tsv")
    report = evaluate(half(read_questions(path), part), load_library().matcher.match)
    print("\n".join(report.lines()))
    for item, result in report.failures:
        offered = ",".join(m.id for m in result.matches[:4])
        label = "+".join(sorted(item.labels))
        print(f"{label:30} {item.group:12} {result.intent:8} [{offered}]\n   {item.text}")


def _dialogues(name: str, part: str | None, aspects: bool) -> None:
    from bot.dialogues import evaluate_dialogues
    from knowledge.library import load_library

    report = evaluate_dialogues(load_library(), DATA / f"{name}_dialogues.jsonl", part)
    print("\n".join(report.lines()))
    for t in report.trace:
        wanted = ASPECT_NAMES.get(t.aspect or "", t.aspect)
        aspect_missed = (
            aspects
            and t.right
            and wanted is not None
            and wanted not in t.aspects
            and not (wanted == "steps" and "card" in t.aspects)
        )
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
    part = None if args.half == "-" else args.half
    if args.what == "questions":
        _questions(args.set, part)
    else:
        _dialogues(args.set, part, args.aspect)
    return 0


if __name__ == "__main__":
    sys.exit(main())
