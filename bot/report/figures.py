"""The commune's periodic service report (báo cáo cải cách hành chính), from stored data.

Events are the primary source because they survive a citizen's /xoadulieu: the conversation,
its handoffs and ratings rows are erased, but its events stay, detached (conversation_id NULL).
Tables only fill what events cannot tell: feedback status, and handoffs whose turn failed before
its events were committed. `compute_report` is pure, so every figure can be tested exactly.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

from bot.report.model import (
    CHANNEL_NAMES,
    DELETED,
    FEEDBACK_STATUSES,
    OUTCOMES,
    TOP,
    ChannelRow,
    Citizen,
    Counted,
    ServiceReport,
    Stamped,
    Week,
    period_bounds,
)
from bot.report.waits import handoff_requests, wait_stats
from flows.hours import OfficeHours
from flows.ports import VN_TZ, FeedbackItem, Handoff, Rating
from knowledge.maintenance import group_questions
from knowledge.schema import Office

_OUTCOME_OF = {
    "answer": "answered",
    "clarify": "clarified",
    "fallback": "fallback",
    "handoff": "handed_off",
    # another agency's procedure (a pointer) or clearly none of ours: understood, not a miss
    "pointer": "elsewhere",
    "outside": "elsewhere",
}


def _outcomes(period: list[Stamped]) -> list[tuple[dt.datetime, str]]:
    """(time, outcome) of each question: what the bot did in the same turn. A turn's events
    share one timestamp, so (conversation, time) identifies the turn."""
    turns: dict[tuple[int | None, dt.datetime], list[str]] = defaultdict(list)
    for cid, e in period:
        turns[cid, e.at].append(e.kind)
    found = []
    for (_, at), kinds in turns.items():
        for index, kind in enumerate(kinds):
            if kind == "question":
                after = (_OUTCOME_OF[k] for k in kinds[index + 1 :] if k in _OUTCOME_OF)
                found.append((at, next(after, "other")))
    return found


def _weeks(start: dt.date, end: dt.date, outcomes: list[tuple[dt.datetime, str]]) -> list[Week]:
    """Every ISO week touching the period, empty ones too, so the chart's time axis is true."""
    counts: dict[dt.date, Counter[str]] = defaultdict(Counter)
    for at, outcome in outcomes:
        day = at.astimezone(VN_TZ).date()
        counts[day - dt.timedelta(days=day.weekday())][outcome] += 1
    weeks, monday = [], start - dt.timedelta(days=start.weekday())
    while monday <= end:
        iso = monday.isocalendar()
        row = {o: counts[monday][o] for o in OUTCOMES}
        weeks.append(Week(f"{iso.year}-W{iso.week:02d}", monday, row))
        monday += dt.timedelta(days=7)
    return weeks


