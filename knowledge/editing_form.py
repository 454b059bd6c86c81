"""A guide file as a web form, and the form written back into the same YAML with comments kept.

Editors who are not programmers fill a form; people who edit the files by hand must still find
their comments, key order and unknown keys where they left them. So the file is read with
ruamel.yaml's round-trip loader, only the keys the form shows are touched (a key the form does not
know survives), unchanged values keep their quoting and folding, and lines the edit did not touch
keep their original indentation (see `dump_doc`).

Values that do not parse (a fee typed as "8.000 đồng") are written as typed, so the validator
(the same `load_knowledge` as `knowledge validate`) reports them on the field the editor typed in.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from knowledge.yamlsrc import PathKey, parse_yaml

Kind = Literal["text", "long", "int", "float", "bool", "date", "lines", "items", "group"]


@dataclass(frozen=True)
class Spec:
    key: str
    label: str
    kind: Kind = "text"
    children: tuple[Spec, ...] = ()
    hint: str = ""
    add_label: str = ""


def _basis(label: str = "Căn cứ pháp lý (mỗi dòng một văn bản)") -> Spec:
    return Spec("legal_basis", label, "lines")


VERIFY = Spec("verify", "Cần kiểm tra (ghi điều chưa chắc chắn)", "long")
DOCUMENT = (
    Spec("name", "Tên giấy tờ", "long"),
    Spec("originals", "Số bản chính", "int"),
    Spec("copies", "Số bản sao", "int"),
    Spec("form", "Mẫu (tờ khai)"),
    Spec("case", "Trường hợp cần (để trống nếu ai cũng cần)"),
    Spec("notes", "Ghi chú", "long"),
    Spec("optional", "Không bắt buộc", "bool"),
    Spec("key", "Giấy tờ chính (hiện trên thẻ tóm tắt)", "bool"),
    VERIFY,
)
TIER = (
    Spec("from", "Từ đơn vị thứ", "int"),
    Spec("to", "Đến đơn vị thứ (trống = không giới hạn)", "int"),
    Spec("amount", "Đơn giá (đồng)", "int"),
)
FEE = (
    Spec("name", "Tên khoản phí"),
    Spec("amount", "Số tiền (đồng, 0 = miễn phí)", "int", hint="Chỉ ghi số, ví dụ: 8000"),
    Spec("online_amount", "Số tiền khi nộp trực tuyến (đồng)", "int"),
    Spec("tiers", "Bảng giá theo số đơn vị", "items", TIER, add_label="Thêm bậc giá"),
    Spec("provincial", "Mức do tỉnh quy định (mã trong office.yaml)"),
    Spec("unit", "Đơn vị tính"),
    Spec("per", "Tính theo"),
    Spec("cap", "Mức thu tối đa (đồng)", "int"),
    Spec("conditions", "Điều kiện", "long"),
    Spec("exemptions", "Trường hợp miễn (mỗi dòng một trường hợp)", "lines"),
    _basis(),
    Spec("valid_from", "Áp dụng từ ngày", "date"),
    Spec("valid_to", "Áp dụng đến ngày", "date"),
    VERIFY,
)
BENEFIT = (
    Spec("name", "Tên khoản hưởng"),
    Spec("amount", "Số tiền (đồng)", "int"),
    Spec("per", "Tính theo (ví dụ: tháng)"),
    Spec("text", "Cách tính", "long"),
    Spec("conditions", "Điều kiện", "long"),
    _basis(),
    Spec("valid_from", "Áp dụng từ ngày", "date"),
    Spec("valid_to", "Áp dụng đến ngày", "date"),
    VERIFY,
)
FAQ = (
    Spec("q", "Câu hỏi", "long"),
    Spec("a", "Trả lời", "long"),
    _basis(),
    VERIFY,
)
GUIDE: tuple[Spec, ...] = (
    Spec("id", "Mã nội bộ (id)"),
    Spec("code", "Mã thủ tục quốc gia"),
    Spec("title", "Tên thủ tục"),
    Spec("field", "Lĩnh vực (mã trong fields.yaml)"),
    Spec("agency", "Cơ quan giải quyết"),
    Spec("summary", "Tóm tắt", "long"),
    Spec("who", "Ai làm thủ tục này", "long"),
    Spec("documents", "Giấy tờ (theo trường hợp)", "items", DOCUMENT, add_label="Thêm giấy tờ"),
    Spec("documents_basis", "Căn cứ pháp lý của danh sách giấy tờ", "lines"),
    Spec(
        "steps",
        "Các bước",
        "group",
        (
            Spec("in_person", "Nộp trực tiếp (mỗi dòng một bước)", "lines"),
            Spec("online", "Nộp trực tuyến (mỗi dòng một bước)", "lines"),
        ),
    ),
    Spec("fees", "Lệ phí, phí", "items", FEE, add_label="Thêm khoản phí"),
    Spec("benefits", "Khoản người dân được hưởng", "items", BENEFIT, add_label="Thêm khoản hưởng"),
    Spec(
        "processing_time",
        "Thời hạn giải quyết",
        "group",
        (
            Spec("text", "Thời hạn", "long"),
            Spec("working_days", "Số ngày làm việc", "float"),
            _basis(),
            VERIFY,
        ),
    ),
    Spec(
        "deadline",
        "Thời hạn người dân phải làm",
        "group",
        (Spec("text", "Thời hạn", "long"), _basis(), VERIFY),
    ),
    Spec(
        "where",
        "Nơi nộp",
        "group",
        (
            Spec("desk", "Nơi nộp trực tiếp"),
            Spec("online", "Nơi nộp trực tuyến"),
            Spec("online_url", "Địa chỉ trang nộp trực tuyến"),
        ),
    ),
    _basis("Căn cứ pháp lý của thủ tục (mỗi dòng một văn bản)"),
    Spec("effective_from", "Phiên bản có hiệu lực từ ngày", "date"),
    Spec("effective_to", "Phiên bản có hiệu lực đến ngày", "date"),
    Spec("reviewed_on", "Ngày rà soát gần nhất", "date"),
    Spec("faq", "Câu hỏi thường gặp", "items", FAQ, add_label="Thêm câu hỏi"),
    Spec("related", "Thủ tục liên quan (mỗi dòng một id)", "lines"),
    Spec("aliases", "Tên gọi khác (mỗi dòng một cách gọi)", "lines"),
    Spec("examples", "Cách người dân hỏi (mỗi dòng một câu)", "lines"),
    Spec("verify", "Cần kiểm tra (mỗi dòng một việc)", "lines"),
)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap an editor's long line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load_doc(text: str) -> CommentedMap:
    doc = _yaml().load(text)
    if not isinstance(doc, CommentedMap):
        raise ValueError("tệp phải là một khối gồm các mục (tên mục: nội dung)")
    return doc


def _plain_dump(doc: Any) -> str:
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def dump_doc(doc: CommentedMap, original: str) -> str:
    """The document as YAML; lines the edit did not change keep the original's indentation.

    ruamel.yaml writes every list with one indentation style; files that mix two styles would
    show every list as changed. When dumping the unedited original changes only indentation,
    the edit's hunks are applied to the original instead (new lines shifted like their
    neighbours), and the result is kept only if it parses to the same data."""
    edited = _plain_dump(doc)
    try:
        baseline = _plain_dump(load_doc(original))
    except Exception:
        return edited
    old, base, new = original.splitlines(True), baseline.splitlines(True), edited.splitlines(True)
    if (
        base == old
        or len(base) != len(old)
        or any(a.strip() != b.strip() for a, b in zip(base, old, strict=True))
    ):
        return edited
    merged: list[str] = []
    shift = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=base, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            merged += old[i1:i2]
            if i2 > i1:
                shift = _indent(old[i2 - 1]) - _indent(base[i2 - 1])
            continue
        for line in new[j1:j2]:
            if shift > 0 and line.strip():
                line = " " * shift + line
            elif shift < 0 and line.strip() and _indent(line) >= -shift:
                line = line[-shift:]
            merged.append(line)
    result = "".join(merged)
    try:
        if parse_yaml(result).data == parse_yaml(edited).data:
            return result
    except Exception:
        pass
    return edited


# --- form -> document ----------------------------------------------------------------------


def _convert(kind: Kind, raw: str) -> Any:
    """The typed value, or the text as typed when it does not parse (the validator says why)."""
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind == "float":
        try:
            number = float(raw.replace(",", "."))
        except ValueError:
            return raw
        return int(number) if number.is_integer() else number
    if kind == "date":
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            return raw
    return raw


def _set(target: CommentedMap, spec_order: tuple[Spec, ...], key: str, value: Any) -> None:
    """Set a key; a new key goes where the form's order puts it, not at the end."""
    if key in target:
        target[key] = value
        return
    keys = [s.key for s in spec_order]
    before = set(keys[: keys.index(key)]) if key in keys else set(keys)
    position = 0
    for index, existing in enumerate(target):
        if existing in before:
            position = index + 1
    target.insert(position, key, value)


