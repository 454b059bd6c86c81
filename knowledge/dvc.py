"""National procedure records (Cơ sở dữ liệu quốc gia về TTHC): draft guides, notice drift.

A record is the JSON the national portal serves for one procedure (`{"code": "OK", "data":
{...}}`, or the bare `data` object). Records are messy (free text, repeated fee lines per
submission method), so both tools stay conservative: a draft marks everything `verify`, and the
drift report lists differences for an editor to judge rather than deciding who is right.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.library import VN_TZ
from knowledge.normalize import fold
from knowledge.schema import MIN_PHRASES, Guide

PORTAL = "https://dichvucong.gov.vn"
# Share of a guide paper's words found in a record's paper (or the reverse) for the two to count
# as the same paper: record names are long sentences, guide names are short.
SAME_DOCUMENT = 0.75
# Remarks the national records repeat among the papers of every civil-status procedure (postal
# filing, online forms, data already in the databases): notes, not papers a citizen brings.
_BOILERPLATE = (
    "buu chinh",
    "dien tu tuong tac",
    "co so du lieu quoc gia ve dan cu",
    "thuc hien viec nop",
    "khong khai thac duoc thong tin",
)
_STOP = frozenset(
    {"va", "cua", "cac", "cho", "theo", "hoac", "la", "co", "khi", "thi", "neu", "duoc", "trong"}
    | {"tai", "ve", "mot", "nhung"}
)
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?/\d{4}/[A-ZĐ0-9]+(?:-[A-ZĐ0-9]+)*")
_NOTE_CASE = re.compile(r"lưu ý", re.IGNORECASE)
_SHOWN_CASE = re.compile(r"xuất trình", re.IGNORECASE)
_SUBMITTED_CASE = re.compile(r"phải nộp|hồ sơ gồm", re.IGNORECASE)
_PROVINCIAL = re.compile(r"hội đồng nhân dân|hđnd", re.IGNORECASE)
_FIELDS = (  # category name in the record -> field id in fields.yaml
    ("hộ tịch", "ho-tich"),
    ("chứng thực", "chung-thuc"),
    ("cư trú", "cu-tru-can-cuoc"),
    ("căn cước", "cu-tru-can-cuoc"),
    ("đất đai", "dat-dai"),
    ("bảo trợ", "bao-tro-xa-hoi"),
    ("người có công", "bao-tro-xa-hoi"),
)
_METHODS = {"DIRECT": "trực tiếp", "ONLINE": "trực tuyến", "POSTAL": "bưu chính"}


class RecordError(Exception):
    """The file is not a national procedure record we can read."""


@dataclass(frozen=True)
class RecordDocument:
    name: str
    case: str
    originals: int
    copies: int


@dataclass(frozen=True)
class RecordFee:
    amount: int
    description: str
    methods: tuple[str, ...]

    @property
    def provincial(self) -> bool:
        return self.amount == 0 and bool(_PROVINCIAL.search(self.description))


@dataclass
class Record:
    """The parts of a national record that guides state."""

    code: str
    name: str
    updated: dt.date | None
    category: str
    agency: str
    ward: bool
    subjects: list[str]
    steps: list[str]
    documents: list[RecordDocument]
    notes: list[str]
    fees: list[RecordFee]
    working_days: list[float]
    other_times: list[str]
    online: bool
    legal_bases: list[str]
    results: list[str]
    path: Path | None = None

    legal_codes: list[str] = field(default_factory=list)

    @property
    def numbers(self) -> set[str]:
        """Document numbers of its legal bases ("18/2026/NĐ-CP"), normalised for comparison."""
        return {n for basis in [*self.legal_bases, *self.legal_codes] for n in _numbers(basis)}


def _numbers(text: str) -> set[str]:
    """Document numbers, spelt one way ("NĐ" and "ND" agree) so citations compare."""
    return {_number_key(m.group(0)) for m in _NUMBER.finditer(text)}


def _number_key(number: str) -> str:
    return number.upper().replace("Đ", "D").replace("NĐ", "ND")


def _shown_numbers(texts: Iterable[str], keys: set[str]) -> list[str]:
    """The numbers in `keys` as the record spells them, in sorted order."""
    shown: dict[str, str] = {}
    for text in texts:
        for match in _NUMBER.finditer(text):
            key = _number_key(match.group(0))
            if key in keys:
                shown.setdefault(key, match.group(0).upper())
    return [shown.get(k, k) for k in sorted(keys)]


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value else ""


def _line(text: str) -> str:
    return _text(text).lstrip("-*+•. ").rstrip(" ;:")


def parse_record(raw: Any, path: Path | None = None) -> Record:
    """A Record from the portal JSON; raises RecordError when the shape is not a record."""
    data = raw.get("data", raw) if isinstance(raw, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("code"), str):
        raise RecordError("không phải hồ sơ thủ tục (thiếu 'data.code')")
    updated = None
    stamp = data.get("updatedAt")
    if isinstance(stamp, int | float) and stamp > 0:
        updated = dt.datetime.fromtimestamp(stamp / 1000, VN_TZ).date()
    documents: list[RecordDocument] = []
    notes: list[str] = []
    for case in _dicts(data.get("executionCases")):
        case_name = _line(case.get("name", ""))
        for item in _dicts(case.get("profileComponents")):
            name = _line(item.get("name", ""))
            if not name:
                continue
            originals, copies = _int(item.get("originalQty")), _int(item.get("copyQty"))
            if (
                _NOTE_CASE.search(case_name)
                or any(b in fold(name) for b in _BOILERPLATE)
                or originals == copies == 0  # a remark or a heading, not a paper
            ):
                notes.append(name)
                continue
            documents.append(
                RecordDocument(
                    name=name,
                    case=case_name,
                    originals=originals,
                    copies=copies,
                )
            )
    fees: dict[tuple[int, str], list[str]] = {}
    working_days: list[float] = []
    other_times: list[str] = []
    online = False
    for method in _dicts(data.get("executionMethods")):
        kind = str(method.get("submissionMethod", ""))
        online = online or kind == "ONLINE"
        label = _METHODS.get(kind, kind.lower() or "khác")
        for fee in _dicts(method.get("fees")):
            key = (_int(fee.get("value")), _text(fee.get("description")).strip("() "))
            if label not in fees.setdefault(key, []):
                fees[key].append(label)
        _time(
            method.get("processingTime"),
            method.get("processingTimeUnit"),
            working_days,
            other_times,
        )
    for case in _dicts(data.get("cases")):
        day = case.get("processingDay")
        if isinstance(day, dict):
            _time(day.get("qty"), day.get("type"), working_days, other_times)
    steps = [
        _line(line)
        for step in _dicts(data.get("executionSteps"))
        for line in str(step.get("description") or "").splitlines()
        if _line(line)
    ]
    agency = ", ".join(
        _text(u.get("name"))
        for u in [
            *_dicts(data.get("unitGroupsExecuting")),
            *_dicts(data.get("departmentsExecuting")),
        ]
        if u.get("name")
    )
    return Record(
        code=data["code"],
        name=_text(data.get("name")) or data["code"],
        updated=updated,
        category=", ".join(_text(c.get("name")) for c in _dicts(data.get("categoriesDetails"))),
        agency=agency,
        ward=bool(data.get("isWard")),
        subjects=[_text(s.get("name")) for s in _dicts(data.get("subjectTypesDetails"))],
        steps=steps,
        documents=documents,
        notes=notes,
        fees=[RecordFee(a, d, tuple(m)) for (a, d), m in fees.items()],
        working_days=sorted(set(working_days)),
        other_times=list(dict.fromkeys(other_times)),
        online=online,
        legal_bases=[_basis(b) for b in _dicts(data.get("legalBasisesDetails")) if _basis(b)],
        results=[_text(r.get("name")) for r in _dicts(data.get("resultsDetails")) if r.get("name")],
        path=path,
        legal_codes=[_text(b.get("code")) for b in _dicts(data.get("legalBasisesDetails"))],
    )


def _basis(item: dict[str, Any]) -> str:
    """ "Name (number)" unless the name already carries its number."""
    name, code = _text(item.get("name")), _text(item.get("code"))
    if not name or not code or _numbers(code) <= _numbers(name):
        return name or code
    return f"{name} ({code})"


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _int(value: Any) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


def _time(qty: Any, unit: Any, working: list[float], other: list[str]) -> None:
    if not isinstance(qty, int | float) or isinstance(qty, bool) or qty <= 0:
        return
    if unit == "WORKING_DAY":
        working.append(float(qty))
    elif unit == "DAY":
        other.append(f"{_num(qty)} ngày")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def read_record(path: Path) -> Record:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"không đọc được tệp JSON ({exc.__class__.__name__})") from exc
    return parse_record(raw, path)


# --- import-dvc: a draft guide from a record ---------------------------------------------------


def _slug(name: str) -> str:
    bare = re.sub(r"^thủ tục\s+", "", name, flags=re.IGNORECASE).replace("đ", "d").replace("Đ", "d")
    ascii_only = unicodedata.normalize("NFD", bare).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_only)
    return "-".join(words[:8]) or "thu-tuc"


def _title(name: str) -> str:
    title = re.sub(r"^thủ tục\s+", "", name, flags=re.IGNORECASE).strip()
    return title[:1].upper() + title[1:] if title else name


def _field(record: Record) -> str | None:
    category = record.category.casefold()
    return next((fid for word, fid in _FIELDS if word in category), None)


def draft_guide(record: Record) -> tuple[str, dict[str, Any], int]:
    """(id, guide data, phrasings still missing). Everything taken from the record is `verify`."""
    code = record.code
    updated = record.updated.isoformat() if record.updated else "không rõ ngày"
    source = f"Hồ sơ thủ tục hành chính quốc gia mã {code} (cập nhật {updated})"
    gid = _slug(record.name)
    title = _title(record.name)
    basis = record.legal_bases or [source]
    fee_basis = [b for b in record.legal_bases if re.search(r"phí|TT-BTC", b, re.IGNORECASE)]
    field_id = _field(record)

    documents: list[dict[str, Any]] = []
    for doc in record.documents:
        item: dict[str, Any] = {"name": doc.name, "originals": doc.originals}
        if doc.copies:
            item["copies"] = doc.copies
        if _SHOWN_CASE.search(doc.case):
            item["notes"] = "Chỉ xuất trình, không nộp."
        elif doc.case and not _SUBMITTED_CASE.search(doc.case):
            item["case"] = doc.case
        documents.append(item)

    fees: list[dict[str, Any]] = []
    for fee in record.fees:
        line: dict[str, Any] = {"name": f"Phí, lệ phí (nộp {', '.join(fee.methods)})"}
        if fee.provincial:
            line["provincial"] = gid.replace("-", "_")
        else:
            line["amount"] = fee.amount
        if fee.description:
            line["conditions"] = fee.description
        line["legal_basis"] = fee_basis or [source]
        line["verify"] = (
            "Lấy từ hồ sơ quốc gia; đối chiếu văn bản quy định phí, lệ phí"
            + (
                " và thêm khóa này vào 'provincial_fees' trong office.yaml"
                if fee.provincial
                else ""
            )
            + "."
        )
        fees.append(line)
    if not fees:
        fees.append(
            {
                "name": "Phí, lệ phí",
                "provincial": gid.replace("-", "_"),
                "legal_basis": [source],
                "verify": "Hồ sơ quốc gia không ghi phí, lệ phí; kiểm tra trước khi trả lời người dân.",
            }
        )

    days = record.working_days
    if days:
        time_text = " hoặc ".join(f"{_num(d)} ngày làm việc" for d in days)
    elif record.other_times:
        time_text = " hoặc ".join(record.other_times)
    else:
        time_text = "Hồ sơ quốc gia không ghi thời hạn giải quyết."
    processing: dict[str, Any] = {"text": f"Thời hạn giải quyết: {time_text}."}
    if days:
        processing["working_days"] = int(days[0]) if days[0].is_integer() else days[0]
    processing["legal_basis"] = [source]
    processing["verify"] = (
        "Ghi điều, khoản quy định thời hạn; chọn đúng thời hạn cho từng trường hợp."
    )

    where: dict[str, Any] = {
        "desk": "Trung tâm Phục vụ hành chính công xã/phường"
        if record.ward
        else (record.agency or "Cơ quan giải quyết ghi trong hồ sơ quốc gia")
    }
    if record.online:
        where["online"] = "Nộp trực tuyến trên Cổng Dịch vụ công quốc gia"
        where["online_url"] = PORTAL

    phrases = list(dict.fromkeys(p for p in (title, record.name, *record.results) if p))
    aliases = [p for p in phrases if fold(p) != fold(title)]
    missing = max(MIN_PHRASES - len(aliases), 0)
    data: dict[str, Any] = {
        "id": gid,
        "code": code,
        "title": title,
        "field": field_id or "chon-linh-vuc",
        "agency": record.agency or "Cơ quan giải quyết ghi trong hồ sơ quốc gia",
        "summary": f"{title}. Kết quả: {', '.join(record.results) or 'xem hồ sơ quốc gia'}.",
        "who": ", ".join(record.subjects) or "Xem đối tượng thực hiện trong hồ sơ quốc gia.",
    }
    if documents:
        data["documents"] = documents
        data["documents_basis"] = [source]
    data["steps"] = {"in_person": record.steps or ["Xem trình tự thực hiện trong hồ sơ quốc gia."]}
    data["fees"] = fees
    data["processing_time"] = processing
    data["where"] = where
    data["legal_basis"] = basis
    if record.updated:
        data["reviewed_on"] = record.updated
    else:
        data["reviewed_on"] = dt.date(2000, 1, 1)
    data["aliases"] = aliases
    data["examples"] = []
    verify = [
        f"BẢN NHÁP tạo tự động từ {source}; biên tập viên rà soát từng mục trước khi dùng. "
        "'reviewed_on' là ngày cập nhật của hồ sơ quốc gia, không phải ngày rà soát.",
        f"Thêm ít nhất {missing} câu hỏi của người dân vào 'examples' (tổng cộng cần "
        f"{MIN_PHRASES} cách hỏi); chưa đủ thì 'validate' báo lỗi ở mục này.",
        "Viết lại 'summary', 'who', tên giấy tờ và các bước cho ngắn, dễ hiểu; ghi điều, khoản "
        "cho từng danh sách giấy tờ, khoản phí, thời hạn.",
    ]
    if field_id is None:
        verify.append(
            f"Chọn lĩnh vực ('field') trong fields.yaml; hồ sơ quốc gia ghi: {record.category or 'không rõ'}."
        )
    if record.notes:
        verify.append(
            f"Hồ sơ quốc gia có {len(record.notes)} lưu ý về thành phần hồ sơ (ghi ở cuối tệp); "
            "chuyển những điều người dân cần biết vào 'notes' của giấy tờ hoặc 'faq'."
        )
    data["verify"] = verify
    return gid, data, missing


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # editors copy lines around; anchors (&id001) would confuse them


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = ">" if len(value) > 90 else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def draft_text(record: Record) -> tuple[str, str, int]:
    """(id, YAML text, phrasings missing) of the draft, with a header saying what to do next."""
    gid, data, missing = draft_guide(record)
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    header = (
        f"# BẢN NHÁP từ hồ sơ thủ tục hành chính quốc gia mã {record.code}: chưa được rà soát.\n"
        "# Việc cần làm: đọc các ghi chú 'verify', thêm câu hỏi của người dân vào 'examples',\n"
        f"# rồi chuyển tệp vào knowledge/guides/<lĩnh vực>/{gid}.yaml và chạy\n"
        "# `python -m knowledge validate`.\n"
    )
    tail = ""
    if record.notes:
        tail = "\n# Lưu ý trong hồ sơ quốc gia (để biên tập viên đọc, không phải nội dung hướng dẫn):\n"
        tail += "".join(f"# - {' '.join(note.split())}\n" for note in record.notes)
    return gid, header + body + tail, missing


def import_record(record_path: Path, out_dir: Path) -> tuple[Path, int]:
    """Write the draft for one record into `out_dir`; never overwrite an existing file."""
    record = read_record(record_path)
    gid, text, missing = draft_text(record)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{gid}.yaml"
    counter = 2
    while target.exists():
        target = out_dir / f"{gid}.{counter}.yaml"
        counter += 1
    target.write_text(text, encoding="utf-8")
    return target, missing


# --- drift: guides against records -------------------------------------------------------------


@dataclass
class Drift:
    guide: Guide
    record: Record
    lines: list[str] = field(default_factory=list)


def _guide_amounts(guide: Guide) -> set[int]:
    amounts: set[int] = set()
    for fee in guide.fees:
        for value in (fee.amount, fee.online_amount):
            if value:
                amounts.add(value)
        amounts.update(t.amount for t in fee.tiers if t.amount)
    return amounts


def _guide_citations(guide: Guide) -> set[str]:
    texts = [*guide.legal_basis, *guide.documents_basis, *guide.processing_time.legal_basis]
    texts += [b for fee in guide.fees for b in fee.legal_basis]
    texts += [b for faq in guide.faq for b in faq.legal_basis]
    if guide.deadline is not None:
        texts += guide.deadline.legal_basis
    return {n for text in texts for n in _numbers(text)}


def _words(text: str) -> set[str]:
    return {w for w in fold(text).split() if w not in _STOP and not w.isdigit()}


def _share(part: set[str], whole: set[str]) -> float:
    """How much of `part` appears in `whole` (0..1); an empty part shares nothing."""
    return len(part & whole) / len(part) if part else 0.0


def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def compare(guide: Guide, record: Record) -> Drift:
    """What differs between a guide and the record of its code, in editor-facing Vietnamese."""
    drift = Drift(guide, record)
    lines = drift.lines

    days = guide.processing_time.working_days
    if record.working_days and (days is None or days not in record.working_days):
        shown = " hoặc ".join(f"{_num(d)}" for d in record.working_days)
        lines.append(
            f"Thời hạn: hướng dẫn ghi {_num(days) if days is not None else 'không rõ'} ngày làm việc, "
            f"hồ sơ quốc gia ghi {shown} ngày làm việc."
        )

    record_amounts = {f.amount for f in record.fees if f.amount}
    guide_amounts = _guide_amounts(guide)
    if record_amounts - guide_amounts:
        lines.append(
            "Phí, lệ phí: hồ sơ quốc gia có mức "
            + ", ".join(
                f"{a:,}".replace(",", ".") + " đ" for a in sorted(record_amounts - guide_amounts)
            )
            + " mà hướng dẫn không ghi."
        )
    if guide_amounts - record_amounts and record.fees:
        lines.append(
            "Phí, lệ phí: hướng dẫn ghi mức "
            + ", ".join(
                f"{a:,}".replace(",", ".") + " đ" for a in sorted(guide_amounts - record_amounts)
            )
            + " mà hồ sơ quốc gia không có."
        )
    if any(f.provincial for f in record.fees) and not any(f.provincial for f in guide.fees):
        lines.append(
            "Phí, lệ phí: hồ sơ quốc gia ghi mức do HĐND tỉnh quy định, hướng dẫn không có dòng phí của tỉnh."
        )

    guide_docs = [_words(d.name) for d in guide.documents]
    guide_full = [
        _words(" ".join(filter(None, (d.name, d.case, d.notes)))) for d in guide.documents
    ]
    record_docs = [_words(d.name) for d in record.documents]

    def same(g: int, r: set[str]) -> bool:
        return (
            _share(guide_docs[g], r) >= SAME_DOCUMENT or _share(r, guide_full[g]) >= SAME_DOCUMENT
        )

    new_docs = [
        d.name
        for d, words in zip(record.documents, record_docs, strict=True)
        if not any(same(g, words) for g in range(len(guide_docs)))
    ]
    gone_docs = [
        d.name
        for g, d in enumerate(guide.documents)
        if record_docs and not any(same(g, words) for words in record_docs)
    ]
    if new_docs:
        lines.append(
            f"Giấy tờ: hồ sơ quốc gia có {len(new_docs)} mục hướng dẫn chưa có, ví dụ: "
            + "; ".join(f"«{_short(n, 90)}»" for n in new_docs[:3])
        )
    if gone_docs:
        lines.append(
            f"Giấy tờ: hướng dẫn có {len(gone_docs)} mục không thấy trong hồ sơ quốc gia: "
            + "; ".join(f"«{_short(n, 90)}»" for n in gone_docs[:5])
        )

    missing = record.numbers - _guide_citations(guide)
    if missing:
        cited = _shown_numbers([*record.legal_codes, *record.legal_bases], missing)
        lines.append("Căn cứ pháp lý hồ sơ quốc gia có, hướng dẫn chưa dẫn: " + ", ".join(cited))

    if record.updated and record.updated > guide.reviewed_on:
        lines.append(
            f"Hồ sơ quốc gia cập nhật ngày {record.updated:%d/%m/%Y}, sau lần rà soát "
            f"hướng dẫn ({guide.reviewed_on:%d/%m/%Y})."
        )
    return drift


@dataclass
class DriftReport:
    drifts: list[Drift]
    unmatched_records: list[Record]
    guides_without_record: list[Guide]
    unreadable: list[tuple[Path, str]]

    @property
    def changed(self) -> list[Drift]:
        return [d for d in self.drifts if d.lines]

    def render(self) -> str:
        out: list[str] = []
        for drift in self.drifts:
            g, r = drift.guide, drift.record
            head = f"{g.id} ({g.title}) — mã {r.code}"
            if not drift.lines:
                out.append(f"{head}: khớp với hồ sơ quốc gia.")
                continue
            out.append(f"{head}: {len(drift.lines)} điểm khác")
            out += [f"  - {line}" for line in drift.lines]
        if self.unmatched_records:
            out.append(
                "Hồ sơ không có hướng dẫn nào cùng mã: "
                + ", ".join(f"{r.code} ({_short(r.name, 60)})" for r in self.unmatched_records)
            )
        for path, reason in self.unreadable:
            out.append(f"Bỏ qua {path.name}: {reason}")
        out.append(
            f"Tổng: {len(self.drifts)} hướng dẫn có hồ sơ, {len(self.changed)} hướng dẫn có điểm "
            f"khác; {len(self.guides_without_record)} hướng dẫn không có hồ sơ trong thư mục."
        )
        return "\n".join(out)


_CODE = re.compile(r"\b\d\.\d{6}\b")


def guide_codes(guide: Guide) -> list[str]:
    """National codes a guide names ("1.004194 / 1.002755"), the main procedure first."""
    return _CODE.findall(guide.code or "")


def drift_report(guides: Iterable[Guide], records_dir: Path) -> DriftReport:
    """Compare each guide with the record of its first code; its other codes (a guide covering
    several related procedures) are checked only for a record updated after the review."""
    records: dict[str, Record] = {}
    unreadable: list[tuple[Path, str]] = []
    for path in sorted(records_dir.glob("*.json")):
        try:
            record = read_record(path)
        except RecordError as exc:
            unreadable.append((path, str(exc)))
            continue
        records.setdefault(record.code, record)
    drifts: list[Drift] = []
    without: list[Guide] = []
    used: set[str] = set()
    for guide in guides:
        codes = [c for c in guide_codes(guide) if c in records]
        if not codes:
            without.append(guide)
            continue
        used.update(codes)
        drift = compare(guide, records[codes[0]])
        for code in codes[1:]:
            other = records[code]
            if other.updated and other.updated > guide.reviewed_on:
                drift.lines.append(
                    f"Hồ sơ quốc gia mã {code} ({_short(other.name, 60)}) cập nhật ngày "
                    f"{other.updated:%d/%m/%Y}, sau lần rà soát hướng dẫn ({guide.reviewed_on:%d/%m/%Y})."
                )
        drifts.append(drift)
    unmatched = [r for code, r in records.items() if code not in used]
    return DriftReport(drifts, unmatched, without, unreadable)
