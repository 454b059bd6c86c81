"""The report as CSV: machine-readable values for spreadsheets."""

from __future__ import annotations

import csv
import io

from bot.report.model import FEEDBACK_STATUSES, OUTCOME_LABELS, OUTCOMES, WHO, ServiceReport


def csv_rows(r: ServiceReport) -> list[tuple[str, str, str]]:
    """Machine-readable values (plain integers, percentages with a dot, seconds) for
    spreadsheets; an empty value means it cannot be determined from the stored data."""

    def val(value: float | None) -> str:
        return "" if value is None else (str(value) if isinstance(value, int) else f"{value:.2f}")

    def rate(value: float | None) -> str:
        return val(None if value is None else value * 100)

    rows = [
        ("Kỳ báo cáo", "Từ ngày", r.start.isoformat()),
        ("Kỳ báo cáo", "Đến ngày", r.end.isoformat()),
    ]
    s = "1. Số lượt trao đổi"
    for c in r.channels:
        rows += [(s, f"Số cuộc trao đổi – {c.channel}", val(c.conversations))]
        rows += [(s, f"Số người dân – {c.channel}", val(c.citizens))]
        rows += [(s, f"Số câu hỏi – {c.channel}", val(c.questions))]
    rows += [
        (s, "Tổng số cuộc trao đổi", val(r.conversations)),
        (s, "Tổng số người dân", val(r.citizens)),
    ]
    s = "2. Câu hỏi và kết quả trả lời"
    rows += [(s, "Tổng số câu hỏi", val(r.questions))]
    rows += [(s, f"Câu hỏi – {OUTCOME_LABELS[o]}", val(n)) for o, n in r.outcomes.items()]
    rows += [
        (s, "Cuộc trao đổi có câu hỏi hoặc yêu cầu gặp cán bộ", val(r.asked_conversations)),
        (s, "Trong đó không cần cán bộ", val(r.contained_conversations)),
        (s, "Tỷ lệ trợ lý tự giải quyết (%)", rate(r.containment)),
        (s, "Câu hỏi được trả lời trực tiếp", val(r.direct_answers)),
        (s, "Tỷ lệ câu hỏi được trả lời trực tiếp (%)", rate(r.direct_share)),
    ]
    s = "3. Làm rõ câu hỏi và câu hỏi chưa hiểu"
    rows += [
        (s, "Số lần đưa gợi ý", val(r.clarifications)),
        (s, "Số lần gợi ý bị từ chối", val(r.clarify_rejected)),
        (s, "Chưa hiểu câu hỏi – lần đầu", val(r.fallbacks_stage1)),
        (s, "Chưa hiểu câu hỏi – lần thứ hai trở đi", val(r.fallbacks_stage2)),
    ]
    s = "4. Chuyển cán bộ hỗ trợ"
    rows += [
        (s, "Số yêu cầu gặp cán bộ", val(r.handoffs)),
        (s, "Số cuộc trao đổi có yêu cầu gặp cán bộ", val(r.handoff_conversations)),
        (s, "Tỷ lệ cuộc trao đổi cần cán bộ (%)", rate(r.handoff_share)),
    ]
    for label, w in (
        ("trong giờ", r.waits_open),
        ("ngoài giờ", r.waits_closed),
        ("tổng", r.waits_all),
    ):
        rows += [
            (s, f"Số yêu cầu – {label}", val(w.requested)),
            (s, f"Được trả lời – {label}", val(w.answered)),
            (s, f"Thời gian chờ P50 (giây) – {label}", val(w.p50_s)),
            (s, f"Thời gian chờ P90 (giây) – {label}", val(w.p90_s)),
            (s, f"Chưa được trả lời – {label}", val(w.unanswered)),
        ]
    rows += [
        (s, "Chưa được trả lời – người dân tự hủy", val(r.unanswered_cancelled)),
        (s, "Chưa được trả lời – còn đang chờ", val(r.unanswered_waiting)),
    ]
    s = "5. Thủ tục được hỏi nhiều nhất"
    rows += [(s, f"{i}. {g.label} ({g.key})", val(g.count)) for i, g in enumerate(r.top_guides, 1)]
    s = "6. Nhóm câu hỏi trợ lý chưa trả lời được"
    rows += [(s, f"{i}. {g.label}", val(g.count)) for i, g in enumerate(r.unanswered_groups, 1)]
    s = "7. Đánh giá của người dân"
    for who, label in WHO.items():
        rows += [(s, f"{label} – hữu ích", val(r.ratings[who, True]))]
        rows += [(s, f"{label} – chưa hữu ích", val(r.ratings[who, False]))]
    s = "8. Phản ánh, kiến nghị"
    rows += [(s, "Tổng số tiếp nhận", val(r.feedback_total))]
    rows += [(s, FEEDBACK_STATUSES[k], val(n)) for k, n in r.feedback_status.items()]
    s = "Phụ lục: Câu hỏi theo tuần"
    for week in r.weeks:
        rows += [(s, f"{week.label} – {OUTCOME_LABELS[o]}", val(week.counts[o])) for o in OUTCOMES]
    return rows


def to_csv(report: ServiceReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("section", "metric", "value"))
    writer.writerows(csv_rows(report))
    return buffer.getvalue()
