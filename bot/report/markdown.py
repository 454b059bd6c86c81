"""The report as Markdown: headings and tables ready to paste into the periodic report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.report.formatting import day, duration, num, pct
from bot.report.model import (
    FEEDBACK_STATUSES,
    OUTCOME_LABELS,
    OUTCOMES,
    WHO,
    ServiceReport,
    ratio,
)

TITLE = "Báo cáo tình hình hỗ trợ người dân qua trợ lý thủ tục hành chính"
CONTAINMENT_FORMULA = (
    "Tỷ lệ trợ lý tự giải quyết = số cuộc trao đổi không có yêu cầu gặp cán bộ trong kỳ ÷ số "
    "cuộc trao đổi có câu hỏi hoặc có yêu cầu gặp cán bộ trong kỳ"
)
DIRECT_FORMULA = (
    "Tỷ lệ câu hỏi được trả lời trực tiếp = số câu hỏi trợ lý trả lời bằng một hướng dẫn thủ "
    "tục ngay khi được hỏi (dòng «Trợ lý trả lời» ở bảng trên) ÷ tổng số câu hỏi"
)
PERCENTILE_NOTE = (
    "Thời gian chờ tính từ lúc người dân yêu cầu đến tin nhắn đầu tiên của cán bộ (kể cả thời "
    "gian ngoài giờ). Trung vị (P50) và P90 theo phương pháp hạng gần nhất: xếp N giá trị tăng "
    "dần, P lấy giá trị thứ ⌈P × N / 100⌉. Trong/ngoài giờ làm việc xét theo thời điểm yêu "
    "cầu so với giờ tiếp nhận hồ sơ của đơn vị."
)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows = rows or [["(không có)", *[""] * (len(header) - 1)]]
    return [*lines, *("| " + " | ".join(row) + " |" for row in rows), ""]


def _share(part: int, whole: int) -> str:
    return f"{pct(ratio(part, whole))} ({num(part)}/{num(whole)})"


def to_markdown(r: ServiceReport, charts: Mapping[str, str] | None = None) -> str:
    """Headings and tables ready to paste into the periodic report; `charts` maps "weekly" and
    "guides" to image file names written next to it."""
    charts = charts or {}
    out = [f"# {TITLE}", "", f"Đơn vị: {r.unit}  ", f"Kỳ báo cáo: {day(r.start)} – {day(r.end)}"]
    out += ["(giờ Việt Nam, UTC+7; từ 00:00 ngày đầu đến hết 23:59:59 ngày cuối kỳ)", ""]
    out += ["## 1. Số lượt trao đổi", ""]
    rows = [
        [c.channel, num(c.conversations), num(c.citizens), num(c.questions)] for c in r.channels
    ]
    rows.append(["**Tổng cộng**", num(r.conversations), num(r.citizens), num(r.questions)])
    out += _table(["Kênh", "Số cuộc trao đổi", "Số người dân", "Số câu hỏi"], rows)
    out.append(
        "Mỗi người dân có một cuộc trao đổi trên mỗi kênh, nên số người dân được đếm theo từng "
        "kênh (một người dùng hai kênh được tính hai lần)."
    )
    if r.detached_events:
        out.append("")
        out.append(
            f"Có {num(r.detached_events)} sự kiện của người dân đã xóa dữ liệu: không còn gắn với "
            "cuộc trao đổi nào nên không đếm được số cuộc trao đổi, số người; câu hỏi của họ vẫn "
            "được tính vào tổng số câu hỏi."
        )
    out += ["", "## 2. Câu hỏi và kết quả trả lời", ""]
    out += [f"Tổng số câu hỏi người dân gửi: **{num(r.questions)}**", ""]
    rows = [[OUTCOME_LABELS[o], num(n), pct(ratio(n, r.questions))] for o, n in r.outcomes.items()]
    out += _table(["Kết quả", "Số câu hỏi", "Tỷ lệ"], [row for row in rows if row[1] != "0"])
    out += [
        f"- **Tỷ lệ trợ lý tự giải quyết (không cần cán bộ): {pct(r.containment)}** "
        f"({num(r.contained_conversations)}/{num(r.asked_conversations)} cuộc trao đổi).",
        f"  Công thức: {CONTAINMENT_FORMULA}. Không tính cuộc trao đổi đã xóa dữ liệu.",
        f"- Tỷ lệ câu hỏi được trả lời trực tiếp: {_share(r.direct_answers, r.questions)}.",
        f"  Công thức: {DIRECT_FORMULA}.",
        "",
    ]
    if "weekly" in charts:
        out += [f"![Câu hỏi theo tuần]({charts['weekly']})", ""]
    out += ["## 3. Làm rõ câu hỏi và câu hỏi chưa hiểu", ""]
    fallbacks = r.fallbacks_stage1 + r.fallbacks_stage2
    out += [
        f"- Số lần trợ lý đưa gợi ý để người dân chọn: {num(r.clarifications)}; trong đó người "
        f"dân chọn «không phải các mục này»: {_share(r.clarify_rejected, r.clarifications)}.",
        f"- Số lần trợ lý chưa hiểu câu hỏi: {num(fallbacks)}; lần đầu (gợi ý hỏi lại): "
        f"{num(r.fallbacks_stage1)}; lần thứ hai trở đi (đưa danh mục, mời gặp cán bộ): "
        f"{num(r.fallbacks_stage2)}.",
        "",
        "## 4. Chuyển cán bộ hỗ trợ",
        "",
        f"Số yêu cầu gặp cán bộ: **{num(r.handoffs)}**, tại {num(r.handoff_conversations)} cuộc "
        f"trao đổi ({pct(r.handoff_share)} số cuộc trao đổi còn lưu).",
        "",
    ]
    stats = (r.waits_open, r.waits_closed, r.waits_all)
    out += _table(
        ["", "Trong giờ làm việc", "Ngoài giờ làm việc", "Tổng"],
        [
            ["Số yêu cầu", *(num(s.requested) for s in stats)],
            ["Được cán bộ trả lời", *(num(s.answered) for s in stats)],
            ["Thời gian chờ trung vị (P50)", *(duration(s.p50_s) for s in stats)],
            ["Thời gian chờ P90", *(duration(s.p90_s) for s in stats)],
            ["Chưa được trả lời", *(num(s.unanswered) for s in stats)],
        ],
    )
    out += [
        f"Chưa được cán bộ trả lời (tính đến lúc lập báo cáo): {num(r.waits_all.unanswered)}, "
        f"trong đó người dân tự hủy yêu cầu: {num(r.unanswered_cancelled)}, còn đang chờ: "
        f"{num(r.unanswered_waiting)}.",
        "",
        PERCENTILE_NOTE,
        "",
        "## 5. Thủ tục được hỏi nhiều nhất",
        "",
    ]
    rows = [[str(i), g.label, num(g.count)] for i, g in enumerate(r.top_guides, 1)]
    out += _table(["STT", "Thủ tục", "Số lượt trợ lý trả lời"], rows)
    if "guides" in charts:
        out += [f"![Thủ tục được hỏi nhiều nhất]({charts['guides']})", ""]
    out += ["## 6. Nhóm câu hỏi trợ lý chưa trả lời được", ""]
    rows = [[str(i), g.label, num(g.count)] for i, g in enumerate(r.unanswered_groups, 1)]
    out += _table(["STT", "Câu hỏi tiêu biểu", "Số lượt"], rows)
    out += [
        f"Gồm {num(r.unanswered_queries)} câu hỏi trợ lý chưa hiểu hoặc người dân từ chối các "
        "gợi ý, gộp các câu hỏi tương tự; thông tin cá nhân đã được che.",
        "",
        "## 7. Đánh giá của người dân",
        "",
    ]
    rows = []
    for who, label in WHO.items():
        good, bad = r.ratings[who, True], r.ratings[who, False]
        rows.append([label, num(good), num(bad), pct(ratio(good, good + bad))])
    out += _table(["Đối tượng", "Hữu ích", "Chưa hữu ích", "Tỷ lệ hữu ích"], rows)
    out += ["## 8. Phản ánh, kiến nghị", ""]
    out += [f"Số phản ánh, kiến nghị tiếp nhận trong kỳ: **{num(r.feedback_total)}**", ""]
    rows = [[FEEDBACK_STATUSES[s], num(n)] for s, n in r.feedback_status.items()]
    out += _table(["Tình trạng", "Số lượng"], rows)
    out += ["## Phụ lục: Câu hỏi theo tuần", ""]
    header = ["Tuần", "Từ ngày", *(OUTCOME_LABELS[o] for o in OUTCOMES), "Tổng"]
    rows = [
        [w.label, day(w.monday), *(num(w.counts[o]) for o in OUTCOMES), num(sum(w.counts.values()))]
        for w in r.weeks
    ]
    return "\n".join(out + _table(header, rows)).rstrip() + "\n"
