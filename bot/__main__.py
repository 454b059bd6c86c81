"""`python -m bot ...`: only parses arguments and hands over to bot.app."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import sys
from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import SettingsError

from bot.config import Settings, StartupError, describe_error
from bot.logs import configure_logging
from bot.storage import is_postgres, sqlite_path


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time like 2026-12-01T09:00+07:00"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, e.g. +07:00")
    return moment


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("PTB_TIMEDELTA", "1")  # python-telegram-bot: durations as timedelta
    parser = argparse.ArgumentParser(prog="python -m bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the configured channels (the console when none is configured)")
    sub.add_parser("console", help="chat in this terminal")
    sub.add_parser("send", help="the sender process (started by `run`; see bot.relay)")
    simulate = sub.add_parser("simulate", help="JSON lines in, JSON lines out (for tests)")
    simulate.add_argument("--db", type=Path, help="SQLite file to continue from (default: fresh)")
    simulate.add_argument(
        "--clock", type=_moment, help="start of the simulated time, ISO 8601 (default: now)"
    )
    bench = sub.add_parser("bench", help="throughput and latency of the core")
    bench.add_argument("--communes", type=int, default=100)
    bench.add_argument("--citizens", type=int, default=20, help="concurrent citizens per commune")
    bench.add_argument("--messages", type=int, default=5, help="messages per citizen")
    bench.add_argument("--synchronous", choices=["NORMAL", "FULL"], default="NORMAL")
    bench.add_argument("--db", help="postgresql:// URL or SQLite file (default: a fresh file)")
    bench.add_argument("--processes", type=int, default=1, help="worker processes, one database")
    bench.add_argument(
        "--rate", type=float, help="open loop: messages/s offered in total (default: closed loop)"
    )
    migrate = sub.add_parser("migrate", help="copy a commune's data from SQLite to PostgreSQL")
    migrate.add_argument("--from", dest="source", required=True, metavar="sqlite:PATH")
    migrate.add_argument("--to", dest="target", required=True, metavar="postgresql://...")
    migrate.add_argument("--commune", default="default")
    bench_web = sub.add_parser("bench-web", help="concurrent web chat sessions over HTTP")
    bench_web.add_argument("--sessions", type=int, default=200)
    bench_web.add_argument("--messages", type=int, default=5, help="messages per session")
    bench_web.add_argument("--think", type=float, default=5.0, help="seconds between messages")
    report = sub.add_parser("report", help="service report for a period (Vietnamese)")
    report.add_argument("--from", dest="start", type=_date, required=True, metavar="YYYY-MM-DD")
    report.add_argument("--to", dest="end", type=_date, required=True, metavar="YYYY-MM-DD")
    report.add_argument("--format", choices=["md", "csv"], default="md")
    report.add_argument("--out", type=Path, help="folder for the report file and PNG charts")
    report.add_argument("--db", help="SQLite file or postgresql:// URL (default: BOT_DB)")
    admin = sub.add_parser("admin", help="web console accounts")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    create = admin_sub.add_parser(
        "create", help="create a console account (password from CONSOLE_ADMIN_PASSWORD or a prompt)"
    )
    create.add_argument("--username", required=True)
    create.add_argument("--commune", action="append", default=[], help="commune id (repeatable)")
    create.add_argument("--role", choices=["staff", "editor", "admin"], default="admin")
    create.add_argument("--display-name", default="", help="the name citizens see")
    create.add_argument("--province-admin", action="store_true", help="may act in every commune")
    create.add_argument("--db", help="SQLite file or postgresql:// URL (default: BOT_DB)")
    args = parser.parse_args(argv)
    if args.command == "report" and args.start > args.end:
        parser.error(f"--from {args.start} is after --to {args.end}")
    if args.command == "bench":
        from bot.bench import main as bench_main

        return bench_main(
            args.citizens,
            args.messages,
            args.synchronous,
            args.communes,
            args.db,
            args.processes,
            args.rate,
        )
    if args.command == "migrate":
        from bot.storage.copy import main as migrate_main

        return migrate_main(args.source, args.target, args.commune)
    if args.command == "send":
        from bot.relay import main as send_main

        return send_main()
    if args.command == "bench-web":
        from bot.channels.web.bench import main as bench_web_main

        return bench_web_main(args.sessions, args.messages, args.think)

    try:
        settings = Settings()
    except ValidationError as exc:
        print(describe_error(exc), file=sys.stderr)
        return 2
    except SettingsError as exc:  # a value pydantic-settings could not even decode
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "admin":
        from bot.web.accounts_cli import run_create

        communes = args.commune or ([] if args.province_admin else ["default"])
        db = args.db or settings.bot_db
        return run_create(
            db if is_postgres(db) else Path(sqlite_path(db)),
            args.username,
            communes,
            args.role,
            args.display_name,
            args.province_admin,
            os.environ,
            sys.stderr,
        )
    if args.command == "report":
        from bot.report import run_report

        db = args.db or settings.bot_db
        return run_report(settings.knowledge_dir, db, args.start, args.end, args.format, args.out)
    configure_logging(settings, sys.stderr)
    from bot import app
    from knowledge.library import KnowledgeError  # here: `send` must not import the guides

    try:
        if args.command == "simulate":
            logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))
            asyncio.run(app.run_simulation(settings, args.db, start=args.clock))
        elif args.command == "run" and (
            settings.communes_file
            or settings.telegram_enabled
            or settings.zalo_enabled
            or settings.web_console
            or settings.web_chat
        ):
            asyncio.run(app.run_bot(settings))
        else:
            asyncio.run(app.run_console(settings))
    except StartupError as exc:
        print(f"start-up error: {exc}", file=sys.stderr)
        return 2
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        print("The guides do not validate; fix the files above.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