def _styled(old: Any, new: str) -> Any:
    """A changed long text keeps the block style (`>-`, `|`) it had."""
    if isinstance(old, FoldedScalarString):
        return FoldedScalarString(new)
    if isinstance(old, LiteralScalarString):
        return LiteralScalarString(new)
    return new


def _lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _is_blank(form: Mapping[str, str], prefix: str, specs: tuple[Spec, ...]) -> bool:
    for spec in specs:
        name = f"{prefix}.{spec.key}"
        if spec.kind in ("items", "group"):
            if not _is_blank(form, name, spec.children) or form.get(f"{name}.__n", "0") not in (
                "",
                "0",
            ):
                return False
        elif spec.kind == "bool":
            if form.get(name):
                return False
        elif form.get(name, "").strip():
            return False
    return True


def _apply_list(target: CommentedMap, specs: tuple[Spec, ...], spec: Spec, raw: str) -> None:
    new = _lines(raw)
    old = target.get(spec.key)
    if isinstance(old, list) and [str(x) for x in old] == new:
        return
    if not new:
        target.pop(spec.key, None)
        return
    if isinstance(old, CommentedSeq):
        del old[len(new) :]
        for index, item in enumerate(new):
            if index < len(old):
                if str(old[index]) != item:
                    old[index] = _styled(old[index], item)
            else:
                old.append(item)
        return
    _set(target, specs, spec.key, CommentedSeq(new))


