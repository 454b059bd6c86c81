"""Command-line interface of the knowledge package: a stable contract for editors and checks."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from knowledge.library import VN_TZ, KnowledgeError, Library, load_library, today
from knowledge.loader import ReadCache, load_knowledge
from knowledge.samples import sample_problem


def _settings() -> Any:
    """The bot's own settings model (environment and .env), so the CLI reads the same
    KNOWLEDGE_DIR and BOT_DB as the running bot. Imported here, at the entry point: the
    knowledge core itself does not depend on the bot."""
    from pydantic import ValidationError

    from bot.config import Settings, describe_error

    try:
        return Settings()
    except ValidationError as exc:
        print(describe_error(exc), file=sys.stderr)
        raise SystemExit(2) from None


def _root(args: argparse.Namespace) -> Path:
    if getattr(args, "dir", None):
        return Path(args.dir)
    root: Path = _settings().knowledge_dir
    return root


def _communes(args: argparse.Namespace) -> tuple[Path, list[tuple[str, Path | None]]] | None:
    """The province library and each commune's overrides, from --communes (or COMMUNES_FILE
    when no folder is given); None for a plain single knowledge folder."""
    given = getattr(args, "communes", None)
    if given is None and not getattr(args, "dir", None):
        given = _settings().communes_file
    if given is None:
        return None
    from bot.communes import read_communes
    from bot.config import StartupError

    path = Path(given)
    try:
        parsed, _ = read_communes(path)
    except StartupError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None

    def near(value: Path | None) -> Path | None:
        return None if value is None else value if value.is_absolute() else path.parent / value

    root = near(parsed.province_knowledge) or _root(args)
    return root, [(c.id, near(c.knowledge)) for c in parsed.communes]


def _validate_communes(root: Path, communes: list[tuple[str, Path | None]], strict: bool) -> int:
    """Every commune's merged library; a province problem is printed once."""
    cwd = Path.cwd()
    seen: set[str] = set()
    failed = warned = False
    cache = ReadCache()  # the province files are parsed once for every commune
    for commune, overrides in communes:
        result = load_knowledge(root, overrides, commune, cache)
        problems = list(result.problems)
        if result.knowledge is not None and (sample := sample_problem(result.knowledge)):
            problems.append(dataclasses.replace(sample, layer=commune))
        for problem in problems:
            text = problem.render(cwd if problem.path.resolve().is_relative_to(cwd) else None)
            if text not in seen:
                seen.add(text)
                print(text)
        failed |= bool(result.errors) or result.knowledge is None
        warned |= bool(problems)
        if result.knowledge is not None and not result.errors:
            kb = result.knowledge
            count = len({g.id for g in kb.guides})
            print(
                f"OK {commune}: {len(kb.sources)} tệp hướng dẫn, {count} thủ tục.", file=sys.stderr
            )
    if failed:
        return 1
    if strict and warned:
        print("--strict: còn cảnh báo (ví dụ dữ liệu mẫu trong office.yaml)", file=sys.stderr)
        return 1
    return 0


def _validate(args: argparse.Namespace) -> int:
    if (layered := _communes(args)) is not None:
        return _validate_communes(*layered, getattr(args, "strict", False))
    root = _root(args)
    result = load_knowledge(root)
    cwd = Path.cwd()
    problems = list(result.problems)
    if result.knowledge is not None and (sample := sample_problem(result.knowledge)):
        problems.append(sample)
    for problem in problems:
        print(problem.render(cwd if root.resolve().is_relative_to(cwd) else None))
    if result.errors or result.knowledge is None:
        return 1
    if getattr(args, "strict", False) and problems:
        print("--strict: còn cảnh báo (ví dụ dữ liệu mẫu trong office.yaml)", file=sys.stderr)
        return 1
    kb = result.knowledge
    print(
        f"OK: {len(kb.sources)} tệp hướng dẫn, {len({g.id for g in kb.guides})} thủ tục.",
        file=sys.stderr,
    )
    return 0


def _library(args: argparse.Namespace) -> Library | None:
    day = dt.date.fromisoformat(args.date) if args.date else None
    try:
        return load_library(_root(args), day)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        return None


def _match(args: argparse.Namespace) -> int:
    library = _library(args)
    if library is None:
        return 1
    if args.text == ["-"]:
        for line in sys.stdin:
            result = library.match(line.rstrip("\n"), args.top)
            print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
        return 0
    result = library.match(" ".join(args.text), args.top)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(f"ý định: {result.intent}")
        for m in result.matches:
            print(f"  {m.score:.3f}  {m.id}  {m.title}")
    return 0


def _export(args: argparse.Namespace) -> int:
    library = _library(args)
    if library is None:
        return 1
    items = []
    for guide in library.guides.values():
        item = guide.model_dump(mode="json", by_alias=True)
        item["match_phrases"] = library.matcher.match_phrases(guide.id)
        items.append(item)
    json.dump(items, sys.stdout, ensure_ascii=False, indent=1 if not args.json else None)
    print()
    return 0


def _stale(args: argparse.Namespace) -> int:
    from knowledge.maintenance import stale_guides

    result = load_knowledge(_root(args))
    if result.knowledge is None:
        for problem in result.errors:
            print(problem.render(), file=sys.stderr)
        return 1
    day = dt.date.fromisoformat(args.date) if args.date else today()
    items = stale_guides(result.knowledge, day, args.days)
    for item in items:
        print(f"{item.id}\t{item.reviewed_on}\t{item.reason}\t{item.title}")
    if not items:
        print("Không có hướng dẫn nào cần rà soát.", file=sys.stderr)
    return 0


