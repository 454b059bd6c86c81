"""The service report: every figure from a small database whose answer is known by hand.

The database is seeded through the real Storage API the way the flows write it (events in
turns, handoff rows, ratings, feedback), with events just outside the period, an erased
citizen, a handoff answered after the period ends and a handoff row whose event is missing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.report import (
    CONTAINMENT_FORMULA,
    ChannelRow,
    Counted,
    ServiceReport,
    WaitStats,
    build_report,
    compute_report,
    duration,
    guide_titles,
    load_data,
    nearest_rank,
    num,
    pct,
    to_csv,
    to_markdown,
)
from bot.storage import SqliteStorage
from flows.models import ConversationKey
from flows.ports import VN_TZ, ConversationState, Event, Turn
from knowledge.loader import DEFAULT_DIR, KnowledgeBase, load_knowledge

ROOT = Path(__file__).resolve().parents[2]
START, END = dt.date(2026, 1, 1), dt.date(2026, 6, 30)


def at(
    month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, year: int = 2026
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=VN_TZ)


def question(text: str, intent: str, guide: str | None = None) -> tuple[str, dict[str, Any]]:
    return "question", {"text": text, "intent": intent, "guide": guide, "score": 0.9}


class Seeder:
    def __init__(self, store: SqliteStorage) -> None:
        self.store = store

    async def conv(self, channel: str, user: str) -> int:
        found = await self.store.conversations.get_or_create(
            ConversationKey(channel=channel, user_id=user), at(1, 1)
        )
        return found.id

    async def turn(
        self, cid: int, moment: dt.datetime, *events: tuple[str, dict[str, Any]]
    ) -> None:
        await self.store.commit(
            Turn(
                conversation_id=cid,
                state=ConversationState(),
                seen_at=moment,
                events=[Event(kind=kind, at=moment, data=data) for kind, data in events],
            )
        )

    async def answered(self, cid: int, moment: dt.datetime, text: str, guide: str) -> None:
        await self.turn(cid, moment, question(text, "guide", guide), ("answer", {"guide": guide}))

    async def rate(self, cid: int, moment: dt.datetime, guide: str | None, helpful: bool) -> None:
        await self.store.ratings.add(cid, guide, helpful, moment)
        data = {"guide": guide, "helpful": helpful, "staff": guide is None}
        await self.turn(cid, moment, ("rating", data))

    async def handoff(
        self,
        cid: int,
        moment: dt.datetime,
        *,
        is_open: bool | None,
        wait_s: int | None = None,
        cancel: bool = False,
        logged: bool = True,
        before: tuple[tuple[str, dict[str, Any]], ...] = (),
    ) -> None:
        """Like flows.handoff: a row, the "handoff" event, then the desk's answer or a cancel."""
        h = await self.store.handoffs.open(cid, moment, None, "button")
        data: dict[str, Any] = {"guide": None, "reason": "button", "handoff": h.id}
        if is_open is not None:
            data["open"] = is_open
        if logged:
            await self.turn(cid, moment, *before, ("handoff", data))
        if wait_s is not None:
            answer = moment + dt.timedelta(seconds=wait_s)
            h.status, h.claimed_by, h.claimed_at, h.first_response_at = (
                "claimed",
                "Lan",
                answer,
                answer,
            )
            await self.store.handoffs.save(h)
            first = {"handoff": h.id, "staff": "Lan", "wait_s": float(wait_s)}
            reply = {"handoff": h.id, "delivered": True}
            await self.turn(cid, answer, ("staff_first_response", first), ("staff_reply", reply))
            h.status, h.ended_at = "closed", answer + dt.timedelta(minutes=10)
            await self.store.handoffs.save(h)
            await self.turn(cid, h.ended_at, ("handoff_closed", {"handoff": h.id, "staff": "Lan"}))
        elif cancel:
            h.status, h.ended_at = "cancelled", moment + dt.timedelta(minutes=30)
            await self.store.handoffs.save(h)
            await self.turn(cid, h.ended_at, ("handoff_cancelled", {"handoff": h.id}))