def _apply_items(
    target: CommentedMap, specs: tuple[Spec, ...], spec: Spec, form: Mapping[str, str], name: str
) -> None:
    try:
        count = int(form.get(f"{name}.__n", "0"))
    except ValueError:
        count = 0
    old = target.get(spec.key)
    seq = old if isinstance(old, CommentedSeq) else CommentedSeq()
    keep: list[Any] = []
    for index in range(max(count, 0)):
        prefix = f"{name}.{index}"
        if form.get(f"{prefix}.__delete"):
            continue
        item = seq[index] if index < len(seq) else CommentedMap()
        if not isinstance(item, CommentedMap):
            keep.append(item)  # not a mapping: left for the validator to report
            continue
        if index >= len(seq) and _is_blank(form, prefix, spec.children):
            continue  # an added item left empty
        _apply_map(item, spec.children, form, prefix)
        keep.append(item)
    keep += list(seq[count:])  # items the form did not show stay as they were
    if not keep:
        target.pop(spec.key, None)
        return
    if keep != list(seq):
        # delete from the end so ruamel moves the comments of the items that stay with them
        for index in range(len(seq) - 1, -1, -1):
            if not any(seq[index] is k for k in keep):
                del seq[index]
        for item in keep:
            if not any(item is s for s in seq):
                seq.append(item)
    if old is not seq:
        _set(target, specs, spec.key, seq)


def _apply_map(
    target: CommentedMap, specs: tuple[Spec, ...], form: Mapping[str, str], prefix: str = ""
) -> None:
    for spec in specs:
        name = f"{prefix}.{spec.key}" if prefix else spec.key
        old = target.get(spec.key)
        if spec.kind == "items":
            _apply_items(target, specs, spec, form, name)
        elif spec.kind == "group":
            sub = old if isinstance(old, CommentedMap) else None
            if sub is None:
                if _is_blank(form, name, spec.children):
                    continue
                sub = CommentedMap()
                _apply_map(sub, spec.children, form, name)
                _set(target, specs, spec.key, sub)
            else:
                _apply_map(sub, spec.children, form, name)
                if not sub and _is_blank(form, name, spec.children):
                    target.pop(spec.key, None)
        elif spec.kind == "lines":
            _apply_list(target, specs, spec, form.get(name, ""))
        elif spec.kind == "bool":
            checked = bool(form.get(name))
            if checked:
                if old is not True:
                    _set(target, specs, spec.key, True)
            elif old is True:
                target[spec.key] = False
        else:
            raw = (
                " ".join(form.get(name, "").split())
                if spec.kind != "long"
                else form.get(name, "").strip()
            )
            raw = "\n".join(line.rstrip() for line in raw.splitlines())
            if not raw:
                target.pop(spec.key, None)
                continue
            value = _convert(spec.kind, raw)
            if old is not None and _shown(old) == raw:
                continue  # unchanged: keep its quoting and style
            _set(target, specs, spec.key, _styled(old, value) if isinstance(value, str) else value)