def _unmatched(args: argparse.Namespace) -> int:
    from knowledge.unmatched_cli import print_unmatched

    return print_unmatched(args.db or str(_settings().bot_db), args.since, args.limit)


def _add_example(args: argparse.Namespace) -> int:
    from knowledge.editing import add_example

    now = dt.datetime.now(VN_TZ)
    result = add_example(_root(args), args.guide, " ".join(args.text), args.who, now)
    print(result.message, file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _import_dvc(args: argparse.Namespace) -> int:
    from knowledge.dvc import RecordError, import_record

    try:
        path, missing = import_record(Path(args.record), Path(args.out))
    except RecordError as exc:
        print(f"{args.record}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{args.out}: không ghi được bản nháp ({exc.strerror})", file=sys.stderr)
        return 1
    print(path)
    print(
        f"Bản nháp, chưa dùng được: đọc các ghi chú 'verify', thêm ít nhất {missing} câu hỏi của "
        "người dân vào 'examples', rồi chuyển vào knowledge/guides/<lĩnh vực>/.",
        file=sys.stderr,
    )
    return 0


def _drift(args: argparse.Namespace) -> int:
    from knowledge.dvc import drift_report

    records = Path(args.records)
    if not records.is_dir():
        print(f"{records}: không phải thư mục", file=sys.stderr)
        return 2
    result = load_knowledge(_root(args))
    if result.knowledge is None:
        for problem in result.errors:
            print(problem.render(), file=sys.stderr)
        return 2
    day = dt.date.fromisoformat(args.date) if args.date else today()
    report = drift_report(result.knowledge.active(day), records)
    print(report.render())
    return 1 if report.changed else 0


def _bench(args: argparse.Namespace) -> int:
    from knowledge.bench import run_bench

    sets = [s.strip() for s in args.sets.split(",") if s.strip()] if args.sets else None
    return run_bench(guides=args.guides, queries=args.queries, sets=sets, gate=not args.no_gate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge")
    sub = parser.add_subparsers(dest="command", required=True)

    validate = sub.add_parser("validate", help="check every guide file")
    validate.add_argument(
        "dir", nargs="?", help="knowledge directory (default: KNOWLEDGE_DIR, else bundled)"
    )
    validate.add_argument(
        "--strict", action="store_true", help="warnings fail too (sample office values)"
    )
    validate.add_argument(
        "--communes",
        help="communes file: validate each commune's overrides merged with the province library",
    )
    validate.set_defaults(func=_validate)

    for name, func, helptext in (
        ("match", _match, "match a question to guides"),
        ("export", _export, "print every serving guide as JSON"),
    ):
        cmd = sub.add_parser(name, help=helptext)
        cmd.add_argument("--dir", help="knowledge directory (default: KNOWLEDGE_DIR, else bundled)")
        cmd.add_argument("--date", help="serve guides effective on this day (YYYY-MM-DD)")
        cmd.add_argument("--json", action="store_true", help="JSON output")
        cmd.set_defaults(func=func)
        if name == "match":
            cmd.add_argument("--top", type=int, default=5, help="at most N matches (max 5)")
            cmd.add_argument("text", nargs="+", help="the question, or - to read lines from stdin")

    stale = sub.add_parser("stale", help="guides not reviewed for N days, or ending soon")
    stale.add_argument("--days", type=int, help="default: stale_after_days in office.yaml")
    stale.add_argument("--dir", help="knowledge directory (default: KNOWLEDGE_DIR, else bundled)")
    stale.add_argument("--date", help="as of this day (YYYY-MM-DD)")
    stale.set_defaults(func=_stale)

    unmatched = sub.add_parser("unmatched", help="questions the bot could not place, grouped")
    unmatched.add_argument("--since", help="from this day (YYYY-MM-DD); default: 30 days ago")
    unmatched.add_argument("--db", help="bot database (default: BOT_DB, as for the bot)")
    unmatched.add_argument("--limit", type=int, default=30)
    unmatched.set_defaults(func=_unmatched)

    add = sub.add_parser("add-example", help="add a citizen's question to a guide's examples")
    add.add_argument("guide", help="guide id, e.g. khai-sinh")
    add.add_argument("text", nargs="+", help="the question as citizens type it")
    add.add_argument("--who", default="cli", help="your name, for the edit log")
    add.add_argument("--dir", help="knowledge directory (default: KNOWLEDGE_DIR, else bundled)")
    add.set_defaults(func=_add_example)

    imp = sub.add_parser("import-dvc", help="draft a guide from a national procedure record")
    imp.add_argument("record", help="record JSON from the national procedure database")
    imp.add_argument("--out", default=".", help="folder for the draft (default: current)")
    imp.set_defaults(func=_import_dvc)

    drift = sub.add_parser("drift", help="compare guides with national records (exit 1: drift)")
    drift.add_argument("records", help="folder of record JSON files, matched to guides by code")
    drift.add_argument("--dir", help="knowledge directory (default: KNOWLEDGE_DIR, else bundled)")
    drift.add_argument("--date", help="guides serving on this day (YYYY-MM-DD)")
    drift.set_defaults(func=_drift)

    bench = sub.add_parser("bench", help="accuracy, latency and memory figures")
    bench.add_argument("--guides", type=int, default=2000, help="generated guides for scale")
    bench.add_argument("--queries", type=int, default=2000, help="timed queries per run")
    bench.add_argument(
        "--sets",
        help="comma-separated: questions, holdout, dev2, ..., dev8, gate, gate4, "
        "dialogues-dev, dialogues-dev2, ..., dialogues-dev8, "
        "dialogues-gate, dialogues-gate4, bundled, big (default: all)",
    )
    bench.add_argument("--no-gate", action="store_true", help="never run the independent gate sets")
    bench.set_defaults(func=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code
