"""Drafts, review and history of guide edits made in the web editor.

Kept as files in a hidden folder beside the guides (`<knowledge>/.editor/`), not in the bot's
database: the guides themselves are files, so a draft, its history and the published YAML live
and are backed up together, every process that serves the same knowledge folder (web console,
bot workers) sees the same drafts, and nothing depends on the storage backend in use. Drafts are
JSON (not *.yaml), so neither the guide loader nor the live-reload poll ever reads them. Every
change takes an exclusive lock on `.editor/lock` and files are replaced atomically, so two
processes never interleave a publish.

Publishing needs a second person: the editor who publishes must not be one who changed the draft.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from knowledge.editing import log_edit
from knowledge.loader import PROVINCE_LAYER, KnowledgeBase, Problem, ReadCache, load_knowledge

EDITOR_DIR = ".editor"
State = Literal["draft", "review"]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Draft:
    path: str  # relative to the knowledge folder, e.g. "guides/ho-tich/khai-sinh.yaml"
    text: str
    base: str  # digest of the published file the draft started from
    state: State = "draft"
    editors: list[str] = field(default_factory=list)
    updated_by: str = ""
    updated_at: str = ""
    submitted_by: str = ""
    submitted_at: str = ""


@dataclass(frozen=True)
class HistoryEntry:
    path: str
    before: str
    after: str
    editors: list[str]
    approved_by: str
    approved_at: str
    action: str = "publish"  # or "restore"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str


@dataclass
class Checked:
    """A candidate text validated with every other file, exactly as `knowledge validate` does."""

    problems: list[Problem]  # in the candidate file, paths as the real file
    other: list[Problem]  # errors the change causes in other files
    knowledge: KnowledgeBase | None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"] + self.other

    @property
    def ok(self) -> bool:
        return self.knowledge is not None and not self.errors


def _only_yaml(folder: str, names: list[str]) -> list[str]:
    """What a scratch copy leaves out: all but the YAML files and their folders."""
    return [
        name
        for name in names
        if name in (EDITOR_DIR, "__pycache__")
        or (not name.endswith(".yaml") and not (Path(folder) / name).is_dir())
    ]


def check_candidate(
    root: Path,
    rel: str,
    text: str,
    overrides: Path | None = None,
    commune: str | None = None,
    communes: Sequence[tuple[str, Path]] = (),
) -> Checked:
    """Validate `text` as the file `rel` in a scratch copy of the knowledge folder. With
    `overrides`, `rel` is a file of the commune's layer, validated together with the province
    layer `root` exactly as the bot loads them (problems name their layer). Without, `rel` is
    a province file and `communes` (id, overrides folder) are the layers over `root`: the edit
    is also validated with each of them, and the errors it would cause there (a commune's
    guide relating to an id the edit renamed...) are in `other`, naming commune and file."""
    with tempfile.TemporaryDirectory(prefix="guide-check-") as scratch:
        copy = Path(scratch) / "k"
        shutil.copytree(root, copy, ignore=_only_yaml)
        own_copy: Path | None = None
        if overrides is not None:
            own_copy = Path(scratch) / "own"
            shutil.copytree(overrides, own_copy, ignore=_only_yaml)
        target = (own_copy or copy) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        result = load_knowledge(copy, own_copy, commune)

        def real(path: Path) -> Path:
            if own_copy is not None and overrides is not None and path.is_relative_to(own_copy):
                return overrides / path.relative_to(own_copy)
            return root / path.relative_to(copy) if path.is_relative_to(copy) else path

        mine = [
            dataclasses.replace(p, path=real(p.path)) for p in result.problems if p.path == target
        ]
        other = [
            dataclasses.replace(p, path=real(p.path)) for p in result.errors if p.path != target
        ]
        if overrides is None and communes and result.knowledge is not None and not result.errors:
            other += [
                dataclasses.replace(p, path=real(p.path))
                for p in _broken_layers(root, copy, communes)
            ]
        kb = result.knowledge
        if kb is not None:
            kb.root = root
            kb.overrides = overrides
            for source in kb.sources:
                source.path = real(source.path)
        return Checked(mine, other, kb)


def _broken_layers(root: Path, edited: Path, communes: Sequence[tuple[str, Path]]) -> list[Problem]:
    """Errors each commune's layer has over the `edited` province copy but not over `root`
    as it is (a commune's own mistake is not the province edit's). The province files are
    parsed once for all communes."""
    after, before = ReadCache(), ReadCache()
    found: list[Problem] = []
    for commune, overrides in dict(communes).items():
        if not overrides.is_dir() or not any(overrides.rglob("*.yaml")):
            continue  # no layer: the commune serves the province as checked already
        errors = load_knowledge(edited, overrides, commune, after).errors
        if not errors:
            continue

        def key(p: Problem, base: Path) -> tuple[str, str, str]:
            path = root / p.path.relative_to(base) if p.path.is_relative_to(base) else p.path
            return str(path), p.message, p.layer or ""

        known = {key(p, root) for p in load_knowledge(root, overrides, commune, before).errors}
        for problem in errors:
            if key(problem, edited) in known:
                continue
            if problem.layer == PROVINCE_LAYER:  # a province file, wrong only with this commune
                problem = dataclasses.replace(problem, layer=f"{PROVINCE_LAYER}, {commune}")
            found.append(problem)
    return found


def own_copy(
    root: Path, overrides: Path, commune: str | None, rel: str, who: str, now: dt.datetime
) -> Outcome:
    """Copy the provincial guide `rel` (every dated version of its id) into the commune's
    layer, where the commune's editors may change it; the province files are only read. The
    copy serves exactly what the province file did until the commune publishes a change, and
    from then on the province's later changes to that guide no longer reach the commune."""
    result = load_knowledge(root, overrides, commune)
    if result.knowledge is None:
        return Outcome(False, "Thư viện hướng dẫn đang có lỗi; chưa tạo được bản riêng.")
    path = root / rel
    source = next((s for s in result.knowledge.sources if s.path == path), None)
    if source is None:
        own = [s for s in result.knowledge.sources if s.path == overrides / rel]
        if own:
            return Outcome(True, "Xã, phường đã có bản riêng của hướng dẫn này.")
        return Outcome(False, "Không có hướng dẫn này trong thư viện của tỉnh.")
    province = load_knowledge(root)
    files = sorted(
        s.path
        for s in (province.knowledge.sources if province.knowledge else [])
        if s.guide.id == source.guide.id
    )
    store = GuideStore(overrides)
    made: list[Path] = []
    with store._locked():
        for file in files:
            target = overrides / file.relative_to(root)
            if target.exists():
                for done in made:
                    done.unlink()
                return Outcome(False, f"Thư mục riêng của xã đã có tệp {target.name}.")
            target.parent.mkdir(parents=True, exist_ok=True)
            GuideStore._write(target, file.read_text(encoding="utf-8"))
            made.append(target)
        after = load_knowledge(root, overrides, commune)
        if after.knowledge is None or after.errors:
            for done in made:
                done.unlink()
            shown = "; ".join(p.render() for p in after.errors[:3])
            return Outcome(False, f"Không tạo được bản riêng vì thư viện sẽ bị lỗi: {shown}")
        for done in made:
            text = done.read_text(encoding="utf-8")
            mine = str(done.relative_to(overrides))
            store._append_history(
                HistoryEntry(mine, text, text, [who], who, now.isoformat(), action="copy")
            )
    log_edit(
        overrides,
        who,
        now,
        "copy",
        {"file": rel, "from": "tỉnh", "guide": source.guide.id},
    )
    return Outcome(
        True,
        f"Đã tạo bản riêng của xã cho «{source.guide.title}». Bot vẫn trả lời như bản của "
        "tỉnh cho đến khi bản sửa của xã được duyệt và đăng; từ đó thay đổi của tỉnh ở hướng "
        "dẫn này không còn áp dụng cho xã.",
    )


