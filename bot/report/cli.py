"""`python -m bot report`: build the report from a database and write it out."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

from bot.report.figures import compute_report
from bot.report.load import load_data
from bot.report.markdown import to_markdown
from bot.report.model import ServiceReport
from bot.report.spreadsheet import to_csv
from bot.storage import is_postgres, open_database, sqlite_path
from flows.models import DEFAULT_COMMUNE
from knowledge.loader import KnowledgeBase, load_knowledge


def guide_titles(kb: KnowledgeBase, on: dt.date) -> dict[str, str]:
    """Titles as published on the last day of the period (a guide may have dated versions)."""
    titles: dict[str, str] = {}
    for guide in kb.guides:
        if guide.id not in titles or guide.active_on(on):
            titles[guide.id] = guide.title
    return titles


async def build_report(
    db: str | Path,
    kb: KnowledgeBase,
    start: dt.date,
    end: dt.date,
    commune: str = DEFAULT_COMMUNE,
) -> ServiceReport:
    """`db`: a SQLite path or a postgresql:// URL; the report covers one commune."""
    database = open_database(db)
    await database.open()
    try:
        data = await load_data(database.for_commune(commune), start, end)
    finally:
        await database.close()
    return compute_report(
        data.events,
        data.handoffs,
        data.conversations,
        data.feedback,
        data.ratings,
        kb.office,
        guide_titles(kb, end),
        start,
        end,
    )


def run_report(
    knowledge_dir: Path,
    db: str | Path,
    start: dt.date,
    end: dt.date,
    fmt: str,
    out: Path | None,
) -> int:
    """`python -m bot report`: the report on stdout, or the file and its charts in `out`.
    `db`: a SQLite file or a postgresql:// URL."""
    if (
        not is_postgres(db) and not Path(sqlite_path(db)).is_file()
    ):  # opening would create an empty database and report zeros
        print(f"no database at {db} (set BOT_DB or pass --db)", file=sys.stderr)
        return 2
    loaded = load_knowledge(knowledge_dir)
    if loaded.knowledge is None:
        for problem in loaded.problems:
            print(problem.render(knowledge_dir), file=sys.stderr)
        return 2
    report = asyncio.run(build_report(db, loaded.knowledge, start, end))
    if out is None:
        sys.stdout.write(to_csv(report) if fmt == "csv" else to_markdown(report))
        return 0
    from bot.charts import write_charts

    out.mkdir(parents=True, exist_ok=True)
    charts = write_charts(report, out)
    path = out / f"bao-cao-{start.isoformat()}-{end.isoformat()}.{fmt}"
    if fmt == "csv":  # with a BOM, so spreadsheet programs read the Vietnamese text as UTF-8
        path.write_text(to_csv(report), encoding="utf-8-sig")
    else:
        path.write_text(to_markdown(report, {k: p.name for k, p in charts.items()}), "utf-8")
    for written in (path, *charts.values()):
        print(written)
    return 0
