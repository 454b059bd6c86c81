"""The independent gate set (tests/data/gate_*, written by someone who never read the guides).

Never tuned on: only aggregate numbers are read. Its labels name guides still being written in
parallel; those items are skipped here and counted, so the floors apply to what is measurable.
Issue 9's targets are higher (direct >= 95%, confident wrong <= 1%, out of scope >= 95%,
dialogues >= 95% right and <= 1% wrong); the floors below sit a little under what the library
of 46 guides reaches (issue 9q, aggregates only: direct 89.5%, top-1 93.8%, confident wrong 2.3%,
out of scope 96.6%, handoff 100%; before it: 85.2 / 91.1 / 2.5 / 88.6 / 96.6), so that a
regression fails; `python -m knowledge bench` prints the distance to the targets. They are not
met yet.

gate4 (tests/data/gate4_*) is a fresh gate from a fourth independent writer (session 5): the first
gate's aggregates were seen while its floors were raised. Measured once at the start of session 5
(direct 87.4%, top-1 91.2%, confident wrong 1.6%, out of scope 80.0%; dialogues 80.2% right, 5.3%
wrong) and once after its changes (89.2 / 92.6 / 1.8 / 90.8; 80.6 / 4.9). Session 6 (training
examples, special classes, two requests, dialogue context), measured once after its merge: gate
93.8 / 96.8 / 1.25 / 97.7, dialogues 92.7 / 2.8; gate4 93.0 / 95.1 / 1.13 / 93.8, dialogues 86.9 /
3.9; dev2 dialogues 94.7 / 0: floors just under.
"""

from pathlib import Path

import pytest

from bot.dialogues import evaluate_dialogues
from knowledge.bench import Peer
from knowledge.evaluate import Report, evaluate, measurable, read_questions
from knowledge.library import Library, load_library
from tests.knowledge.conftest import DAY

DATA = Path(__file__).resolve().parents[1] / "data"
QUESTIONS = DATA / "gate_questions.tsv"
DIALOGUES = DATA / "gate_dialogues.jsonl"
GATE4 = DATA / "gate4_questions.tsv"
GATE4_DIALOGUES = DATA / "gate4_dialogues.jsonl"


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(day=DAY)


@pytest.fixture(scope="module")
def items(library: Library):
    kept, _ = measurable(read_questions(QUESTIONS), library.guides)
    return kept


@pytest.fixture(scope="module")
def report(library: Library, items) -> Report:
    return evaluate(items, library.match)


def test_gate_set_is_there_and_mostly_measurable(items):
    assert len(items) >= 400


def test_gate_questions_floors(report: Report):
    summary = "\n".join(report.lines())  # aggregate numbers only, never the failing lines
    assert report.direct_accuracy >= 0.935, summary  # 94.8 / 97.7 / 1.07 / 95.5 (session 7)
    assert report.top1_accuracy >= 0.965, summary
    assert report.confident_wrong_rate <= 0.013, summary
    assert report.oos_rejection >= 0.95, summary
    assert report.handoff_recall >= 0.96, summary


def test_gate_not_below_the_learned_peer(library: Library, items, report: Report):
    real = list(library.guides.values())
    peer = evaluate(items, Peer(real, library.kb.lexicon, library.matcher.match_phrases).match)
    # Measured on 46 guides: ours 89.5% answered directly (93.8% first-ranked) vs the peer's
    # 85.7%: the "never below the peer", answered directly.
    assert report.direct_accuracy >= peer.top1_accuracy, (report.lines(), peer.lines())
    assert report.top1_accuracy > peer.top1_accuracy
    assert report.confident_wrong_rate < peer.confident_wrong_rate


def test_gate4_questions_floors(library: Library):
    kept, _ = measurable(read_questions(GATE4), library.guides)
    assert len(kept) >= 500
    report = evaluate(kept, library.match)
    summary = "\n".join(report.lines())  # aggregate numbers only, never the failing lines
    assert report.direct_accuracy >= 0.94, summary  # 95.3 / 97.8 / 0.90 / 95.4 (session 7)
    assert report.top1_accuracy >= 0.965, summary
    assert report.confident_wrong_rate <= 0.011, summary
    assert report.oos_rejection >= 0.95, summary
    assert report.handoff_recall >= 0.96, summary


def test_gate4_dialogues_floors(library: Library):
    result = evaluate_dialogues(library, GATE4_DIALOGUES)
    summary = "\n".join(result.lines())
    turns, right, wrong = result.turns, result.right_rate, result.wrong_rate
    assert turns >= 250, summary
    assert right >= 0.87, summary  # 89.4 % / 3.9 % (session 7)
    assert wrong <= 0.045, summary


def test_gate_dialogues_floors(library: Library):
    result = evaluate_dialogues(library, DIALOGUES)
    summary = "\n".join(result.lines())
    # plain numbers in the asserts: pytest would print the report object, failing turns included
    turns, right, wrong = result.turns, result.right_rate, result.wrong_rate
    assert turns >= 150, summary
    assert right >= 0.92, summary  # 93.4 % / 3.1 % (session 7)
    assert wrong <= 0.035, summary


