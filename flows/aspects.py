"""Which part of a guide a short follow-up asks about ("mất bao lâu", "phí bao nhiêu"...).

After an answer about a guide, citizens ask follow-ups without repeating its name; we recognise
the aspect on folded text so "mat bao lau" and "mất bao lâu" agree.
"""

from __future__ import annotations

from typing import Literal

from knowledge.normalize import fold

Aspect = Literal["time", "fee", "docs", "online", "steps", "where", "faq", "who", "late", "benefit"]

_CUES: tuple[tuple[Aspect, tuple[str, ...]], ...] = (
    (
        "benefit",
        (
            "duoc bao nhieu",
            "huong bao nhieu",
            "nhan bao nhieu",
            "nhan duoc bao nhieu",
            "lanh bao nhieu",
            "bao nhieu 1 thang",
            "bao nhieu mot thang",
            "bao nhieu tien 1 thang",
            "bao nhieu tien mot thang",
            "moi thang bao nhieu",
            "muc huong",
            "muc tro cap",
            "muc ho tro",
            "ho tro bao nhieu",
            "tro cap bao nhieu",
            "duoc nhan tien",
            "duoc may tien",
            "duoc nhieu khong",
        ),
    ),
    (
        "late",
        (
            "qua han",
            "tre han",
            "bi phat",
            "phat khong",
            "phat bao nhieu",
            "nop phat",
            "phat tien",
            "lam muon",
            "dang ky muon",
            "khai muon",
            "de lau roi",
            "chua lam kip",
            "muon qua",
            "tre qua",
        ),
    ),
    (
        "who",
        (
            "ai di lam",
            "ai lam duoc",
            "ai nop",
            "ai di nop",
            "ai duoc",
            "ai co the",
            "ai phai",
            "nguoi khac",
            "nho nguoi",
            "nho ai",
            "lam thay",
            "lam ho",
            "nop thay",
            "nop ho",
            "di thay",
            "uy quyen",
            "doi tuong",
        ),
    ),
    (
        "online",
        (
            "online",
            "truc tuyen",
            "qua mang",
            "tren mang",
            "dich vu cong",
            "qua dien thoai",
            "tai nha lam duoc",
            "onl",
        ),
    ),
    (
        "fee",
        (
            "le phi",
            "phi bao nhieu",
            "bao nhieu tien",
            "mat tien",
            "ton tien",
            "het bao nhieu",
            "mien phi",
            "tien phi",
            "mat phi",
            "co phi",
            "phi",
            "nop tien",
            "tinh phi",
        ),
    ),
    (
        "time",
        (
            "bao lau",
            "co ket qua",
            "lay ket qua",
            "tra ket qua",
            "may ngay",
            "bao nhieu ngay",
            "bao gio co",
            "khi nao co",
            "khi nao lay",
            "lau khong",
            "thoi gian",
            "lay ngay",
            "trong ngay",
        ),
    ),
    (
        "docs",
        (
            "mang gi",
            "mang theo",
            "giay to gi",
            "giay to",
            "ho so gom",
            "can gi",
            "chuan bi gi",
            "can nhung gi",
            "ho so can",
            "nhung giay",
        ),
    ),
    ("where", ("o dau", "cho nao", "noi nao", "dia chi", "den dau", "di dau")),
    (
        "steps",
        (
            "cac buoc",
            "trinh tu",
            "lam the nao",
            "lam sao",
            "cach lam",
            "the nao",
            "ntn",
            "nhu the nao",
            "huong dan",
        ),
    ),
)


FEE_WORDS = ("le phi", "phi", "nop tien", "mat tien", "ton tien")


def detect(text: str) -> Aspect | None:
    padded = f" {fold(text)} "
    for aspect, cues in _CUES:
        if any(f" {cue} " in padded for cue in cues):
            return aspect
    return None


def without_cues(text: str) -> str:
    """The question with its aspect words removed: "khai sinh mất bao lâu" -> "khai sinh"."""
    padded = f" {fold(text)} "
    for _, cues in _CUES:
        for cue in cues:
            padded = padded.replace(f" {cue} ", " ")
    return " ".join(padded.split())