async def seed(store: SqliteStorage) -> None:
    s = Seeder(store)
    a, b = await s.conv("telegram", "1001"), await s.conv("telegram", "1002")
    e, f = await s.conv("telegram", "1003"), await s.conv("telegram", "1004")
    h, o = await s.conv("telegram", "1005"), await s.conv("telegram", "1010")
    x = await s.conv("telegram", "1009")
    c, d = await s.conv("zalo", "z1"), await s.conv("zalo", "z2")
    g, i = await s.conv("zalo", "z3"), await s.conv("zalo", "z4")

    # outside the period: the second before it starts and the first second after it
    await s.answered(o, at(12, 31, 23, 59, 59, year=2025), "khai sinh", "khai-sinh")
    await store.feedback.add(o, "Góp ý trước kỳ báo cáo", at(12, 31, 10, year=2025))
    await s.answered(o, at(7, 1), "khai sinh", "khai-sinh")
    await s.rate(o, at(7, 1, 0, 1), "khai-sinh", True)
    await s.handoff(o, at(7, 1, 8), is_open=True, wait_s=60)
    await store.feedback.add(o, "Góp ý sau kỳ báo cáo", at(7, 1, 9))

    await s.answered(h, at(1, 1), "làm khai sinh", "khai-sinh")  # the very first instant
    # a citizen who later erases their data: events stay, detached, without their words
    await s.answered(x, at(2, 10, 10), "chứng thực bản sao", "chung-thuc-ban-sao")
    await s.turn(
        x,
        at(2, 10, 10, 1),
        question("xin số điện thoại chủ tịch", "none"),
        ("fallback", {"query": "xin số điện thoại chủ tịch", "stage": 1}),
    )
    await s.rate(x, at(2, 10, 10, 2), "chung-thuc-ban-sao", True)
    await s.handoff(x, at(2, 10, 10, 3), is_open=True, wait_s=900)
    await store.feedback.add(x, "Phản ánh của người đã xóa dữ liệu", at(2, 10, 10, 30), name="X")
    await store.conversations.delete(x)

    await s.answered(a, at(3, 2, 8), "đăng ký khai sinh", "khai-sinh")
    await s.answered(a, at(3, 2, 8, 5), "đăng ký kết hôn", "ket-hon")
    await s.turn(a, at(3, 2, 8, 7), ("answer", {"guide": "ket-hon"}))  # a button, no question
    await s.rate(a, at(3, 2, 8, 10), "khai-sinh", True)
    fa = await store.feedback.add(a, "Phản ánh đang xử lý", at(3, 2, 8, 15))

    query = "giấy tờ nhà đất"
    await s.turn(
        b,
        at(3, 3, 9),
        question(query, "clarify", "cap-so-do"),
        ("clarify", {"options": ["cap-so-do", "chung-thuc-hop-dong"], "query": query}),
    )
    await s.turn(  # "Không phải các mục này": both events carry the same query, counted once
        b,
        at(3, 3, 9, 1),
        ("clarify_rejected", {"query": query}),
        ("fallback", {"query": query, "stage": 1}),
    )
    await s.turn(
        b,
        at(3, 3, 9, 2),
        question("thủ tục giấy tờ nhà đất", "none"),
        ("fallback", {"query": "thủ tục giấy tờ nhà đất", "stage": 2}),
    )
    await s.handoff(b, at(3, 3, 9, 3), is_open=True, wait_s=120)
    await s.rate(b, at(3, 3, 9, 21), None, False)
    await store.feedback.add(b, "Phản ánh mới", at(3, 3, 9, 30))

    # Saturday afternoon: outside working hours, answered on Monday morning
    asked = (question("cho tôi gặp cán bộ", "handoff"),)
    await s.handoff(c, at(3, 7, 14), is_open=False, wait_s=150300, before=asked)
    await s.rate(c, at(3, 9, 8), None, True)
    await s.answered(c, at(4, 6, 10), "khai sinh cho con", "khai-sinh")

    for minute, text, stage in ((0, "mấy giờ mở cửa ạ", 1), (1, "giờ mở cửa", 2)):
        fallback = ("fallback", {"query": text, "stage": stage})
        await s.turn(d, at(4, 7, 10, minute), question(text, "none"), fallback)
    await s.turn(
        d,
        at(4, 7, 10, 2),
        question("giấy tờ nhà đất cần gì", "guide", "cap-so-do"),
        ("answer", {"guide": "cap-so-do", "aspect": "docs"}),
    )
    for minute in (3, 4, 5):
        await s.turn(d, at(4, 7, 10, minute), ("answer", {"guide": "cap-so-do"}))
    await s.rate(d, at(4, 7, 10, 6), "cap-so-do", False)
    await s.turn(d, at(4, 7, 10, 7), ("rating_reason", {"guide": "cap-so-do", "reason": "khó"}))
    fd = await store.feedback.add(d, "Phản ánh đã trả lời", at(4, 8, 9))

    await s.handoff(e, at(5, 4, 8), is_open=True, wait_s=60)
    await s.handoff(e, at(5, 4, 14), is_open=True, wait_s=300)
    await s.handoff(e, at(5, 9, 20), is_open=False, wait_s=3600)  # Saturday evening
    await s.handoff(e, at(6, 30, 16, 50), is_open=True, wait_s=53400)  # answered 1 July
    await s.handoff(g, at(5, 10, 9), is_open=None, cancel=True)  # Sunday; no "open" in the event
    # a turn that failed after opening the handoff: the row exists, its event does not
    await s.turn(f, at(6, 29, 10), ("error", {"inbound": "text"}))
    await s.handoff(f, at(6, 29, 10), is_open=None, logged=False)
    await s.answered(i, at(6, 30, 23, 59, 59), "đăng ký thường trú", "thuong-tru")  # last second

    await store.feedback.set_status(fa.ref, "in_progress")
    await store.feedback.set_status(fd.ref, "answered")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    loaded = load_knowledge(DEFAULT_DIR)
    assert loaded.knowledge is not None
    return loaded.knowledge


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "bot.sqlite3"
    store = SqliteStorage(path)
    await store.open()
    try:
        await seed(store)
    finally:
        await store.close()
    yield path


