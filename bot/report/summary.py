"""The short report staff get in Telegram with /baocao: the last 30 days in a few lines."""

from __future__ import annotations

import datetime as dt

from bot.report.figures import compute_report
from bot.report.formatting import day, duration, num, pct
from bot.report.load import load_data
from bot.report.model import ServiceReport
from flows.ports import Storage
from knowledge.loader import KnowledgeBase

DAYS = 30


async def recent_report(
    storage: Storage, kb: KnowledgeBase, today: dt.date, days: int = DAYS
) -> ServiceReport:
    start = today - dt.timedelta(days=days - 1)
    data = await load_data(storage, start, today)
    titles = {guide.id: guide.title for guide in kb.guides}
    return compute_report(
        data.events, data.handoffs, data.conversations, data.feedback, data.ratings,
        kb.office, titles, start, today,
    )  # fmt: skip


def summary_text(report: ServiceReport) -> str:
    top = ", ".join(f"{g.label} ({num(g.count)})" for g in report.top_guides[:3]) or "—"
    helpful = report.ratings.get(("bot", True), 0)
    unhelpful = report.ratings.get(("bot", False), 0)
    return "\n".join(
        [
            f"Báo cáo {day(report.start)} – {day(report.end)}",
            f"• Lượt trao đổi: {num(report.conversations)}; câu hỏi: {num(report.questions)}",
            f"• Trợ lý tự giải quyết: {pct(report.containment)} số cuộc trao đổi có câu hỏi"
            " hoặc cần cán bộ (không có yêu cầu gặp cán bộ)",
            f"• Câu hỏi được trợ lý trả lời ngay: {num(report.direct_answers)}"
            f" ({pct(report.direct_share)})",
            f"• Chuyển cán bộ: {num(report.handoffs)} lần; chờ trung vị {duration(report.waits_all.p50_s)},"
            f" 90% trong vòng {duration(report.waits_all.p90_s)}",
            f"• Chưa được trả lời: {num(report.waits_all.unanswered)}",
            f"• Hỏi nhiều nhất: {top}",
            f"• Đánh giá trợ lý: {num(helpful)} hữu ích, {num(unhelpful)} chưa hữu ích",
            f"• Phản ánh, kiến nghị nhận được: {num(report.feedback_total)}",
        ]
    )
