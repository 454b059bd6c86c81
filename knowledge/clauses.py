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
from typing import NamedTuple

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


def is_marked(text: str) -> bool:
    """Typed with Vietnamese marks (any letter beyond ASCII): its words can be told apart."""
    return any(ch.isalpha() and not ch.isascii() for ch in text)


def _folded(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", fold(text)).split())


def request_part(text: str) -> str | None:
    """The clauses of a long message that carry its request, or None when the message is
    short, is one clause, or every clause asks (nothing to weigh above the rest)."""
    folded_all = _folded(text)
    if len(folded_all.split()) < LONG_WORDS:
        return None
    clauses: list[tuple[str, bool]] = []
    marked = is_marked(text)
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


# --- two requests in one message -------------------------------------------------------------

# Words (folded) that join two requests: "khai tử và xin mai táng", "làm căn cước với lại kích
# hoạt VNeID", "đăng ký kết hôn rồi chuyển hộ khẩu", ", còn tạm trú thì sao". Strong ones first:
# a split is tried at the strongest joiners only (each try re-scores both halves).
_JOINER_RANKS: tuple[tuple[str, int], ...] = (
    ("với lại", 0),
    ("đồng thời", 0),
    ("tiện thể", 0),
    ("ngoài ra", 0),
    ("sau đó", 1),
    ("xong rồi", 1),
    ("cùng với", 1),
    ("và", 1),
    ("với", 1),
    ("lẫn", 1),
    ("+", 1),
    ("&", 1),
    ("rồi", 2),
    ("xong", 2),
    ("thêm", 2),
    ("hay là", 2),
    ("hoặc", 2),
)
# Typed without marks some joiners are ordinary words: "lan" ("lần": "nộp 1 lần"), "con"
# ("con": a child); those join only when the message is typed with its marks.
_MARKED_ONLY = frozenset({"lẫn", "còn"})
# "kết hôn với chồng người Hàn", "tranh chấp với hàng xóm": "với" before a person is "with".
_PERSONS = frozenset(
    """nguoi chong vo anh chi ban ong ba co chu bac bo me cha chau hang gia ho no ai toi minh
    em ad can ck vk ny""".split()  # noqa: SIM905
)
# "photo công chứng bằng tốt nghiệp với sổ hộ khẩu", "dịch giấy khai sinh và hộ chiếu": papers
# listed after a copying verb are the things copied, not a second procedure.
_PAPERS = frozenset("so giay bang the ban hoc hop ho cccd cmnd can".split())  # noqa: SIM905
_COPYING = re.compile(r"\b(?:photo|sao y|cong chung|chung thuc|dich|in|scan|chup)\b")
# A clause after a break that adds a request: "..., nhập hộ khẩu cho bé luôn", "..., thêm
# đăng ký thường trú nữa", "..., tiện hỏi chế độ mai táng".
_ADDING = frozenset({"luôn", "nữa", "thêm", "tiện", "cả", "cũng"})
_ADDING_PLAIN = frozenset({"luon", "nua", "them", "tien"})
_CLAUSE_END = re.compile(r"[,.!?;:…]$")
_SENTENCE_END = re.compile(r"[.!?;…]$")


# The "không" that ends a yes-no question ("có tự động xóa không", "được hông ạ").
_YES_NO_END = re.compile(r"\b(?:khong|ko|k|hong|hok|khg|chua)(?: a| ad| vay| ha| nhi| nhe)?$")


def ends_yes_no(folded: str) -> bool:
    """A folded clause ends as a yes-no question."""
    return bool(_YES_NO_END.search(folded))


def asks_or_yes_no(folded: str) -> bool:
    """A folded clause asks: a request or question word, or the "có ... không" of a yes-no
    question ("có tự động xóa không")."""
    return asks(folded) or ends_yes_no(folded)


def _folded_clauses(text: str, breaks: str) -> str:
    """The folded message with its clause breaks kept as " , " (folding drops punctuation)."""
    return " , ".join(_folded(part) for part in re.split(breaks, text) if part.strip())


def asks(text: str) -> bool:
    """Whether a clause carries a request (a request verb, a question word, a question mark)."""
    if "?" in text:
        return True
    piece = _folded(text)
    found = (
        _REQUEST_MARKED.search(text.lower()) if is_marked(text) else _REQUEST_PLAIN.search(piece)
    )
    return bool(found)


class Cut(NamedTuple):
    """A message cut into two requests; `joined` when cut at a joining word ("và", "rồi",
    "với lại"), not at a bare comma or sentence break."""

    left: str
    right: str
    joined: bool


def _clause_start(raw: list[str], i: int) -> int:
    """Where the clause holding word `i` starts."""
    return next((j + 1 for j in range(i - 1, -1, -1) if _CLAUSE_END.search(raw[j])), 0)


def two_request_splits(text: str, list_words: int, limit: int = 2) -> list[tuple[str, str]]:
    """The (left, right) parts of `request_cuts`."""
    return [(cut.left, cut.right) for cut in request_cuts(text, list_words, limit)]


def request_cuts(text: str, list_words: int, limit: int = 2) -> list[Cut]:
    """At most `limit` ways to cut a message into two requests, most likely first: at a joining
    word, at a comma of a short list ("khai tử, mai táng") or before a clause that adds a
    request ("..., làm thêm ... nữa"), at a clause or sentence break between two parts that
    both ask. Nothing when no break can join two requests."""
    raw = text.split()
    marked = is_marked(text)
    words = [re.sub(r"[^\w+&]", "", w.lower()) for w in raw]
    if not marked:
        words = [fold(w) if w.isalnum() else w for w in words]
    joiners = [
        (tuple(j.split() if marked or not j.isalpha() else fold(j).split()), rank)
        for j, rank in _JOINER_RANKS
        if marked or j not in _MARKED_ONLY
    ]
    short = len(raw) <= list_words
    adding = _ADDING if marked else _ADDING_PLAIN
    found: list[tuple[int, int, int, int]] = []  # (rank, position, cut start, cut end)
    covered = 0  # words up to here belong to a joiner already found ("xong rồi": not "rồi")
    for i in range(1, len(raw) - 1):
        if i < covered:
            continue
        if marked and words[i] == "còn" and _CLAUSE_END.search(raw[i - 1]):
            found.append((0, i, i, i + 1))  # ", còn đăng ký tạm trú thì sao"
            continue
        for joiner, rank in joiners:
            end = i + len(joiner)
            if tuple(words[i:end]) != joiner or end >= len(raw):
                continue
            if len(joiner) == 1 and fold(joiner[0]) == "voi" and fold(words[end]) in _PERSONS:
                continue
            if (
                fold(joiner[0]) in ("voi", "va")
                and fold(words[end]) in _PAPERS
                and _COPYING.search(_folded(" ".join(raw[_clause_start(raw, i) : i])))
            ):
                continue  # "photo công chứng bằng tốt nghiệp với sổ hộ khẩu": two papers, one copy
            if joiner == ("lẫn",) and "cả" in words[max(0, i - 3) : i]:
                continue  # "cả cha lẫn mẹ": both of one thing
            if marked and "đã" in words[_clause_start(raw, i) : i]:
                continue  # "đã họp và ký văn bản": steps already taken, told in the story
            if fold(joiner[-1]) in ("roi", "xong") and (
                _CLAUSE_END.search(raw[end - 1])
                or (fold(words[end]) in ("roi", "xong") and _CLAUSE_END.search(raw[end]))
            ):
                continue  # "mất rồi, em đi khai tử", "làm xong rồi, ...": "already"
            if fold(joiner[-1]) == "roi" and fold(words[end]) == "ma":
                continue  # "con tôi 3 tuổi rồi mà vẫn chưa làm giấy khai sinh": "already, yet"
            found.append((rank, i, i, end))
            covered = end
            break
        else:
            if not _CLAUSE_END.search(raw[i - 1]):
                continue
            clause = next((j + 1 for j in range(i, len(raw)) if _CLAUSE_END.search(raw[j])), None)
            if short and raw[i - 1].endswith((",", ";")):
                found.append((4, i, i, i))  # "khai tử, mai táng"
            elif adding & set(words[i:clause]):
                found.append((2, i, i, i))  # "..., nhập hộ khẩu cho bé luôn"
            elif _SENTENCE_END.search(raw[i - 1]):
                found.append((3, i, i, i))  # two sentences: both must ask
    found.sort()
    splits: list[Cut] = []
    for rank, _, start, end in found:
        left, right = " ".join(raw[:start]).rstrip(" ,;"), " ".join(raw[end:])
        if rank == 3 and not (asks(left) and asks(right)):
            continue  # a story told in clauses and its question are one request
        if rank == 4 and asks(left) != asks(right):
            continue  # a list of names, or two questions; not a clause and its request
        splits.append(Cut(left, right, end > start))
        if len(splits) >= limit:
            break
    return splits


_BREAK = re.compile(r"[,.!?;:…]+\s+")


def near_clause(part: str, left: bool) -> str:
    """The clause of a cut part next to the cut: the last clause of the left part, the first
    of the right ("mẹ đơn thân nuôi con, muốn xin công nhận hộ nghèo" -> "muốn xin công nhận
    hộ nghèo"): the words that name its request, without the story told before it."""
    clauses = [c for c in _BREAK.split(part.strip(" ,.!?;:…")) if c.strip()]
    if not clauses:
        return part
    return (clauses[-1] if left else clauses[0]).strip()


def tells_done(clause: str) -> bool:
    """Whether a clause tells a step already taken ("ký hợp đồng rồi", "em đã nộp hồ sơ",
    "xong hợp đồng"):
    the story before a request, not a second request."""
    words = _folded(clause).split()
    if words[:1] == ["xong"]:
        return True  # "xong hợp đồng rồi thì ...": done with it
    while words and words[-1] in ("a", "roi", "xong"):
        if words[-1] != "a":
            return True
        words.pop()
    return is_marked(clause) and bool(re.search(r"(?<!\w)đã(?!\w)", clause.lower()))


# "hướng dẫn cả hai", "mỗi cái cần giấy gì", "2 thủ tục này": the message says it asks two.
_BOTH = re.compile(
    r"\b(?:ca (?:hai|2)|moi (?:cai|thu tuc|viec)|tung (?:cai|thu tuc|viec)"
    r"|(?:hai|2) (?:thu tuc|viec|loai giay|cai))\b"
)


def asks_for_both(text: str) -> bool:
    """Whether the message itself says it asks about two things."""
    return bool(_BOTH.search(_folded(text)))


# "căn cước hết hạn rồi thì ...", "khai tử xong có ...", "em vừa sửa tên xong, giờ ...": a fact
# told as done, then the question. Folded; "mà" is left out ("85 tuổi rồi mà chưa được lãnh":
# "and yet", the fact is the request).
# "hòa giải không thành thì ..." (failed): a step taken all the same, the question is what next
_DONE_THEN = re.compile(
    r"^(?P<done>.*?\b(?:roi|xong|khong thanh(?! nien))\b)\s*,?\s*(?:(?:thi|gio|bay gio|nay)\b|,)"
    r"\s*(?P<rest>.+)$"
)
# "làm xong hợp đồng thì ...", "nếu hòa giải xong mọi người thống nhất thì ...": a few words on
_DONE_LATER = re.compile(
    r"^(?P<done>.*?\b(?:roi|xong)\b(?P<next>(?: \w+){1,6}?)) thi (?P<rest>.+)$"
)
# "sau khi tách tôi muốn chuyển lên đất ở thì làm sao", "sau khi kết hôn thì ...": the step
# told as done by "sau khi" (after), then who goes on or the question
_SINCE = r"^(?P<done>(?:.*? )?sau khi (?:\w+ ){0,3}?\w+?)(?: xong)?,? "
_SINCE_DONE = re.compile(
    _SINCE + r"(?P<next>(?:toi|em|minh|chau|bac|ta|nha toi|vo chong|muon|gio|bay gio)\b.*?)"
    r" thi (?P<rest>.+)$"
)
_SINCE_THEN = re.compile(_SINCE + r"thi (?P<rest>.+)$")
_FALLEN = re.compile(r"(?<!\w)rơi(?!\w)", re.IGNORECASE)
_NOT_YET = ("chua", "chx")
# ("đậu rồi", passed, folds like "đâu rồi": only "đến/ở/đi đâu rồi" asks)
_ASKED_DONE = re.compile(r"\b(?:nao|gi|j|sao|(?:den|o|di) dau)\s+(?:roi|xong)$")
_DONE_ASKS = re.compile(r"^(?P<done>.*?\bxong\b)\s+(?P<rest>(?:co|thi|phai|can|duoc)\b.+)$")


# "lên thổ cư xong xây nhà cấp 4 có phải xin giấy phép không": the step done, then straight
# on to a yes/no question
_DONE_NEXT = re.compile(r"^(?P<done>.*?\bxong\b)\s+(?P<rest>.+)$")


class Done(NamedTuple):
    """A message that tells a fact as done, then asks: the question (folded), and whether the
    fact ends at its "rồi"/"xong" (in "cưới xong chuyển khẩu về nhà chồng thì làm sao" the
    words after "xong" are the request, not the fact)."""

    rest: str
    ends: bool
    # the words after the fact's "rồi"/"xong" with the question ("bo me tang cho tung dua thi
    # lam tiep the nao" of "tách xong bố mẹ tặng cho ... thì làm tiếp thế nào"): the request
    # when the fact does not end there
    after: str = ""
    # the step was tried and failed ("hòa giải không thành thì ..."): what comes next is
    # elsewhere, often another agency's
    failed: bool = False


def after_done(text: str) -> Done | None:
    """The question after a fact told as done ("căn cước của em hết hạn rồi thì có làm được
    không" -> "co lam duoc khong"); None when the message tells no such fact. In a
    conversation the fact is the citizen's situation: its procedure words are no reason to
    leave the guide being discussed."""
    # "rơi" (dropped) folds like "rồi" (done): "giấy tờ bị rơi mất thì ..." tells no step done
    folded = _folded_clauses(_FALLEN.sub("rowi", text), ",")
    for pattern in (_SINCE_DONE, _SINCE_THEN, _DONE_THEN, _DONE_ASKS, _DONE_LATER, _DONE_NEXT):
        found = pattern.match(folded)
        if found is not None and _ASKED_DONE.search(found.group("done")):
            return None  # "hồ sơ đến bước nào rồi thì xem ở đâu": asks how far, tells nothing
        if found is not None:
            rest = found.group("rest").strip(" ,")
            if not rest:
                return None
            if pattern is _DONE_NEXT and not ends_yes_no(rest):
                return None
            if pattern in (_DONE_LATER, _SINCE_DONE):
                if found.group("next").split()[0] in _NOT_YET:
                    return None  # "làm xong chưa thì ...": asks whether it is done
                return Done(rest, False, f"{found.group('next').strip()} thi {rest}")
            return Done(rest, True, rest, found.group("done").endswith("khong thanh"))
    return None


# "làm khai sinh cho con cần căn cước của bố mẹ không", "đăng ký kết hôn có cần giấy xác nhận
# độc thân không": a procedure, then a paper it may need. The paper's name is often another
# procedure's ("căn cước", "xác nhận tình trạng hôn nhân"); the question is about the first.
_NEEDS = re.compile(
    r"^(?P<what>.+?) (?:co )?(?:can|phai co|phai mang|can mang|can co|mang|nop|phai nop)"
    r"(?: theo| them| lai| ca)? (?P<paper>(?:giay|ban|so|the|cccd|cmnd|can cuoc|ho chieu"
    r"|trich luc|hop dong|quyet dinh|xac nhan|to khai|anh|hinh|chung tu|van ban|hoc ba)\b.*)$"
)
_WHICH_PAPERS = re.compile(r"^(?:giay |ban )?(?:to )?(?:gi|nao|nhung|chi|j)\b")


def needs_paper(text: str) -> str | None:
    """The procedure part of "<procedure> (có) cần <a named paper> (không)", folded; None when
    the message is not of that form or asks which papers ("cần giấy gì")."""
    folded = _folded_clauses(text, r"[,.;!?\n]+")
    found = _NEEDS.match(folded)
    if found is None or _WHICH_PAPERS.match(found.group("paper")):
        return None
    paper = found.group("paper")
    if "," in paper or " thi " in f" {paper} " or not ends_yes_no(paper):
        # a story goes on after the paper ("bên đó bảo phải có giấy ..., bác xin"), or the paper
        # is what the citizen wants ("giờ cần giấy độc thân thì phải làm thủ tục gì")
        return None
    return found.group("what").replace(" , ", " ")
