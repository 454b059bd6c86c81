"""Changes to guide files made through the bot or the CLI, validated and logged.

The file is edited as text (not re-dumped from YAML) so the editors' comments and layout stay as
they wrote them. A change that would not validate is undone. Every change is appended to an
edit log (who, when, what) kept beside the guides.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from knowledge.loader import GuideSource, load_knowledge
from knowledge.normalize import fold

EDIT_LOG = "edit-log.jsonl"
_TOP_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*:")


@dataclass(frozen=True)
class EditResult:
    ok: bool
    message: str


def _source(
    root: Path,
    guide_id: str,
    day: dt.date,
    overrides: Path | None = None,
    commune: str | None = None,
) -> GuideSource | None:
    result = load_knowledge(root, overrides, commune)
    if result.knowledge is None:
        return None
    candidates = [s for s in result.knowledge.sources if s.guide.id == guide_id]
    active = [s for s in candidates if s.guide.active_on(day)]
    chosen = active or candidates
    return chosen[0] if chosen else None


def provincial_refusal(title: str) -> str:
    """Why a commune's editor cannot change a guide every commune of the province shares."""
    return (
        f"«{title}» là hướng dẫn chung của tỉnh, dùng cho mọi xã, phường nên không sửa ở đây "
        "được. Vui lòng nhờ quản trị viên của tỉnh sửa, hoặc tạo bản riêng của xã, phường "
        "(nút «Tạo bản riêng cho xã» ở trang sửa hướng dẫn này trên trang quản trị) rồi sửa bản đó."
    )


def no_own_layer(title: str) -> str:
    """Why a question cannot be added to a provincial guide for a commune without a folder."""
    return (
        f"«{title}» là hướng dẫn chung của tỉnh, còn xã, phường chưa có thư mục hướng dẫn riêng "
        "nên chưa thêm câu hỏi được. Vui lòng nhờ quản trị viên của tỉnh tạo thư mục riêng cho "
        "xã, phường (hoặc thêm câu hỏi vào hướng dẫn chung)."
    )


def insert_example(text: str, example: str) -> str:
    """The guide file's text with `example` appended to its `examples:` list."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("examples:")), None)
    item = f"  - {json.dumps(example, ensure_ascii=False)}\n"
    if start is None:
        suffix = "" if text.endswith("\n") else "\n"
        return text + suffix + "examples:\n" + item
    end = next((i for i in range(start + 1, len(lines)) if _TOP_KEY.match(lines[i])), len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    if end > 0 and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    lines.insert(end, item)
    return "".join(lines)


def add_example(
    root: Path,
    guide_id: str,
    example: str,
    who: str,
    now: dt.datetime,
    *,
    overrides: Path | None = None,
    commune: str | None = None,
    shared: bool = False,
) -> EditResult:
    """Add a phrasing to the guide's file: the commune's own (in `overrides`) when it has one.
    `shared`: `root` is a province library other communes serve too, so a guide found only
    there is first copied into the commune's layer (as «Tạo bản riêng cho xã» does) and the
    phrasing goes into that copy; without an overrides folder it is refused, saying why (a
    province admin passes shared=False and adds to the province file)."""
    example = " ".join(example.split())
    if len(example) < 3:
        return EditResult(False, "Câu hỏi quá ngắn.")
    if len(example) > 300:
        return EditResult(False, "Câu hỏi quá dài (tối đa 300 ký tự).")
    source = _source(root, guide_id, now.date(), overrides, commune)
    if source is None:
        return EditResult(False, f"Không có thủ tục nào có id «{guide_id}».")
    own = overrides is not None and source.path.is_relative_to(overrides)
    if fold(example) in {fold(p) for p in source.guide.phrases}:
        return EditResult(False, f"«{example}» đã có trong {source.path.name}.")
    copied = False
    if shared and not own:
        if overrides is None:
            return EditResult(False, no_own_layer(source.guide.title))
        from knowledge.editing_store import own_copy  # it logs through this module

        made = own_copy(root, overrides, commune, str(source.path.relative_to(root)), who, now)
        copy = _source(root, guide_id, now.date(), overrides, commune) if made.ok else None
        if copy is None or not copy.path.is_relative_to(overrides):
            return EditResult(False, made.message)
        source, own, copied = copy, True, True
    original = source.path.read_text(encoding="utf-8")
    source.path.write_text(insert_example(original, example), encoding="utf-8")
    result = load_knowledge(root, overrides, commune)
    errors = [p for p in result.errors if p.path == source.path]
    if errors or result.knowledge is None:
        source.path.write_text(original, encoding="utf-8")
        shown = "; ".join(p.render(root) for p in errors[:3])
        return EditResult(False, f"Không thêm được vì tệp sẽ bị lỗi: {shown}")
    log_edit(
        overrides if own and overrides is not None else root,
        who,
        now,
        "add_example",
        {"guide": guide_id, "file": source.path.name, "example": example},
    )
    done = f"Đã thêm câu «{example}» vào {source.path.name} ({source.guide.title})."
    if copied:
        done = (
            f"«{source.guide.title}» là hướng dẫn chung của tỉnh nên đã tạo bản riêng của xã, "
            "phường (bản riêng không tự cập nhật theo bản của tỉnh) và thêm câu hỏi vào đó. " + done
        )
    return EditResult(True, done)


def log_edit(root: Path, who: str, now: dt.datetime, action: str, details: dict[str, str]) -> None:
    entry = {"at": now.isoformat(), "who": who, "action": action, **details}
    with (root / EDIT_LOG).open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry, ensure_ascii=False) + "\n")


def read_edit_log(root: Path) -> list[dict[str, str]]:
    path = root / EDIT_LOG
    if not path.exists():
        return []
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
