"""Load and validate a knowledge directory: guides, office settings, lexicon and fields.

Loading never raises on bad content: it returns every problem found, each with file and line,
so an editor sees the whole list at once and a running bot can keep its previous guides.

A province deployment layers a commune's overrides folder over the province library: its
`guides/` replace province guides by id (every dated version) or add new ones, and its
`office.yaml` (every key optional) overrides office facts; `provincial_fees` and `local` merge
key by key. Both layers are validated together and each problem names its layer.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from knowledge.lawdates import LegalTexts, check_outdated_citations
from knowledge.placeholders import NAMES, local_names, unknown_placeholders
from knowledge.schema import Fields, Guide, Lexicon, Office
from knowledge.yamlsrc import Located, PathKey, YamlSyntaxError, read_yaml

DEFAULT_DIR = Path(__file__).resolve().parent
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str
    severity: Literal["error", "warning"] = "error"
    layer: str | None = None
    """With commune overrides: PROVINCE_LAYER or the commune id whose file this is."""

    def render(self, root: Path | None = None) -> str:
        shown = self.path
        if root is not None:
            try:
                shown = self.path.relative_to(root)
            except ValueError:
                shown = self.path
        prefix = "" if self.severity == "error" else "cảnh báo: "
        layer = f"[{self.layer}] " if self.layer else ""
        return f"{shown}:{self.line}: {layer}{prefix}{self.message}"


PROVINCE_LAYER = "tỉnh"
MERGED_TABLES = ("provincial_fees", "local")  # a commune overrides these key by key


@dataclass
class GuideSource:
    guide: Guide
    path: Path
    located: Located


@dataclass
class KnowledgeBase:
    root: Path
    office: Office
    lexicon: Lexicon
    fields: Fields
    sources: list[GuideSource] = field(default_factory=list)
    legal_texts: LegalTexts = field(default_factory=LegalTexts)
    overrides: Path | None = None
    """The commune's overrides folder layered over `root` (the province), if any."""

    @property
    def guides(self) -> list[Guide]:
        return [source.guide for source in self.sources]

    def active(self, day: dt.date) -> list[Guide]:
        """The one version of each guide that serves on `day`, in catalogue order."""
        chosen: dict[str, Guide] = {}
        for guide in self.guides:
            if guide.active_on(day):
                chosen.setdefault(guide.id, guide)
        return list(chosen.values())

    def field_title(self, field_id: str) -> str:
        for item in self.fields.fields:
            if item.id == field_id:
                return item.title
        return field_id


@dataclass
class LoadResult:
    knowledge: KnowledgeBase | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return self.knowledge is not None and not self.errors


_MESSAGES: dict[str, str] = {
    "missing": "thiếu mục bắt buộc",
    "extra_forbidden": "mục này không có trong mẫu (có thể gõ sai tên mục)",
    "string_type": "phải là chữ",
    "string_too_short": "không được để trống",
    "int_type": "phải là số nguyên, không có dấu chấm hay chữ (ví dụ: 8000)",
    "int_parsing": "phải là số nguyên, không có dấu chấm hay chữ (ví dụ: 8000)",
    "int_from_float": "phải là số nguyên (ví dụ: 8000)",
    "float_type": "phải là số",
    "float_parsing": "phải là số",
    "bool_type": "phải là true hoặc false",
    "bool_parsing": "phải là true hoặc false",
    "date_type": "phải là ngày dạng NĂM-THÁNG-NGÀY (ví dụ: 2026-11-27)",
    "date_parsing": "phải là ngày dạng NĂM-THÁNG-NGÀY (ví dụ: 2026-11-27)",
    "date_from_datetime_parsing": "phải là ngày dạng NĂM-THÁNG-NGÀY (ví dụ: 2026-11-27)",
    "date_from_datetime_inexact": "phải là ngày, không kèm giờ",
    "list_type": "phải là danh sách, mỗi mục một dòng bắt đầu bằng '- '",
    "dict_type": "phải là một khối gồm các mục con",
    "model_type": "phải là một khối gồm các mục con",
    "model_attributes_type": "phải là một khối gồm các mục con",
    "string_pattern_mismatch": "chỉ dùng chữ thường không dấu, số và dấu gạch ngang (ví dụ: khai-sinh)",
}