@pytest.fixture
async def report(db: Path, kb: KnowledgeBase) -> ServiceReport:
    return await build_report(db, kb, START, END)


# --- the figures ----------------------------------------------------------------------------


async def test_conversations_by_channel(report: ServiceReport) -> None:
    assert report.channels == [
        ChannelRow("Telegram", 5, 5, 5),
        ChannelRow("Zalo", 4, 4, 6),
        ChannelRow("không rõ (đã xóa dữ liệu)", None, None, 2),
    ]
    assert (report.conversations, report.citizens) == (9, 9)
    assert report.detached_events == 9  # the erased citizen's events inside the period
    assert (report.start, report.end) == (START, END)
    assert report.unit == "Trung tâm Phục vụ hành chính công phường Mẫu"


async def test_questions_and_containment(report: ServiceReport) -> None:
    assert report.questions == 13
    assert report.outcomes == {
        "answered": 7,
        "clarified": 1,
        "elsewhere": 0,
        "fallback": 4,
        "handed_off": 1,
        "other": 0,
    }
    # with a question: A B C D H I; a person was needed by B and C (E, F, G asked nothing)
    # those who pressed «Gặp cán bộ» without a question count too: 9 served, 5 needed a person
    assert (report.contained_conversations, report.asked_conversations) == (4, 9)
    assert report.containment == pytest.approx(4 / 9)
    # one definition: the outcome table's "answered"
    assert report.direct_answers == report.outcomes["answered"] == 7
    assert report.direct_share == pytest.approx(7 / 13)


async def test_clarifications_and_fallbacks(report: ServiceReport) -> None:
    assert (report.clarifications, report.clarify_rejected) == (1, 1)
    assert (report.fallbacks_stage1, report.fallbacks_stage2) == (3, 2)


async def test_handoffs_and_waiting_times(report: ServiceReport) -> None:
    assert report.handoffs == 9  # includes the erased citizen's and the row without an event
    assert report.handoff_conversations == 5  # B C E F G
    assert report.handoff_share == pytest.approx(5 / 9)
    # in hours: 60 120 300 900 53400 (answered on 1 July, after the period) + F still waiting
    assert report.waits_open == WaitStats(6, 5, 300.0, 53400.0)
    # outside: 3600 150300 + G cancelled (its event has no "open": Sunday, from office hours)
    assert report.waits_closed == WaitStats(3, 2, 3600.0, 150300.0)
    assert report.waits_all == WaitStats(9, 7, 900.0, 150300.0)
    assert report.waits_all.unanswered == 2
    assert (report.unanswered_cancelled, report.unanswered_waiting) == (1, 1)


async def test_top_procedures_and_unanswered_groups(
    report: ServiceReport, kb: KnowledgeBase
) -> None:
    titles = guide_titles(kb, END)
    assert [(g.key, g.count) for g in report.top_guides] == [
        ("cap-so-do", 4),
        ("khai-sinh", 3),
        ("ket-hon", 2),
        ("chung-thuc-ban-sao", 1),
        ("thuong-tru", 1),
    ]
    assert [g.label for g in report.top_guides] == [titles[g.key] for g in report.top_guides]
    assert report.top_guides[2].label == "Đăng ký kết hôn"
    assert report.unanswered_queries == 5  # the rejected clarification's query counted once
    assert report.unanswered_groups == [
        Counted("giấy tờ nhà đất", "giấy tờ nhà đất", 2),
        Counted("mấy giờ mở cửa ạ", "mấy giờ mở cửa ạ", 2),
        # the erased citizen's question is counted above, but its text is gone
    ]