def test_dev2_dialogues_floors(library: Library):
    result = evaluate_dialogues(library, DATA / "dev2_dialogues.jsonl")
    summary = "\n".join(result.lines())
    right, wrong = result.right_rate, result.wrong_rate
    assert right >= 0.94 and wrong <= 0.015, summary  # measured 96.6 % / 0 % (session 7)


@pytest.mark.parametrize(
    ("name", "right", "wrong"),
    # measured 91.0 / 0.9, 81.1 / 7.6 (session 7); dev6 82.3 / 7.5 on arrival (session 8);
    # dev7 81.9 / 7.8 on arrival, 85.8 / 5.0 after tuning on it, dev8 85.9 / 6.4 (session 14);
    # dev9 84.8 / 6.0 on arrival (session 16); dev10 92.8 / 2.9 on arrival (session 17);
    # raised in session 18 to about two points under: dev4 92.8 / 0.9, dev5 89.5 / 2.7,
    # dev6 90.3 / 3.2, dev7 92.2 / 3.2, dev8 89.0 / 3.9, dev9 89.7 / 3.3, dev10 94.8 / 2.6;
    # dev11 87.3 / 6.1 on arrival (session 20)
    [
        ("dev4", 0.90, 0.015),
        ("dev5", 0.87, 0.04),
        ("dev6", 0.88, 0.045),
        ("dev7", 0.90, 0.045),
        ("dev8", 0.87, 0.05),
        ("dev9", 0.87, 0.045),
        ("dev10", 0.92, 0.035),
        ("dev11", 0.86, 0.065),
    ],
)
def test_later_development_dialogues_floors(
    library: Library, name: str, right: float, wrong: float
):
    """dev4 to dev11 (independent writers; dev4-6, dev9 to dev11 half A and dev7 looked at item
    by item, the rest in aggregate)."""
    result = evaluate_dialogues(library, DATA / f"{name}_dialogues.jsonl")
    summary = "\n".join(result.lines())
    assert result.right_rate >= right and result.wrong_rate <= wrong, summary


def test_everyday_questions_are_not_taken_for_procedures(library: Library):
    """Everyday questions (electricity bills, school places, a sick pet, "tóm tắt truyện Tấm
    Cám"): held out, aggregates only. Measured 89.3 % rejected, 10 answered with a guide before
    the other half trained the out-of-scope class, 97.3 % and 4 after (session 15)."""
    report = evaluate(read_questions(DATA / "everyday_questions.tsv"), library.match)
    summary = "\n".join(report.lines())
    rejected, answered = report.oos_rejection, report.oos_answered  # numbers, never the items
    assert report.out_of_scope >= 150, summary
    assert rejected >= 0.93 and answered <= 5, summary


def test_near_domain_questions_are_not_taken_for_procedures(library: Library):
    """Questions in the procedures' words about none of them (a school certificate misspelt, a
    bank transfer sent to the wrong account, the chairman's home address): held out, aggregates
    only. Measured 84.7 % rejected, 8 answered with a guide before the other half trained the
    out-of-scope class, 94.7 % and 6 after (session 21)."""
    report = evaluate(read_questions(DATA / "near_oos_questions.tsv"), library.match)
    summary = "\n".join(report.lines())
    rejected, answered = report.oos_rejection, report.oos_answered  # numbers, never the items
    assert report.out_of_scope >= 150, summary
    assert rejected >= 0.92 and answered <= 7, summary


def test_dev10_questions_floors(library: Library):
    """The tenth writer's 280 questions (session 17): 93.5 % answered right at once, 1.4 %
    confidently wrong, every out-of-scope one rejected on arrival."""
    report = evaluate(read_questions(DATA / "dev10_questions.tsv"), library.match)
    summary = "\n".join(report.lines())
    direct, wrong = report.direct_accuracy, report.confident_wrong_rate
    assert report.in_scope >= 200, summary
    assert direct >= 0.92 and wrong <= 0.015, summary
    assert report.oos_answered == 0 and report.handoff_recall >= 0.95, summary


def test_dev11_questions_floors(library: Library):
    """The eleventh writer's 320 questions (session 20): on arrival 92.7 % answered right at
    once, 0.9 % confidently wrong, 2 of 60 out-of-scope ones answered with a guide."""
    report = evaluate(read_questions(DATA / "dev11_questions.tsv"), library.match)
    summary = "\n".join(report.lines())
    direct, wrong = report.direct_accuracy, report.confident_wrong_rate
    assert report.in_scope >= 200, summary
    assert direct >= 0.91 and wrong <= 0.015, summary
    assert report.oos_answered <= 2 and report.handoff_recall >= 0.95, summary


def test_dev_dialogues_keep_their_procedure(library: Library):
    result = evaluate_dialogues(library, DATA / "dev_dialogues.jsonl")
    summary = "\n".join(result.lines())
    assert result.right_rate >= 0.97 and result.wrong == 0, summary