def _where(loc: PathKey) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        text = str(ctx.get("error", error["msg"]))
    elif kind == "too_short":
        text = f"cần ít nhất {ctx.get('min_length')} mục"
    elif kind in ("greater_than_equal", "greater_than"):
        text = f"phải lớn hơn hoặc bằng {ctx.get('ge', ctx.get('gt'))}"
    elif kind == "string_type" and isinstance(error.get("input"), dict):
        text = (
            "phải là chữ; dòng này có dấu hai chấm và khoảng trắng (': ') nên bị hiểu là mục con. "
            'Hãy đặt cả câu trong dấu ngoặc kép "..." hoặc bỏ dấu hai chấm'
        )
    elif kind == "literal_error":
        text = f"giá trị không hợp lệ; chọn một trong: {ctx.get('expected')}"
    else:
        text = _MESSAGES.get(kind, str(error["msg"]))
    return text


def _validate(model: type[M], located: Located, path: Path) -> tuple[M | None, list[Problem]]:
    if not isinstance(located.data, dict):
        return None, [Problem(path, 1, "tệp phải là một khối gồm các mục (tên mục: nội dung)")]
    try:
        return model.model_validate(located.data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
            where = _where(loc)
            label = f"mục '{where}': " if where else ""
            problems.append(Problem(path, located.line_of(loc), label + _message(error)))
        return None, problems


class ReadCache:
    """Parsed files kept between loads of the same folders (a province edit is validated with
    every commune's layer: the province files are parsed once, not once per commune). Keyed
    by path, size and modification time; each load gets its own copy of the data (loading
    fills inherited keys in place)."""

    def __init__(self) -> None:
        self._files: dict[tuple[str, int, int], tuple[Located | None, list[Problem]]] = {}

    def read(self, path: Path) -> tuple[Located | None, list[Problem]]:
        try:
            stat = path.stat()
        except OSError:
            return _parse(path)
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        found = self._files.get(key)
        if found is None:
            found = self._files[key] = _parse(path)
        located, problems = found
        if located is None:
            return None, list(problems)
        return Located(copy.deepcopy(located.data), located.lines), list(problems)


def _parse(path: Path) -> tuple[Located | None, list[Problem]]:
    try:
        return read_yaml(path), []
    except YamlSyntaxError as exc:
        return None, [Problem(path, exc.line, exc.message)]
    except OSError as exc:
        return None, [Problem(path, 1, f"không đọc được tệp ({exc.strerror})")]


def _read(path: Path, cache: ReadCache | None = None) -> tuple[Located | None, list[Problem]]:
    return cache.read(path) if cache is not None else _parse(path)


def _load_one(
    model: type[M], path: Path, cache: ReadCache | None = None
) -> tuple[M | None, list[Problem]]:
    if not path.exists():
        return None, [Problem(path, 1, "không tìm thấy tệp")]
    located, problems = _read(path, cache)
    if located is None:
        return None, problems
    return _validate(model, located, path)


def guide_files(root: Path) -> list[Path]:
    guides_dir = root / "guides"
    return sorted(p for p in guides_dir.rglob("*.yaml") if p.is_file())


LEGAL_TEXTS = "legal_texts.yaml"
INHERITS = "inherits"
# Keys a successor may take from the previous version; its own dates and review are its own.
_NOT_INHERITED = {"id", "effective_from", "effective_to", "reviewed_on", INHERITS}


def load_knowledge(
    root: Path = DEFAULT_DIR,
    overrides: Path | None = None,
    commune: str | None = None,
    cache: ReadCache | None = None,
) -> LoadResult:
    """Read everything under `root`, with a commune's `overrides` folder layered on top (see
    the module docstring); return the knowledge base and every problem found."""
    problems: list[Problem] = []
    office, found = _load_office(root, overrides, cache)
    problems += found
    lexicon, found = _load_one(Lexicon, root / "lexicon.yaml", cache)
    problems += found
    fields, found = _load_one(Fields, root / "fields.yaml", cache)
    problems += found
    legal_texts = LegalTexts()
    if (root / LEGAL_TEXTS).exists():
        loaded, found = _load_one(LegalTexts, root / LEGAL_TEXTS, cache)
        problems += found
        legal_texts = loaded or legal_texts

    read, found = _read_guides(root, cache)
    problems += found
    if overrides is not None:
        own, found = _read_guides(overrides, cache)
        problems += found
        replaced = {_guide_id(located) for _, located in own} - {None}
        read = [item for item in read if _guide_id(item[1]) not in replaced] + own
    problems += _resolve_inherits(read)

    sources: list[GuideSource] = []
    for path, located in read:
        guide, found = _validate(Guide, located, path)
        problems += found
        if guide is not None:
            sources.append(GuideSource(guide, path, located))

    kb: KnowledgeBase | None = None
    if office is not None and lexicon is not None and fields is not None:
        if not sources and not any(p.path.is_relative_to(root / "guides") for p in problems):
            problems.append(Problem(root / "guides", 1, "không có hướng dẫn thủ tục nào"))
        kb = KnowledgeBase(
            root=root,
            office=office,
            lexicon=lexicon,
            fields=fields,
            sources=sources,
            legal_texts=legal_texts,
            overrides=overrides,
        )
        problems += cross_check(kb)
    if overrides is not None:
        problems = [_tag(p, overrides, commune or overrides.name) for p in problems]
    return LoadResult(kb, problems)


def _tag(problem: Problem, overrides: Path, commune: str) -> Problem:
    own = problem.path.is_relative_to(overrides)
    return dataclasses.replace(problem, layer=commune if own else PROVINCE_LAYER)


def _guide_id(located: Located) -> str | None:
    data = located.data
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _read_guides(
    root: Path, cache: ReadCache | None = None
) -> tuple[list[tuple[Path, Located]], list[Problem]]:
    read: list[tuple[Path, Located]] = []
    problems: list[Problem] = []
    for path in guide_files(root):
        located, found = _read(path, cache)
        problems += found
        if located is not None:
            read.append((path, located))
    return read, problems


def _load_office(
    root: Path, overrides: Path | None, cache: ReadCache | None = None
) -> tuple[Office | None, list[Problem]]:
    """The province office.yaml, with the commune's office.yaml (every key optional) on top."""
    path = root / "office.yaml"
    own_path = overrides / "office.yaml" if overrides is not None else None
    if own_path is None or not own_path.exists():
        return _load_one(Office, path, cache)
    if not path.exists():
        return None, [Problem(path, 1, "không tìm thấy tệp")]
    base, problems = _read(path, cache)
    own, found = _read(own_path, cache)
    problems += found
    if base is None or own is None:
        return None, problems
    if not isinstance(own.data, dict):
        return None, [Problem(own_path, 1, "tệp phải là một khối gồm các mục (tên mục: nội dung)")]
    if not isinstance(base.data, dict):
        return _validate(Office, base, path)
    merged = _merge_office(base.data, own.data)

    def origin(loc: PathKey) -> tuple[Path, Located]:
        deep = loc[:2] if loc and loc[0] in MERGED_TABLES else loc[:1]
        return (own_path, own) if deep in own.lines else (path, base)

    try:
        return Office.model_validate(merged), problems
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
            where = _where(loc)
            label = f"mục '{where}': " if where else ""
            file, located = origin(loc)
            problems.append(Problem(file, located.line_of(loc), label + _message(error)))
        return None, problems


def _merge_office(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """Commune keys replace province keys; fee and local tables merge key by key. A key the
    commune gives is no longer a province sample, unless the commune lists it in its own
    `samples` (which adds to what is left of the province's list)."""
    merged = dict(base)
    for key, value in own.items():
        if key in MERGED_TABLES and isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = {**base[key], **value}
        else:
            merged[key] = value
    if isinstance(base.get("samples"), list):
        given = {k for k in own if k not in MERGED_TABLES}
        given |= {
            f"{table}.{name}"
            for table in MERGED_TABLES
            if isinstance(own.get(table), dict)
            for name in own[table]
        }
        still = [k for k in base["samples"] if str(k) not in given]
        mine = own.get("samples")
        merged["samples"] = list(dict.fromkeys([*still, *(mine if isinstance(mine, list) else [])]))
    return merged


def _resolve_inherits(read: list[tuple[Path, Located]]) -> list[Problem]:
    """Fill each successor's `inherits` keys from the previous version of the same id, in place.

    Versions are resolved oldest first, so a chain of successors inherits what the one before
    it inherited. For a list, the successor's own items follow the inherited ones (so a question
    added to a successor's `examples` does not hide the inherited phrasings).
    """
    problems: list[Problem] = []

    def start(located: Located) -> dt.date:
        value = located.data.get("effective_from") if isinstance(located.data, dict) else None
        return value if isinstance(value, dt.date) else dt.date.min

    by_id: dict[str, list[tuple[Path, Located]]] = defaultdict(list)
    for path, located in read:
        if isinstance(located.data, dict) and isinstance(located.data.get("id"), str):
            by_id[located.data["id"]].append((path, located))
    for versions in by_id.values():
        versions.sort(key=lambda item: start(item[1]))
    for path, located in sorted(read, key=lambda item: start(item[1])):
        data = located.data
        if not isinstance(data, dict) or INHERITS not in data:
            continue
        keys = data.pop(INHERITS)
        line = located.line_of((INHERITS,))
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            problems.append(
                Problem(
                    path,
                    line,
                    f"mục '{INHERITS}': phải là danh sách tên mục, ví dụ [aliases, examples]",
                )
            )
            continue
        wrong = [k for k in keys if k in _NOT_INHERITED or k not in Guide.model_fields]
        if wrong:
            problems.append(
                Problem(path, line, f"mục '{INHERITS}': không kế thừa được mục {', '.join(wrong)}")
            )
            continue
        earlier = [
            other.data
            for _, other in by_id.get(str(data.get("id")), [])
            if other is not located and start(other) < start(located)
        ]
        if not earlier or start(located) == dt.date.min:
            problems.append(
                Problem(
                    path,
                    line,
                    f"mục '{INHERITS}': không có phiên bản trước của '{data.get('id')}' "
                    "(cùng id, 'effective_from' sớm hơn) để kế thừa",
                )
            )
            continue
        previous = earlier[-1]
        for key in keys:
            inherited = previous.get(key)
            if inherited is None:
                continue
            own = data.get(key)
            if isinstance(inherited, list) and isinstance(own, list):
                data[key] = [*inherited, *(item for item in own if item not in inherited)]
            elif own is None:
                data[key] = inherited
    return problems


def cross_check(kb: KnowledgeBase) -> list[Problem]:
    """Checks that span files: references, field ids, provincial fee keys, dated versions."""
    problems: list[Problem] = []
    field_ids = {f.id for f in kb.fields.fields}
    guide_ids = {s.guide.id for s in kb.sources}
    for source in kb.sources:
        guide, line_of = source.guide, source.located.line_of
        if guide.field not in field_ids:
            problems.append(
                Problem(
                    source.path,
                    line_of(("field",)),
                    f"mục 'field': lĩnh vực '{guide.field}' không có trong fields.yaml "
                    f"(chọn một trong: {', '.join(sorted(field_ids))})",
                )
            )
        for index, related in enumerate(guide.related):
            if related not in guide_ids:
                problems.append(
                    Problem(
                        source.path,
                        line_of(("related", index)),
                        f"mục 'related[{index}]': không có hướng dẫn nào có id '{related}'",
                    )
                )
        for index, fee in enumerate(guide.fees):
            if fee.provincial is not None and fee.provincial not in kb.office.provincial_fees:
                problems.append(
                    Problem(
                        source.path,
                        line_of(("fees", index, "provincial")),
                        f"mục 'fees[{index}].provincial': office.yaml chưa có mức phí "
                        f"'{fee.provincial}' trong 'provincial_fees'",
                    )
                )
        for path, name in unknown_placeholders(source.located.data):
            problems.append(
                Problem(
                    source.path,
                    line_of(path),
                    f"mục '{_where(path)}': không có thông tin '{{{name}}}'; chỉ dùng: "
                    + ", ".join(f"{{{n}}}" for n in sorted(NAMES)),
                )
            )
        for path, key in local_names(source.located.data):
            if key not in kb.office.local:
                problems.append(
                    Problem(
                        source.path,
                        line_of(path),
                        f"mục '{_where(path)}': office.yaml chưa có '{key}' trong 'local'",
                        severity="warning",
                    )
                )
    for field_def in kb.fields.fields:
        for gid in field_def.guides:
            if gid not in guide_ids:
                problems.append(
                    Problem(
                        kb.root / "fields.yaml",
                        1,
                        f"lĩnh vực '{field_def.id}': không có hướng dẫn nào có id '{gid}'",
                        severity="warning",
                    )
                )
    problems += _check_versions(kb)
    problems += _check_file_names(kb)
    problems += check_outdated_citations(kb, kb.legal_texts)
    return problems


def _check_file_names(kb: KnowledgeBase) -> list[Problem]:
    """One layout for dated versions, so editors find them: `<id>.yaml`, `<id>.<from>.yaml`."""
    problems: list[Problem] = []
    for source in kb.sources:
        guide = source.guide
        plain = f"{guide.id}.yaml"
        dated = f"{guide.id}.{guide.effective_from}.yaml" if guide.effective_from else None
        if source.path.name not in (plain, dated):
            expected = f"'{plain}'" + (f" hoặc '{dated}'" if dated else "")
            problems.append(
                Problem(
                    source.path,
                    source.located.line_of(("id",)),
                    f"tên tệp nên là {expected} (theo id và ngày 'effective_from')",
                    severity="warning",
                )
            )
    return problems


def _check_versions(kb: KnowledgeBase) -> list[Problem]:
    by_id: dict[str, list[GuideSource]] = defaultdict(list)
    for source in kb.sources:
        by_id[source.guide.id].append(source)
    problems: list[Problem] = []
    for versions in by_id.values():
        if len(versions) < 2:
            continue
        ordered = sorted(versions, key=lambda s: s.guide.effective_from or dt.date.min)
        for earlier, later in itertools.pairwise(ordered):
            end = earlier.guide.effective_to
            start = later.guide.effective_from or dt.date.min
            line = later.located.line_of(("effective_from",))
            if end is None or end >= start:
                problems.append(
                    Problem(
                        later.path,
                        line,
                        f"hai phiên bản của '{later.guide.id}' trùng thời gian hiệu lực với "
                        f"{earlier.path.name}; phiên bản cũ cần 'effective_to' trước {start}",
                    )
                )
            elif (start - end).days > 1:
                problems.append(
                    Problem(
                        later.path,
                        line,
                        f"khoảng trống từ {end + dt.timedelta(days=1)} đến "
                        f"{start - dt.timedelta(days=1)}: không có phiên bản nào của "
                        f"'{later.guide.id}' có hiệu lực",
                        severity="warning",
                    )
                )
    return problems