async def test_ratings_and_feedback(report: ServiceReport) -> None:
    assert report.ratings == {
        ("bot", True): 2,  # A, and the erased citizen's (from its event: the row is gone)
        ("bot", False): 1,
        ("staff", True): 1,
        ("staff", False): 1,
    }
    assert report.feedback_total == 4
    assert report.feedback_status == {"new": 2, "in_progress": 1, "answered": 1}


async def test_questions_per_iso_week(report: ServiceReport) -> None:
    assert len(report.weeks) == 27
    assert (report.weeks[0].label, report.weeks[0].monday) == ("2026-W01", dt.date(2025, 12, 29))
    assert report.weeks[-1].label == "2026-W27"
    busy = {w.label: w.counts for w in report.weeks if any(w.counts.values())}
    zero = dict.fromkeys(
        ("answered", "clarified", "elsewhere", "fallback", "handed_off", "other"), 0
    )
    assert busy == {
        "2026-W01": {**zero, "answered": 1},
        "2026-W07": {**zero, "answered": 1, "fallback": 1},
        "2026-W10": {**zero, "answered": 2, "clarified": 1, "fallback": 1, "handed_off": 1},
        "2026-W15": {**zero, "answered": 2, "fallback": 2},
        "2026-W27": {**zero, "answered": 1},
    }


