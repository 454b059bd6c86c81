"""Which files staff may send a citizen from the web inbox.

A citizen opens what staff send, so only the kinds a service centre sends (forms, scans,
spreadsheets) pass, at most 10 MB. The extension decides the type; for PDF, JPEG and PNG the
first bytes must agree (a renamed program is refused). Office files are zip (DOCX, XLSX) or
OLE2 (DOC, XLS) containers: their signature is checked too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 10 * 1024 * 1024
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = b"PK\x03\x04"
KINDS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "doc": ("application/msword", (OLE2,)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (ZIP,),
    ),
    "xls": ("application/vnd.ms-excel", (OLE2,)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (ZIP,)),
}
WRONG_TYPE = (
    "Không gửi được: chỉ nhận tệp PDF, ảnh JPEG/PNG, Word (DOC/DOCX) hoặc Excel (XLS/XLSX)."
)
WRONG_CONTENT = "Không gửi được: nội dung tệp không đúng với đuôi «.{ext}»."
TOO_LARGE = "Không gửi được: tệp lớn hơn 10 MB."
EMPTY = "Không gửi được: tệp trống."
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True)
class Checked:
    """A file that may be sent (`mime` set), or why not (`error`, shown on the page)."""

    name: str
    mime: str = ""
    error: str = ""


def clean_name(name: str) -> str:
    """The last path part, without control or path characters, at most 100 characters."""
    base = re.split(r"[/\\]", name)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    if len(base) > 100:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 99 - len(ext)] + dot + ext) if dot and len(ext) <= 5 else base[:100]
    return base or "tep"


def check(name: str, data: bytes) -> Checked:
    cleaned = clean_name(name)
    ext = cleaned.rpartition(".")[2].lower() if "." in cleaned else ""
    kind = KINDS.get(ext)
    if kind is None:
        return Checked(cleaned, error=WRONG_TYPE)
    if not data:
        return Checked(cleaned, error=EMPTY)
    if len(data) > MAX_BYTES:
        return Checked(cleaned, error=TOO_LARGE)
    mime, signatures = kind
    if not data.startswith(signatures):
        return Checked(cleaned, error=WRONG_CONTENT.format(ext=ext))
    return Checked(cleaned, mime=mime)
