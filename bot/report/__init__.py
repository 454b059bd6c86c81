"""The commune's service report (`python -m bot report`): figures computed from stored data,
rendered as Markdown or CSV.

model: what the report holds; waits: handoff requests and waiting times; figures: the pure
computation; load: reading the database; formatting, markdown, spreadsheet: rendering;
cli: the command.
"""

from bot.report.cli import build_report, guide_titles, run_report
from bot.report.figures import compute_report
from bot.report.formatting import day, duration, num, pct
from bot.report.load import ReportData, load_data
from bot.report.markdown import (
    CONTAINMENT_FORMULA,
    DIRECT_FORMULA,
    PERCENTILE_NOTE,
    TITLE,
    to_markdown,
)
from bot.report.model import (
    CHANNEL_NAMES,
    DELETED,
    FEEDBACK_STATUSES,
    OUTCOME_LABELS,
    OUTCOMES,
    TOP,
    WHO,
    ChannelRow,
    Citizen,
    Counted,
    ServiceReport,
    Stamped,
    WaitStats,
    Week,
    period_bounds,
    ratio,
)
from bot.report.spreadsheet import csv_rows, to_csv
from bot.report.waits import nearest_rank

__all__ = [
    "CHANNEL_NAMES",
    "CONTAINMENT_FORMULA",
    "DELETED",
    "DIRECT_FORMULA",
    "FEEDBACK_STATUSES",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "PERCENTILE_NOTE",
    "TITLE",
    "TOP",
    "WHO",
    "ChannelRow",
    "Citizen",
    "Counted",
    "ReportData",
    "ServiceReport",
    "Stamped",
    "WaitStats",
    "Week",
    "build_report",
    "compute_report",
    "csv_rows",
    "day",
    "duration",
    "guide_titles",
    "load_data",
    "nearest_rank",
    "num",
    "pct",
    "period_bounds",
    "ratio",
    "run_report",
    "to_csv",
    "to_markdown",
]
