"""Command-line interface of the knowledge package: a stable contract for editors and checks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from knowledge.loader import DEFAULT_DIR, load_knowledge


def _validate(args: argparse.Namespace) -> int:
    root = Path(args.dir) if args.dir else DEFAULT_DIR
    result = load_knowledge(root)
    for problem in result.problems:
        print(problem.render(Path.cwd() if root.is_relative_to(Path.cwd()) else None))
    if result.errors or result.knowledge is None:
        return 1
    kb = result.knowledge
    print(f"OK: {len(kb.sources)} tệp hướng dẫn, {len({g.id for g in kb.guides})} thủ tục.",
          file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge")
    sub = parser.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="check every guide file")
    validate.add_argument("dir", nargs="?", help="knowledge directory (default: bundled)")
    validate.set_defaults(func=_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code