class GuideStore:
    """Drafts and history for one knowledge folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._dir = root / EDITOR_DIR

    # --- files -------------------------------------------------------------------------

    def _key(self, rel: str) -> str:
        return rel.replace("/", "__")

    def _draft_file(self, rel: str) -> Path:
        return self._dir / "drafts" / f"{self._key(rel)}.json"

    def _history_file(self, rel: str) -> Path:
        return self._dir / "history" / f"{self._key(rel)}.jsonl"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._dir.mkdir(parents=True, exist_ok=True)
        with (self._dir / "lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        """Atomic replace: a reader (or the reload poll) never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)

    def guide_file(self, rel: str) -> Path:
        path = (self.root / rel).resolve()
        if not path.is_relative_to((self.root / "guides").resolve()) or path.suffix != ".yaml":
            raise ValueError("not a guide file")
        return path

    def published(self, rel: str) -> str:
        return self.guide_file(rel).read_text(encoding="utf-8")

    # --- drafts ------------------------------------------------------------------------

    def draft(self, rel: str) -> Draft | None:
        path = self._draft_file(rel)
        if not path.exists():
            return None
        return Draft(**json.loads(path.read_text(encoding="utf-8")))

    def drafts(self) -> list[Draft]:
        folder = self._dir / "drafts"
        if not folder.is_dir():
            return []
        return [
            Draft(**json.loads(p.read_text(encoding="utf-8")))
            for p in sorted(folder.glob("*.json"))
        ]

    def save_draft(self, rel: str, text: str, who: str, now: dt.datetime) -> Draft:
        """Save an edited text (already validated by the caller); back to 'draft' state."""
        with self._locked():
            current = self.draft(rel)
            base = current.base if current else digest(self.published(rel))
            editors = list(current.editors) if current else []
            if who not in editors:
                editors.append(who)
            draft = Draft(rel, text, base, "draft", editors, who, now.isoformat())
            self._write(self._draft_file(rel), json.dumps(asdict(draft), ensure_ascii=False))
            return draft

    def discard(self, rel: str) -> None:
        with self._locked():
            self._draft_file(rel).unlink(missing_ok=True)

    def submit(self, rel: str, who: str, now: dt.datetime) -> Outcome:
        with self._locked():
            draft = self.draft(rel)
            if draft is None:
                return Outcome(False, "Chưa có bản nháp để gửi duyệt.")
            draft.state = "review"
            draft.submitted_by = who
            draft.submitted_at = now.isoformat()
            self._write(self._draft_file(rel), json.dumps(asdict(draft), ensure_ascii=False))
            return Outcome(True, "Đã gửi duyệt. Cần một biên tập viên khác duyệt và đăng.")

    def publish(self, rel: str, reviewer: str, now: dt.datetime) -> Outcome:
        """Write the reviewed draft to the guide file. The caller validates it first."""
        with self._locked():
            draft = self.draft(rel)
            if draft is None or draft.state != "review":
                return Outcome(False, "Bản nháp chưa được gửi duyệt.")
            if reviewer in draft.editors:
                return Outcome(
                    False,
                    "Người sửa không tự đăng được: cần một biên tập viên khác duyệt.",
                )
            before = self.published(rel)
            if digest(before) != draft.base:
                return Outcome(
                    False,
                    "Tệp đã được sửa trực tiếp sau khi tạo bản nháp; hãy bỏ bản nháp và sửa lại.",
                )
            self._write(self.guide_file(rel), draft.text)
            entry = HistoryEntry(rel, before, draft.text, draft.editors, reviewer, now.isoformat())
            self._append_history(entry)
            self._draft_file(rel).unlink(missing_ok=True)
        log_edit(
            self.root,
            reviewer,
            now,
            "publish",
            {"file": rel, "editors": ", ".join(draft.editors)},
        )
        return Outcome(True, "Đã duyệt và đăng. Bot trả lời theo nội dung mới ngay.")

    def _append_history(self, entry: HistoryEntry) -> None:
        path = self._history_file(entry.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")

    # --- history -----------------------------------------------------------------------

    def history(self, rel: str) -> list[HistoryEntry]:
        """Newest first."""
        path = self._history_file(rel)
        if not path.exists():
            return []
        entries = [
            HistoryEntry(**json.loads(line))
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        return entries[::-1]

    def approval(self, rel: str) -> HistoryEntry | None:
        """The last publication of the file: who approved it and when ("đã duyệt"); a copy
        of the province's file into a commune's layer was approved by no one."""
        return next((e for e in self.history(rel) if e.action != "copy"), None)

    def restore(self, rel: str, index: int, who: str, now: dt.datetime) -> Outcome:
        """A draft holding the text from before change `index` (newest = 0); it is reviewed
        and published like any other edit."""
        entries = self.history(rel)
        if not 0 <= index < len(entries):
            return Outcome(False, "Không có phiên bản này trong lịch sử.")
        self.save_draft(rel, entries[index].before, who, now)
        return Outcome(True, "Đã tạo bản nháp từ phiên bản cũ. Gửi duyệt để đăng lại.")
