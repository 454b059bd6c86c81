"""The report dashboard under `/admin/<commune>/bao-cao`: the service report for a chosen period.

The figures are the ones `python -m bot report` writes (bot.report), shown as tables; the charts
are bot.charts' PNGs; the downloads are the same Markdown, CSV and PNG files.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from itertools import groupby
from pathlib import Path

import matplotlib
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.charts import FONT, guides_chart, weekly_chart
from bot.report import csv_rows, num, pct, to_csv, to_markdown
from bot.report.model import ServiceReport
from bot.web.editor.data import EditorData
from bot.web.editor.guard import require
from bot.web.editor.pages import templates
from flows.ports import Clock
from knowledge.holder import LibraryHolder

CHARTS: dict[str, tuple[str, Callable[[ServiceReport, Path], Path]]] = {
    "tuan": ("Câu hỏi theo tuần", weekly_chart),
    "thu-tuc": ("Thủ tục được hỏi nhiều nhất", guides_chart),
}
LONGEST = dt.timedelta(days=366 * 2)


def period(request: Request, today: dt.date) -> tuple[dt.date, dt.date] | str:
    """The chosen period (default: the last 30 days), or why it cannot be used."""
    try:
        end = dt.date.fromisoformat(request.query_params.get("den") or today.isoformat())
        start = dt.date.fromisoformat(
            request.query_params.get("tu") or (end - dt.timedelta(days=29)).isoformat()
        )
    except ValueError:
        return "Ngày phải có dạng NĂM-THÁNG-NGÀY, ví dụ 2026-11-01."
    if start > end:
        return "Ngày bắt đầu phải trước ngày kết thúc."
    if end - start > LONGEST:
        return "Chọn kỳ báo cáo tối đa hai năm."
    return start, end


def chart_png(report: ServiceReport, name: str) -> bytes:
    with (
        tempfile.TemporaryDirectory(prefix="chart-") as scratch,
        matplotlib.rc_context({"font.family": FONT}),
    ):
        path = CHARTS[name][1](report, Path(scratch) / f"{name}.png")
        return path.read_bytes()


def report_routes(
    holders: Callable[[str], LibraryHolder | None], clock: Clock, data: EditorData
) -> list[BaseRoute]:
    pages = templates()

    async def build(request: Request) -> ServiceReport | Response:
        commune = str(request.path_params["commune"])
        holder = holders(commune)
        if holder is None:
            return PlainTextResponse("Không có xã này.", status_code=404)
        chosen = period(request, clock.now().date())
        if isinstance(chosen, str):
            return PlainTextResponse(chosen, status_code=400)
        return await data.report(commune, holder.knowledge, *chosen)

    async def dashboard(request: Request) -> Response:
        commune = str(request.path_params["commune"])
        holder = holders(commune)
        if holder is None:
            return PlainTextResponse("Không có xã này.", status_code=404)
        chosen = period(request, clock.now().date())
        problem = chosen if isinstance(chosen, str) else ""
        if isinstance(chosen, str):
            today = clock.now().date()
            chosen = (today - dt.timedelta(days=29), today)
        report = await data.report(commune, holder.knowledge, *chosen)
        rows = csv_rows(report)
        sections = [(name, list(items)) for name, items in groupby(rows, key=lambda r: r[0])]
        query = f"tu={chosen[0].isoformat()}&den={chosen[1].isoformat()}"
        return pages.TemplateResponse(
            request,
            "editor/report.html",
            {
                "base": f"/admin/{commune}/bao-cao",
                "report": report,
                "sections": sections,
                "query": query,
                "start": chosen[0],
                "end": chosen[1],
                "problem": problem,
                "num": num,
                "pct": pct,
                "charts": {key: title for key, (title, _) in CHARTS.items()},
            },
            status_code=400 if problem else 200,
        )

    def _name(report: ServiceReport, suffix: str) -> str:
        return f"bao-cao-{report.start.isoformat()}-{report.end.isoformat()}{suffix}"

    async def markdown(request: Request) -> Response:
        report = await build(request)
        if isinstance(report, Response):
            return report
        return Response(
            to_markdown(report),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_name(report, ".md")}"'},
        )

    async def csv(request: Request) -> Response:
        report = await build(request)
        if isinstance(report, Response):
            return report
        return Response(
            "\ufeff" + to_csv(report),  # the BOM makes Excel read the Vietnamese as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_name(report, ".csv")}"'},
        )

    async def png(request: Request) -> Response:
        name = str(request.path_params["chart"])
        if name not in CHARTS:
            return PlainTextResponse("Không có biểu đồ này.", status_code=404)
        report = await build(request)
        if isinstance(report, Response):
            return report
        disposition = "attachment" if request.query_params.get("tai") else "inline"
        return Response(
            chart_png(report, name),
            media_type="image/png",
            headers={
                "Content-Disposition": f'{disposition}; filename="{_name(report, f"-{name}.png")}"'
            },
        )

    editor = require("staff")
    return [
        Route("/{commune}/bao-cao", editor(dashboard), methods=["GET"], name="report-dashboard"),
        Route("/{commune}/bao-cao/bao-cao.md", editor(markdown), methods=["GET"]),
        Route("/{commune}/bao-cao/bao-cao.csv", editor(csv), methods=["GET"]),
        Route("/{commune}/bao-cao/bieu-do/{chart}.png", editor(png), methods=["GET"]),
    ]