async def test_other_agencies_and_out_of_scope_are_not_counted_as_misses(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    """A pointer to the court or "not something we handle" was understood: the commune sees
    them as their own row, not as "chưa hiểu câu hỏi"."""
    store = SqliteStorage(tmp_path / "bot.sqlite3")
    await store.open()
    try:
        s = Seeder(store)
        c = await s.conv("zalo", "2001")
        await s.turn(c, at(2, 3, 9), question("ly hôn ở đâu", "none"), ("pointer", {}))
        await s.turn(c, at(2, 3, 10), question("giá vàng hôm nay", "none"), ("outside", {}))
        await s.turn(c, at(2, 3, 11), question("abc xyz", "none"), ("fallback", {"stage": 1}))
    finally:
        await store.close()
    report = await build_report(tmp_path / "bot.sqlite3", kb, START, END)
    assert (report.outcomes["elsewhere"], report.outcomes["fallback"]) == (2, 1)
    assert "| Việc của nơi khác, ngoài phạm vi | 2 | 66,7% |" in to_markdown(report, {})


async def test_one_day_period_and_pure_computation(db: Path, kb: KnowledgeBase) -> None:
    """The pure function on data read for 7 March only: C's Saturday request."""
    store = SqliteStorage(db)
    await store.open()
    try:
        data = await load_data(store, dt.date(2026, 3, 7), dt.date(2026, 3, 7))
    finally:
        await store.close()
    day = dt.date(2026, 3, 7)
    r = compute_report(
        data.events, data.handoffs, data.conversations, data.feedback, data.ratings,
        kb.office, {}, day, day,
    )  # fmt: skip
    assert r.channels == [ChannelRow("Zalo", 1, 1, 1)]
    assert r.waits_closed == WaitStats(1, 1, 150300.0, 150300.0)  # answered on 9 March
    assert r.outcomes["handed_off"] == 1
    assert r.containment == 0.0
    assert r.top_guides == [] and r.feedback_total == 0


# --- formatting and output ------------------------------------------------------------------


def test_vietnamese_number_formats() -> None:
    assert num(1234567) == "1.234.567"
    assert num(None) == "không xác định"
    assert pct(0.875) == "87,5%"
    assert pct(None) == "—"
    assert duration(45) == "45 giây"
    assert duration(300) == "5 phút"
    assert duration(3600) == "1 giờ"
    assert duration(53400) == "14 giờ 50 phút"
    assert duration(150300) == "1 ngày 17 giờ 45 phút"


def test_nearest_rank() -> None:
    assert nearest_rank([], 50) is None
    assert nearest_rank([7.0], 90) == 7.0
    assert nearest_rank([4.0, 1.0, 3.0, 2.0], 50) == 2.0  # rank ceil(2.0) = 2, no averaging
    values = [float(v) for v in range(1, 71)]
    assert nearest_rank(values, 90) == 63.0  # 0.9 * 70 in floats is 63.000...01: not rank 64


async def test_markdown_shows_the_figures(report: ServiceReport) -> None:
    md = to_markdown(report, {"weekly": "cau-hoi-theo-tuan.png", "guides": "thu-tuc-hoi-nhieu.png"})
    expected = [
        "# Báo cáo tình hình hỗ trợ người dân qua trợ lý thủ tục hành chính",
        "Kỳ báo cáo: 01/01/2026 – 30/06/2026",
        "## 1. Số lượt trao đổi",
        "| Telegram | 5 | 5 | 5 |",
        "| Zalo | 4 | 4 | 6 |",
        "| không rõ (đã xóa dữ liệu) | không xác định | không xác định | 2 |",
        "| **Tổng cộng** | 9 | 9 | 13 |",
        "Tổng số câu hỏi người dân gửi: **13**",
        "| Trợ lý trả lời | 7 | 53,8% |",
        "| Chưa hiểu câu hỏi | 4 | 30,8% |",
        "**Tỷ lệ trợ lý tự giải quyết (không cần cán bộ): 44,4%** (4/9 cuộc trao đổi)",
        CONTAINMENT_FORMULA,
        "Tỷ lệ câu hỏi được trả lời trực tiếp: 53,8% (7/13)",
        "«không phải các mục này»: 100,0% (1/1)",
        "chưa hiểu câu hỏi: 5; lần đầu (gợi ý hỏi lại): 3; lần thứ hai trở đi",
        "Số yêu cầu gặp cán bộ: **9**, tại 5 cuộc trao đổi (55,6% số cuộc trao đổi còn lưu)",
        "| Số yêu cầu | 6 | 3 | 9 |",
        "| Được cán bộ trả lời | 5 | 2 | 7 |",
        "| Thời gian chờ trung vị (P50) | 5 phút | 1 giờ | 15 phút |",
        "| Thời gian chờ P90 | 14 giờ 50 phút | 1 ngày 17 giờ 45 phút | 1 ngày 17 giờ 45 phút |",
        "| Chưa được trả lời | 1 | 1 | 2 |",
        "người dân tự hủy yêu cầu: 1, còn đang chờ: 1",
        "phương pháp hạng gần nhất",
        "| 1 | Đăng ký đất đai, cấp Giấy chứng nhận quyền sử dụng đất lần đầu (sổ đỏ) | 4 |",
        "| 2 | Đăng ký khai sinh | 3 |",
        "| 3 | Đăng ký kết hôn | 2 |",
        "| 1 | giấy tờ nhà đất | 2 |",
        "| Trợ lý (hướng dẫn thủ tục) | 2 | 1 | 66,7% |",
        "| Cán bộ hỗ trợ | 1 | 1 | 50,0% |",
        "Số phản ánh, kiến nghị tiếp nhận trong kỳ: **4**",
        "| Mới tiếp nhận | 2 |",
        "| Đang xử lý | 1 |",
        "| Đã trả lời | 1 |",
        "| 2026-W10 | 02/03/2026 | 2 | 1 | 0 | 1 | 1 | 0 | 5 |",
        "![Câu hỏi theo tuần](cau-hoi-theo-tuan.png)",
        "![Thủ tục được hỏi nhiều nhất](thu-tuc-hoi-nhieu.png)",
    ]
    missing = [line for line in expected if line not in md]
    assert missing == []
    assert "![" not in to_markdown(report)  # no charts, no image links


async def test_csv_parses_with_every_figure(report: ServiceReport) -> None:
    rows = list(csv.reader(io.StringIO(to_csv(report))))
    assert rows[0] == ["section", "metric", "value"]
    assert all(len(row) == 3 for row in rows)
    values = {(section, metric): value for section, metric, value in rows[1:]}
    assert len(values) == len(rows) - 1  # no duplicate keys
    s1, s2, s4 = "1. Số lượt trao đổi", "2. Câu hỏi và kết quả trả lời", "4. Chuyển cán bộ hỗ trợ"
    assert values[s1, "Số cuộc trao đổi – Telegram"] == "5"
    assert values[s1, "Số câu hỏi – Zalo"] == "6"
    assert values[s1, "Số cuộc trao đổi – không rõ (đã xóa dữ liệu)"] == ""
    assert values[s2, "Tổng số câu hỏi"] == "13"
    assert values[s2, "Tỷ lệ trợ lý tự giải quyết (%)"] == "44.44"
    assert values[s2, "Tỷ lệ câu hỏi được trả lời trực tiếp (%)"] == "53.85"
    assert values[s4, "Tỷ lệ cuộc trao đổi cần cán bộ (%)"] == "55.56"
    assert values[s4, "Thời gian chờ P50 (giây) – trong giờ"] == "300.00"
    assert values[s4, "Thời gian chờ P90 (giây) – ngoài giờ"] == "150300.00"
    assert values["5. Thủ tục được hỏi nhiều nhất", "3. Đăng ký kết hôn (ket-hon)"] == "2"
    assert values["6. Nhóm câu hỏi trợ lý chưa trả lời được", "2. mấy giờ mở cửa ạ"] == "2"
    assert values["7. Đánh giá của người dân", "Cán bộ hỗ trợ – chưa hữu ích"] == "1"
    assert values["8. Phản ánh, kiến nghị", "Đang xử lý"] == "1"


# --- the command line -----------------------------------------------------------------------


def run_cli(db: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOT_DB": str(db), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "report", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a real chart, not an empty canvas


async def test_cli_writes_report_and_charts(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_cli(
        db, "--from", "2026-01-01", "--to", "2026-06-30", "--out", str(out), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    report = out / "bao-cao-2026-01-01-2026-06-30.md"
    text = report.read_text(encoding="utf-8")
    assert "**Tỷ lệ trợ lý tự giải quyết (không cần cán bộ): 44,4%**" in text
    assert "![Câu hỏi theo tuần](cau-hoi-theo-tuan.png)" in text
    assert_png(out / "cau-hoi-theo-tuan.png")
    assert_png(out / "thu-tuc-hoi-nhieu.png")
    assert str(report) in done.stdout


async def test_cli_csv_and_stdout(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    args = ("--from", "2026-01-01", "--to", "2026-06-30")
    done = run_cli(db, *args, "--format", "csv", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    raw = (out / "bao-cao-2026-01-01-2026-06-30.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())  # spreadsheet programs then read it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["section", "metric", "value"]

    before = set(tmp_path.iterdir())
    done = run_cli(db, *args, cwd=tmp_path)  # no --out: the report on stdout, nothing written
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Báo cáo tình hình hỗ trợ người dân")
    assert "| **Tổng cộng** | 9 | 9 | 13 |" in done.stdout
    assert set(tmp_path.iterdir()) == before


async def test_cli_rejects_bad_periods_and_missing_db(db: Path, tmp_path: Path) -> None:
    done = run_cli(db, "--from", "2026-07-01", "--to", "2026-06-30", cwd=tmp_path)
    assert done.returncode == 2
    assert "--from 2026-07-01 is after --to 2026-06-30" in done.stderr
    done = run_cli(db, "--from", "2026-13-01", "--to", "2026-06-30", cwd=tmp_path)
    assert done.returncode == 2
    assert "is not a date YYYY-MM-DD" in done.stderr
    missing = tmp_path / "none.sqlite3"
    args = ("--from", "2026-01-01", "--to", "2026-06-30", "--db", str(missing))
    done = run_cli(db, *args, cwd=tmp_path)
    assert done.returncode == 2
    assert "no database at" in done.stderr
    assert not missing.exists()


async def test_one_definition_per_figure(tmp_path: Path, kb: KnowledgeBase) -> None:
    """An aspect answer ("khai sinh mất bao lâu" matched after removing the aspect words) is
    answered though its question's intent is not "guide"; a press of «Gặp cán bộ» without a
    question still needed a person. Neither may make the figures contradict each other."""
    store = SqliteStorage(tmp_path / "defs.sqlite3")
    await store.open()
    try:
        s = Seeder(store)
        a, b = await s.conv("telegram", "1"), await s.conv("zalo", "2")
        await s.turn(
            a, at(3, 2, 9), question("khai sinh mất bao lâu", "clarify", "khai-sinh"),
            ("answer", {"guide": "khai-sinh", "aspect": "time"}),
        )  # fmt: skip
        await s.handoff(b, at(3, 2, 10), is_open=True, wait_s=60)
        report = await build_report(store.path, kb, START, END)
    finally:
        await store.close()
    assert report.outcomes["answered"] == report.direct_answers == 1
    assert report.handoffs == 1
    assert report.containment == pytest.approx(1 / 2)  # not 100% next to a handoff
