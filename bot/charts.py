"""PNG charts for the service report, to paste next to its tables.

Drawn on matplotlib Figure objects with the Agg canvas (no pyplot, no display, no global state),
in DejaVu Sans: it ships with matplotlib and has every Vietnamese diacritic, so labels never
turn into empty boxes on a server without fonts.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.report import OUTCOME_LABELS, OUTCOMES, ServiceReport, day, num

WEEKLY = "cau-hoi-theo-tuan.png"
GUIDES = "thu-tuc-hoi-nhieu.png"
DPI = 150
FONT = "DejaVu Sans"
COLORS = {
    "answered": "#2e7d32",
    "clarified": "#f9a825",
    "elsewhere": "#6a1b9a",
    "fallback": "#ef6c00",
    "handed_off": "#1565c0",
    "other": "#9e9e9e",
}
EMPTY = "Không có dữ liệu trong kỳ báo cáo"


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _period(report: ServiceReport) -> str:
    return f"Kỳ báo cáo: {day(report.start)} – {day(report.end)}"


def weekly_chart(report: ServiceReport, path: Path) -> Path:
    """Questions per ISO week, stacked by what the bot did with them. Call inside the font
    context of write_charts (text takes its font when it is created)."""
    figure = _figure(max(8.0, 0.38 * len(report.weeks) + 3), 5.0)
    axes = figure.add_subplot()
    labels = [w.label for w in report.weeks]
    shown = [o for o in OUTCOMES if o != "other" or any(w.counts[o] for w in report.weeks)]
    bottom = [0] * len(labels)
    for outcome in shown:
        values = [w.counts[outcome] for w in report.weeks]
        axes.bar(
            labels,
            values,
            bottom=bottom,
            label=OUTCOME_LABELS[outcome],
            color=COLORS[outcome],
            width=0.75,
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_title(f"Câu hỏi của người dân theo tuần\n{_period(report)}", fontsize=13)
    axes.set_xlabel("Tuần (theo ISO 8601)", fontsize=11)
    axes.set_ylabel("Số câu hỏi", fontsize=11)
    axes.tick_params(axis="x", labelrotation=90, labelsize=9)
    axes.tick_params(axis="y", labelsize=10)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    if not any(bottom):
        axes.text(0.5, 0.5, EMPTY, transform=axes.transAxes, ha="center", fontsize=12)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=10, frameon=False)
    figure.savefig(path, format="png")
    return path


def guides_chart(report: ServiceReport, path: Path) -> Path:
    """The procedures the bot explained most, most asked on top."""
    guides = list(reversed(report.top_guides))
    figure = _figure(10.0, max(3.0, 0.55 * len(guides) + 1.8))
    axes = figure.add_subplot()
    if guides:
        names = [textwrap.shorten(g.label, 70, placeholder="…") for g in guides]
        labels = ["\n".join(textwrap.wrap(name, 38)) for name in names]
        bars = axes.barh(labels, [g.count for g in guides], color="#1565c0")
        axes.bar_label(bars, labels=[num(g.count) for g in guides], padding=3)
        axes.margins(x=0.12)
    else:
        axes.set_yticks([])
        axes.text(0.5, 0.5, EMPTY, transform=axes.transAxes, ha="center", fontsize=12)
    axes.set_title(f"Thủ tục được hỏi nhiều nhất\n{_period(report)}", fontsize=13)
    axes.set_xlabel("Số lượt trợ lý trả lời", fontsize=11)
    axes.tick_params(axis="y", labelsize=10)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="x", alpha=0.3)
    axes.set_axisbelow(True)
    figure.savefig(path, format="png")
    return path


def write_charts(report: ServiceReport, out: Path) -> dict[str, Path]:
    """Both charts in `out`, keyed as to_markdown expects ("weekly", "guides")."""
    with matplotlib.rc_context({"font.family": FONT}):
        return {
            "weekly": weekly_chart(report, out / WEEKLY),
            "guides": guides_chart(report, out / GUIDES),
        }
