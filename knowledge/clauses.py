"""What a long message asks, apart from the story around it.

Citizens often tell the story first ("bà nội em mất hôm kia, đã làm đám xong rồi ...") and ask in
one clause ("giờ em cần mang theo những gì"). The story's words pull towards siblings (a death
story mentions the household, an inheritance story the land), so the matcher weighs the clause
that carries the request above the rest. Greetings, apologies and thanks around the message are
padding: they say nothing about the procedure and are dropped before scoring.

Pure text functions over the folded message (no state, no platform library).
"""

from __future__ import annotations

import re

from knowledge.normalize import fold

# Sentence ends and clause breaks of a story told in one message.
_SENTENCES = re.compile(r"[^.!?;\n…]+[.!?;\n…]*")
_CLAUSES = re.compile(r"\s*(?:,|\bnhưng\b|\bnhung\b|\bnên\b|\bnen\b)\s*", re.IGNORECASE)

# Words of padding clauses (folded): a clause made only of these is a greeting, an apology or
# thanks ("dạ em chào ad ạ", "xin lỗi đã làm phiền", "em cảm ơn cán bộ nhiều ạ").
_PADDING_WORDS = frozenset(
    """
    a ad admin ah ak anh ba bac ban bo bot ca cam can chao chau chi chieu chu chuc co con da
    dang do em giup ha hello hi lam lanh loi ly minh moi mong ngay nghen nguoi nha nhe nhen
    nhieu o oi on phien qua ra sang thanks tks toi tot truoc uy vang voi xin
    """.split()  # noqa: SIM905 (a word list reads better as one string)
)
_PADDING_CORE = re.compile(
    r"\b(?:chao|hello|hi|cam on|cam ta|thanks|tks|xin loi|lam phien|lam on)\b"
)

# Signs that a clause asks something: request verbs and question words. Folding merges words
# ("hỏi" and "hồi", "cần" and "căn"), so a message typed with marks is read with its marks.
_ASKING = (
    "muốn|xin|hỏi|cần|làm sao|làm thế nào|thế nào|như nào|ra sao|ở đâu|chỗ nào|bao lâu"
    "|bao nhiêu|bao giờ|khi nào|gì|được không|đc không|có phải|phải làm|thủ tục|bước tiếp"
    "|tiếp theo|nộp|đăng ký|đăng kí|làm lại|cấp lại|không ạ|chưa ạ|ko ạ|k ạ|thì sao"
)
_REQUEST_MARKED = re.compile(rf"(?<!\w)(?:{_ASKING})(?!\w)")
_PLAIN = [fold(word) for word in _ASKING.split("|") if fold(word) not in ("hoi", "can")]
_REQUEST_PLAIN = re.compile(rf"\b(?:{'|'.join(_PLAIN)}|can(?! cuoc))\b")
_QUESTION = re.compile(r"\?")

LONG_WORDS = 25  # shorter messages are one request, scored whole


def _is_padding(clause: str) -> bool:
    words = clause.split()
    return (
        bool(words)
        and bool(_PADDING_CORE.search(clause))
        and all(w in _PADDING_WORDS for w in words)
    )


def strip_padding(text: str) -> str:
    """The message without leading or trailing greeting / apology / thanks clauses; the
    message itself when nothing else would remain."""
    parts = [p for p in re.split(r"(?<=[,.!?;\n])", text) if p.strip()]
    start, end = 0, len(parts)
    while start < end and _is_padding(_folded(parts[start])):
        start += 1
    while end > start and _is_padding(_folded(parts[end - 1])):
        end -= 1
    if start >= end or (start == 0 and end == len(parts)):
        return text
    return "".join(parts[start:end]).strip(" ,;")


def _folded(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", fold(text)).split())


def request_part(text: str) -> str | None:
    """The clauses of a long message that carry its request, or None when the message is
    short, is one clause, or every clause asks (nothing to weigh above the rest)."""
    folded_all = _folded(text)
    if len(folded_all.split()) < LONG_WORDS:
        return None
    clauses: list[tuple[str, bool]] = []
    marked = folded_all != " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
    for sentence in _SENTENCES.findall(text):
        asks_whole = bool(_QUESTION.search(sentence))
        raw = [p.strip() for p in _CLAUSES.split(sentence) if _folded(p)]
        for index, original in enumerate(raw):
            piece = _folded(original)
            if _is_padding(piece):
                continue
            request = (
                _REQUEST_MARKED.search(original.lower()) if marked else _REQUEST_PLAIN.search(piece)
            )
            asks = bool(request) or (asks_whole and index == len(raw) - 1)
            clauses.append((original, asks))
    if len(clauses) < 2:
        return None
    asking = [c for c, asks in clauses if asks]
    if not asking or len(asking) == len(clauses):
        return None
    return " ".join(asking)