def apply_form(doc: CommentedMap, form: Mapping[str, str]) -> None:
    """Write the submitted form into the document in place (keys the form lacks are kept)."""
    _apply_map(doc, GUIDE, form)


def add_item(doc: CommentedMap, path: str) -> bool:
    """Append an empty item to the list at `path` (e.g. "fees" or "fees.0.tiers") for the form."""
    parts = path.split(".")
    node: Any = doc
    specs = GUIDE
    for depth, part in enumerate(parts):
        if isinstance(node, CommentedSeq) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        spec = next((s for s in specs if s.key == part), None)
        if spec is None or not isinstance(node, CommentedMap):
            return False
        if depth == len(parts) - 1:
            if spec.kind != "items":
                return False
            seq = node.get(part)
            if not isinstance(seq, CommentedSeq):
                seq = CommentedSeq()
                _set(node, specs, part, seq)
            seq.append(CommentedMap())
            return True
        node = node.get(part)
        specs = spec.children
    return False


# --- document -> form ----------------------------------------------------------------------


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "\n".join(_shown(v) for v in value)
    return str(value)


@dataclass
class Node:
    """One form control (or a group / list of them) with its value and validation messages."""

    name: str
    spec: Spec
    value: str = ""
    checked: bool = False
    errors: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    items: list[list[Node]] = field(default_factory=list)
    item_errors: list[list[str]] = field(default_factory=list)

    @property
    def dom_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def _nodes(data: Any, specs: tuple[Spec, ...], prefix: str) -> list[Node]:
    mapping = data if isinstance(data, Mapping) else {}
    out = []
    for spec in specs:
        name = f"{prefix}.{spec.key}" if prefix else spec.key
        value = mapping.get(spec.key)
        node = Node(name, spec)
        if spec.kind == "items":
            seq = value if isinstance(value, list) else []
            node.items = [_nodes(item, spec.children, f"{name}.{i}") for i, item in enumerate(seq)]
            node.item_errors = [[] for _ in seq]
        elif spec.kind == "group":
            node.children = _nodes(value, spec.children, name)
        elif spec.kind == "bool":
            node.checked = value is True
        else:
            node.value = _shown(value)
        out.append(node)
    return out


def form_nodes(doc: Mapping[str, Any]) -> list[Node]:
    return _nodes(doc, GUIDE, "")


def field_name(path: PathKey) -> str:
    """The form control a YAML path belongs to ("fees", 0, "amount" -> "fees.0.amount")."""
    specs = GUIDE
    parts: list[str] = []
    index = 0
    while index < len(path):
        key = path[index]
        spec = next((s for s in specs if s.key == key), None)
        if spec is None:
            break
        parts.append(spec.key)
        index += 1
        if spec.kind == "items" and index < len(path) and isinstance(path[index], int):
            parts.append(str(path[index]))
            index += 1
            specs = spec.children
        elif spec.kind == "group":
            specs = spec.children
        else:
            break
    return ".".join(parts)


def errors_by_field(text: str, problems: list[tuple[int, str]]) -> dict[str, list[str]]:
    """Validation messages keyed by form control, found from each problem's line."""
    try:
        located = parse_yaml(text)
    except Exception:
        return {"": [message for _, message in problems]}
    by_line: dict[int, PathKey] = {}
    for path, line in located.lines.items():
        if line not in by_line or len(path) > len(by_line[line]):
            by_line[line] = path
    result: dict[str, list[str]] = {}
    for line, message in problems:
        path = by_line.get(line, ())
        result.setdefault(field_name(path) if path else "", []).append(message)
    return result


_WHERE = re.compile(r"^mục '[^']*': ")


def on_field(message: str) -> str:
    """A message shown next to its control: without the "mục 'fees[0].amount': " prefix, a
    path that means nothing to an editor who sees the field itself."""
    return _WHERE.sub("", message, count=1)


def attach_errors(nodes: list[Node], errors: Mapping[str, list[str]]) -> list[str]:
    """Put each message on its control; return those that belong to no control."""
    placed: set[str] = set()

    def visit(items: list[Node]) -> None:
        for node in items:
            if node.name in errors:
                node.errors = [on_field(m) for m in errors[node.name]]
                placed.add(node.name)
            visit(node.children)
            for index, item in enumerate(node.items):
                key = f"{node.name}.{index}"
                if key in errors:
                    node.item_errors[index] = [on_field(m) for m in errors[key]]
                    placed.add(key)
                visit(item)

    visit(nodes)
    return [m for name, messages in errors.items() if name not in placed for m in messages]