def compute_report(
    events: Sequence[Stamped],
    handoffs: Sequence[Handoff],
    conversations: Mapping[int, Citizen],
    feedback: Sequence[FeedbackItem],
    ratings: Sequence[Rating],
    office: Office,
    guide_titles: Mapping[str, str],
    start: dt.date,
    end: dt.date,
) -> ServiceReport:
    """Every figure of the report. `events` may reach past the period: later ones only serve
    as replies to (or cancellations of) handoffs requested in it."""
    since, until = period_bounds(start, end)
    # an id missing from the conversations table belongs to a conversation erased meanwhile
    stamped = [(cid if cid in conversations else None, e) for cid, e in events]
    period = [(cid, e) for cid, e in stamped if since <= e.at < until]
    kinds = Counter(e.kind for _, e in period)

    ids: dict[str, set[int]] = defaultdict(set)
    people: dict[str, set[Citizen]] = defaultdict(set)
    asked: Counter[str] = Counter()
    for cid, e in period:
        channel = DELETED if cid is None else conversations[cid].channel
        asked[channel] += e.kind == "question"
        if cid is not None:
            ids[channel].add(cid)
            people[channel].add(conversations[cid])
    channels = [
        ChannelRow(CHANNEL_NAMES.get(ch, ch), len(ids[ch]), len(people[ch]), asked[ch])
        for ch in sorted(ids)
    ]
    detached = sum(1 for cid, _ in period if cid is None)
    if detached:
        channels.append(ChannelRow(DELETED, None, None, asked[DELETED]))

    requests = handoff_requests(
        stamped, handoffs, conversations, OfficeHours(office), (since, until)
    )
    handed = {r.cid for r in requests if r.cid is not None}
    with_question = {cid for cid, e in period if cid is not None and e.kind == "question"}
    # who needed the desk counts in the denominator even without a typed question (a press
    # of «Gặp cán bộ»): otherwise 2 handoffs could sit next to "100% self-served"
    served = with_question | handed
    outcomes = _outcomes(period)
    answered = sum(1 for _, x in outcomes if x == "answered")
    stages = Counter(e.data.get("stage") for _, e in period if e.kind == "fallback")

    answers = Counter(
        str(e.data["guide"]) for _, e in period if e.kind == "answer" and e.data.get("guide")
    )
    top = sorted(answers.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    # a rejected clarification logs clarify_rejected and a fallback in the same turn: one
    # question. Erased citizens' events have lost their text: counted, not grouped.
    queries: dict[tuple[int | None, dt.datetime], str] = {}
    for cid, e in period:
        if e.kind in ("fallback", "clarify_rejected"):
            text = str(e.data.get("query") or "")
            queries[cid, e.at] = queries.get((cid, e.at)) or text
    groups = group_questions((q for q in queries.values() if q), max_examples=1)[:TOP]

    # stored ratings of live conversations, plus rating events of erased ones: each once
    rated: Counter[tuple[str, bool]] = Counter(
        ("bot" if r.guide_id else "staff", r.helpful)
        for r in ratings
        if r.conversation_id is not None and since <= r.created_at < until
    )
    rated.update(
        ("staff" if e.data.get("staff") else "bot", bool(e.data.get("helpful")))
        for cid, e in period
        if cid is None and e.kind == "rating"
    )
    received = [f for f in feedback if since <= f.created_at < until]
    unanswered = [r for r in requests if r.wait_s is None]
    return ServiceReport(
        start=start,
        end=end,
        unit=office.center_name,
        channels=channels,
        conversations=sum(len(v) for v in ids.values()),
        citizens=sum(len(v) for v in people.values()),
        detached_events=detached,
        questions=kinds["question"],
        outcomes={o: sum(1 for _, x in outcomes if x == o) for o in OUTCOMES},
        asked_conversations=len(served),
        contained_conversations=len(served - handed),
        # one definition with the outcome table: a question answered with a guide in its turn
        direct_answers=answered,
        clarifications=kinds["clarify"],
        clarify_rejected=kinds["clarify_rejected"],
        fallbacks_stage1=stages[1],
        fallbacks_stage2=sum(n for stage, n in stages.items() if stage != 1),
        handoffs=len(requests),
        handoff_conversations=len(handed),
        waits_open=wait_stats([r for r in requests if r.open]),
        waits_closed=wait_stats([r for r in requests if not r.open]),
        waits_all=wait_stats(requests),
        unanswered_cancelled=sum(1 for r in unanswered if r.cancelled),
        unanswered_waiting=sum(1 for r in unanswered if r.waiting and not r.cancelled),
        top_guides=[Counted(g, guide_titles.get(g, g), n) for g, n in top],
        unanswered_queries=len(queries),
        unanswered_groups=[Counted(g.representative, g.representative, g.count) for g in groups],
        ratings={(who, ok): rated[who, ok] for who in ("bot", "staff") for ok in (True, False)},
        feedback_total=len(received),
        feedback_status={s: sum(1 for f in received if f.status == s) for s in FEEDBACK_STATUSES},
        weeks=_weeks(start, end, outcomes),
    )
