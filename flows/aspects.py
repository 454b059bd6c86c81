"""Which part of a guide a short follow-up asks about ("mất bao lâu", "phí bao nhiêu"...).

After an answer about a guide, citizens ask follow-ups without repeating its name; we recognise
the aspect on folded text so "mat bao lau" and "mất bao lâu" agree, after spelling out the usual
teencode and regional forms ("bn lâu", "cần j", "đc ko", "nhiêu tiền", "giấy chi").
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from knowledge.normalize import clean, fold, tokens

Aspect = Literal["time", "fee", "docs", "online", "steps", "where", "faq", "who", "late", "benefit"]
ASPECTS: tuple[Aspect, ...] = get_args(Aspect)

_CUES: tuple[tuple[Aspect, tuple[str, ...]], ...] = (
    (
        # how long a paper stays valid is not how long it takes: its FAQ answers that
        "faq",
        (
            # the longer first: removed from a follow-up, "trong" must go with its "bao lâu"
            "gia tri trong bao lau",
            "hieu luc trong bao lau",
            "gia tri bao lau",
            "co gia tri",
            "con gia tri",
            "gia tri may thang",
            "hieu luc bao lau",
            "con hieu luc",
            "co hieu luc",
            "thoi han su dung",
            "dung duoc bao lau",
            "xai duoc bao lau",
        ),
    ),
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
            "tro cap tang len bao nhieu",  # "lên đặc biệt nặng thì trợ cấp tăng lên bao nhiêu"
            "tro cap tang them bao nhieu",
            "duoc nhan tien",
            "duoc may tien",
            "duoc nhieu khong",
            "duoc bao nhieu tien",
            "duoc huong gi",
            "duoc nhung gi",
            "duoc ho tro gi",
            "ho tro gi",
            "muc tien",
            "bao nhieu mot thang",
            "thang bao nhieu",
            "may tram",
            "may trieu",
            "nhan nhieu",
            # "được mấy (đồng)", not "xin được mấy bản" (copies of a paper)
            "duoc may dong",
            "duoc may trieu",
            "duoc may tram",
            "lanh may dong",
            "lanh may trieu",
            "lanh may tram",
            "lanh may tien",
            "lanh bao nhieu",
            "thang duoc may",
            "thang lanh may",
        ),
    ),
    (
        "late",
        (
            "bi phat bao nhieu",  # removed whole: "bao nhiêu" alone reads as a subject
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
            "qua thoi han",
            "khong dang ky thi",
            "khong lam thi",
            "chua dang ky thi",
            "bi xu phat",
            "xu phat",
            "tre roi",
            "muon roi",
            "muon co sao",
            "tre co sao",
            "khong lam co sao",
            "lo qua",
            "qua ngay",
            "phat gi",
            "de qua",  # "để qua tuần sau mới làm có sao không"
            "moi lam co sao",
            "han chot",  # a deadline: the late section's words, never a subject of its own
            "han cuoi",
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
            "lam giup",  # "em làm giúp bố trên máy của em được không"
            "lam dum",
            "nop thay",
            "nop ho",
            "di thay",
            "uy quyen",
            "doi tuong",
            "nhung ai",
            "ai co mat",
            "ai ky",
            "ai dung ten",
            "ai la nguoi",
            "ai dung ra",
            "ai duoc xet",
            "phai den",
            "phai co mat",
            "di lam duoc khong",
            "di lam ho so duoc",
            "nguoi nha lam",
            "nguoi nha di",
            "nguoi nha nop",
            "nguoi than lam",
            "nguoi than di",
            "nguoi than nop",
            "gium",
            "dum",
            "nho hang xom",
            "chinh chu",
            "di lam ho",
            "di nop ho",
            "dieu kien",
            "co duoc ho tro khong",
            "co duoc huong khong",
            "co duoc tro cap khong",
            "co duoc nhan khong",
            "co duoc lam khong",
            "du dieu kien",
            "ai xet",
            "dang ky thay",
            "dang ky ho",
            "mot minh",  # "tui đi một mình được hông"
            "1 minh",
            "tu ra",  # "bố mẹ có phải tự ra công an không": in person
            "tu den",
            "co den nha",  # "cán bộ có đến nhà không": for one who cannot come
            "di cung",  # "bố chồng có phải đi cùng không"
            "hoi y",  # "có phải hỏi ý (kiến) cháu không": whose consent
            "xin ho",  # "bác đi xin hộ có được không"
            "can bo den",  # "cán bộ có đến nhà không": for one who cannot come
            "thay duoc",  # "tôi nộp hồ sơ thay được không"
            "bat buoc co mat",
            "cung di",
            "ca hai",
            "phai dua",  # "có phải đưa bố lên xã không"
            "dong y",  # "bé 15 tuổi có phải đồng ý không": whose consent
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
            "tren vneid",
            "qua vneid",
            "bang vneid",
            "qua app",
            "tren app",
            "ung dung",
            "qua zalo",
            "khong can den",
            "khoi phai den",
            "khong phai den",
            "lam tai nha",
            "nop mang",
            "tren dien thoai",
            "bang dien thoai",
            "khong can len",
            "khong phai len",
            "khoi len",
            "khong can den",
        ),
    ),
    (
        "fee",
        (
            "le phi",
            "phi bao nhieu",
            "to thi bao nhieu",  # "10 tờ thì bao nhiêu": the cost of that many
            "ban thi tinh",  # "mấy bản thì tính bao nhiêu"
            "trang thi tinh",
            "to thi tinh",
            "trang thi bao nhieu",
            "ban thi bao nhieu",
            "ban bao nhieu",  # "1 bản bao nhiêu", "mỗi bản bao nhiêu"
            "bao nhieu mot ban",
            "bao nhieu 1 ban",
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
            "bao nhieu phi",
            "tien le phi",
            "tra tien",
            "phai tra",
            "dong tien",
            "tien gi",
            "ton phi",
            "co mat tien",
            "tien bao nhieu",
            "ton bao nhieu",
            "mat bao nhieu",
            "dong bao nhieu",
            "gia bao nhieu",
            "mat dong nao",
            "ton kem",
            "chi phi",
            "phai dong",
            "thu phi",
            "tien su dung dat",
            "tinh tien",
            "tien thue",
            "nop thue",
            "truoc ba",
        ),
    ),
    (
        "time",
        (
            "mat bao lau",
            "mat may ngay",
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
            "bao gio",
            "khi nao thi",
            "may hom",
            "may tuan",
            "may thang",
            "thoi han giai quyet",
            "nhanh khong",
            "lau qua",
            "lay luon",
            "co luon",
            "hen ngay",
            "ngay nao",
            "khi nao nhan",
            "khi nao xong",
            "chung nao",
            "may bua",
            "bao lau thi",
            "thang may",  # "đăng ký vào tháng mấy"
        ),
    ),
    (
        "docs",
        (
            "nop them gi",  # "đã ly hôn một lần thì cần nộp thêm gì": a paper more to bring
            "can them gi",
            "mang them gi",
            "mang gi",
            "mang theo",
            "giay to gi",
            "giay to",
            "ho so gom",
            "ho so co gi",  # "hồ sơ có gì": what goes in the file
            "don gi",  # "viết đơn gì": which form
            "can gi",
            "chuan bi gi",
            "can nhung gi",
            "nop nhung gi",  # "cần nộp những gì"
            "nop nhung giay",
            "can them gi",  # "từng ly hôn rồi thì cần thêm gì"
            "them giay gi",
            "can dich",  # "cần dịch thuật không": the papers' translation
            "phai dich",  # "giấy chứng sinh có phải dịch không"
            "ho so can",
            "nhung giay",
            "mang nhung gi",
            "mang nhung giay",
            "giay gi",
            "giay nao",
            "can giay",
            "can nhung",
            "can mang",
            "ho so gi",
            "ho so nhung",
            "thu tuc gom",
            "can co gi",
            "phai co gi",
            "nop gi",
            "gom nhung gi",
            "chuan bi nhung",
            "can chuan bi",
            "dem gi",
            "dem theo",
            "dem nhung",
            "co nhung gi",
            "can cccd",
            "can can cuoc",
            "mang can cuoc",
            "mang cccd",
            "can ban sao",
            "can ban goc",
            "mang ban goc",
            "mau to khai",
            "to khai",
        ),
    ),
    (
        "where",
        (
            "o dau",
            "cho nao",
            "noi nao",
            "dia chi",
            "den dau",
            "di dau",
            "xa nao",
            "phuong nao",
            "co quan nao",
            "noi nop",
            "nop tai",
            "gui ai",  # "làm đơn gửi ai": the office it goes to
            "gui cho ai",
            "nop cho ai",
            "lam tai",
            "o xa",
            "o phuong",
            "o huyen",
            "o tinh",
            "khac tinh",
            "khac xa",
            "khac quan",
            "khac que",
            "noi khac",
            "tinh khac",
            "xa khac",
            "dang o",
            "que o",
            "len dau",
            "ra dau",
            "phong nao",
            "dia diem",
            "len xa",
            "len huyen",
            "len tinh",
            "o uy ban",
            "o ap",
            "len phuong",
            "ra xa",
            "ra phuong",
            "quay nao",
            "o cong an xa",
            "o cong an phuong",
            "lam o cong an",
            "nop o cong an",
            "len cong an xa",
            "ra cong an xa",
        ),
    ),
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
            "ra sao",
            "nhu nao",
            "lam gi",
            "bat dau",
            "buoc dau",
            "quy trinh",
            "thu tuc the nao",
        ),
    ),
)


# Cues of the citizen's situation rather than of a section ("chị tôi ở nước ngoài không về được
# thì sao", "nộp muộn có mất tiền không"): once the guide is chosen they say which part of it
# answers (`detect(..., wide=True)`), but they never choose the guide. Taken as follow-up words
# when routing, the rest of such a message ("nước ngoài", "hội đồng") would be read as a subject
# of its own and lead away from the procedure being discussed.
_SITUATION: dict[Aspect, tuple[str, ...]] = {
    "late": (
        # "muon" is "muộn" (late) and "muốn" (want): unaccented only where "want" cannot be
        # meant ("em muon lam giay khai sinh" is not late); with accents, "muộn" (_ACCENTED)
        "nop muon",
        "bi muon",
        "co muon khong",
        "con kip",
    ),
    "who": (
        # someone who cannot come: whether another may file for them, who must be present
        "khong ve duoc",
        "khong ve thi",
        "khong the ve",
        "chua ve duoc",
        "khong den duoc",
        "khong the den",
        "khong di duoc",
        "khong the di",
        "khong len duoc",
        "khong co mat",
        "vang mat",
        "cung co mat",
        "deu co mat",
        "tu di",  # "tự đi được không": alone
        "ky cung",
        "cung ky",
        "cung phai ky",
        "den nha",  # "có cử người đến nhà không": for one who cannot travel
        "toi nha",
        "di khai duoc",
        "di dang ky duoc",
        "di nop duoc",
        "di xin duoc",
        "phai dan",  # "có phải dẫn nó lên không": must the person come
        "dan len",
        "dan theo",
    ),
}
_KIN = r"(?:con|chau|em|vo|chong|bo|me|ba|ong|anh|chi|nguoi khac|nguoi nha|nguoi than)"
# Situations said around the cue's words: "đi chứng thực thay bố", "tài khoản của cháu".
_SITUATION_PATTERNS: dict[Aspect, re.Pattern[str]] = {
    "who": re.compile(
        rf" (?:di|lam|nop|ky) (?:\S+ ){{0,4}}thay (?:cho )?{_KIN} "
        rf"| (?:tai khoan|dien thoai|sim) (?:\S+ )?cua {_KIN} "
    ),
}
# "không đi có sao không", "chưa đăng ký thì có bị gì không": what follows from not doing it,
# the late section, whatever other cue ("để lâu" reads as time) the words hold
_NOT_DONE = re.compile(
    r" (?:khong|chua) (?:di|lam|dang ki|khai|nop|den|ra)(?: \S+){0,4} (?:thi )?co (?:bi )?"
    r"(?:sao|gi|van de gi) "
)
# "có được hỗ trợ không, bao nhiêu", "10 tờ thì bao nhiêu": how much, asked last on its own
# (not "số điện thoại bao nhiêu"); on the typed text, where the comma still is
_HOW_MUCH = re.compile(r"(?:,|\bth[iì]) *(?:bao nhi[eê]u|bn)(?: (?:vậy|vay|ạ|a))?[\s?.!]*$")
# Situation cues that folding makes ambiguous, looked for with their accents: folded "muon" is
# also "muốn", "han" also "Hàn".
_ACCENTED: dict[Aspect, tuple[str, ...]] = {
    "late": ("muộn", "là hạn", "hạn nộp"),
    "who": ("có mặt", "vắng mặt"),
}


def exact(text: str) -> str:
    """The words with their accents (tone placement and i/y agreeing), padded; unaccented
    words stay bare, so an accented cue matches only text typed with accents."""
    return " " + " ".join(t.exact or t.plain for t in tokens(text)) + " "


FEE_WORDS = ("le phi", "phi", "nop tien", "mat tien", "ton tien")

# Words that name no procedure: what is left of a follow-up once they go says whether it has a
# subject of its own ("cần mang gì" has none, "còn sổ đỏ thì sao" has one).
LIGHT_WORDS = {
    "cho",
    "toi",
    "em",
    "anh",
    "chi",
    "minh",
    "hoi",
    "xin",
    "a",
    "ha",
    "nhe",
    "nha",
    "vay",
    "the",
    "thi",
    "la",
    "co",
    "khong",
    "duoc",
    "can",
    "muon",
    "lam",
    "gi",
    "sao",
    "nao",
    "do",
    "nay",
    "con",
    "roi",
    "di",
    "voi",
    "va",
    "ma",
    "o",
    "ko",
    "k",
    "dc",
    "oi",
    "bac",
    "chau",
    "ong",
    "ba",
    "chu",
    "nua",
    "cung",
    "phai",
    "bi",
    "khi",
    "neu",
    "ngay",
    "thang",
    "nam",
    "lan",
    "cua",  # "của"
    "be",  # "bé", the child, like "con"
    "nhung",  # "những"
    "cac",  # "các"
    "de",  # "để" (in order to): "cần gì để làm lại"
    "moi",  # "mỗi" (each): "mỗi trang bao nhiêu"; "mới" too, never a procedure alone
    "e",  # teencode "em"
    "r",  # teencode "rồi"
    "xong",  # "nộp xong khi nào nhận tiền": done, never a procedure
}


# Teencode and regional words spelled out before the cues are looked for (on folded words).
_WORDS = {
    "j": "gi",
    "gj": "gi",
    "ji": "gi",
    "dc": "duoc",
    "ko": "khong",
    "k": "khong",
    "kh": "khong",
    "hok": "khong",
    "hem": "khong",
    "khg": "khong",
    "kg": "khong",
    "lm": "lam",
    "man": "lam",  # "mần"
    "ntn": "nhu the nao",
    "bh": "bao gio",
    "bjo": "bao gio",
    "bgio": "bao gio",
    "onl": "online",
    "mag": "mang",  # typed without the "n": "cần mag giấy gì"
    "dvc": "dich vu cong",  # "nộp trên dvc được không"
    "ol": "online",
    "ng": "nguoi",
    "nhiu": "nhieu",
    "nhju": "nhieu",
    "zay": "vay",
    "z": "vay",
    "s": "sao",
    "tn": "the nao",
}
_PHRASES = (
    (" bn lau ", " bao lau "),
    (" bnh lau ", " bao lau "),
    (" bn ", " bao nhieu "),
    (" bnh ", " bao nhieu "),
    (" bi nhieu ", " bao nhieu "),  # Southern "bi nhiêu"
    (" nhieu tien ", " bao nhieu tien "),  # Southern "nhiêu tiền"
    (" bao bao nhieu ", " bao nhieu "),
    (" hong ", " khong "),  # Southern "hông"; "sổ hồng" stays
    (" so khong ", " so hong "),
    (" to chi ", " to gi "),  # Central "giấy tờ chi"
    (" giay chi ", " giay gi "),
    (" mang chi ", " mang gi "),
    (" can chi ", " can gi "),
)


_PLACE_ONLY = {"o xa", "o phuong", "o huyen", "o tinh", "o uy ban", "o ap", "lam tai", "nop tai"}
_ASKING = ("khong", "duoc", "dau", "nao", "sao", "chua", "gi", "ha", "a", "nhi")


def _asks(padded: str) -> bool:
    return any(f" {word} " in padded for word in _ASKING)


_AGE = re.compile(r" \d+ tuoi ")
_MAY_I = ("duoc khong", "co duoc", "luong huu")
# "mất bao nhiêu ngày" asks how long it takes, not how much it costs
_HOW_LONG = re.compile(r" (?:mat|het|ton) bao nhieu (?:ngay|tuan|hom|bua) ")
_OVERDUE = re.compile(r" qua \d+ (?:ngay|thang|nam|hom|bua) ")  # "quá 60 ngày rồi"
# "hộ" of "hồ sơ", "hộ chiếu", "hộ khẩu"... is not "nộp hộ" (on someone's behalf): joined while
# cues are looked for.
# "sim chính chủ" (a SIM in one's own name) is a paper to bring, not who must come.
_JOINED = (
    "ho so",
    "ho chieu",
    "ho khau",
    "ho ngheo",
    "ho can ngheo",
    "ho kinh doanh",
    "ho tich",
    "sim chinh chu",
)


def spelled(text: str) -> str:
    """Folded text with teencode and regional words spelled out: "bn lâu" -> "bao lau"."""
    padded = " " + " ".join(_WORDS.get(w, w) for w in fold(text).split()) + " "
    for short, full in _PHRASES:
        padded = padded.replace(short, full)
    for words in _JOINED:
        padded = padded.replace(f" {words} ", f" {words.replace(' ', '_')} ")
    padded = _HOW_LONG.sub(" mat bao lau ", padded)
    return _OVERDUE.sub(" qua ngay ", padded)


def _joined(cue: str) -> str:
    padded = f" {cue} "
    for words in _JOINED:
        padded = padded.replace(f" {words} ", f" {words.replace(' ', '_')} ")
    return padded.strip()


# Words every procedure shares ("nộp hồ sơ", "thủ tục"): what a follow-up asks, not which guide.
_GENERIC = ("nop ho_so", "lam ho_so", "ho_so", "thu tuc", "cho hoi", "xin hoi", "nop", "dang ki")
# folded like the text ("ký" is "ki" there), hồ sơ-like words joined
_MATCHED = tuple((aspect, tuple(_joined(fold(cue)) for cue in cues)) for aspect, cues in _CUES)
_WIDE = tuple(
    (aspect, (*cues, *(_joined(fold(cue)) for cue in _SITUATION.get(aspect, ()))))
    for aspect, cues in _MATCHED
)
_EXACT = {aspect: tuple(exact(cue) for cue in cues) for aspect, cues in _ACCENTED.items()}


def detect(text: str, topic: str = "", wide: bool = False) -> Aspect | None:
    """The aspect asked. Cues found in `topic` (the title of the guide the question is about)
    name the procedure, not a part of it: "nộp hồ sơ trên dịch vụ công thế nào" asks how to
    file online, the whole of the online-filing guide, not its online section. `wide`: the
    guide is chosen; the citizen's situation counts too (_SITUATION, a missing paper)."""
    padded = spelled(text)
    named = spelled(topic) if topic else ""
    accented, accented_topic = (exact(text), exact(topic)) if wide else ("", "")
    if _NOT_DONE.search(padded) and not _NOT_DONE.search(named):
        return "late"
    for aspect, cues in _WIDE if wide else _MATCHED:
        found = [cue for cue in cues if f" {cue} " in padded and f" {cue} " not in named]
        if topic and aspect == "where" and set(found) <= _PLACE_ONLY and not _asks(padded):
            continue  # "photo công chứng căn cước ở xã" says where it is done, asks nothing
        if found or any(
            cue in accented and cue not in accented_topic for cue in _EXACT.get(aspect, ())
        ):
            return aspect
        pattern = _SITUATION_PATTERNS.get(aspect) if wide else None
        if pattern is not None and pattern.search(padded) and not pattern.search(named):
            return aspect
    if _AGE.search(padded) and any(f" {cue} " in padded for cue in _MAY_I):
        return "who"  # "con em 10 tuổi làm căn cước được không": who may, by age
    lacking = missing_paper(text) if wide and not topic else None
    if lacking is not None and lacking.startswith(_MEANS):
        return "faq"  # "không có chữ ký số thì sao": a question of its own, not the papers
    if lacking is not None:
        # "không có giấy chứng sinh thì sao" about the guide being discussed: what to bring
        # instead (a first question naming a lost paper asks for the procedure replacing it)
        return "docs"
    if wide and _HOW_MUCH.search(clean(text)):
        return "fee"  # a benefit's amount for a guide that pays one (the router's reading)
    return None


def without_cues(text: str) -> str:
    """The question with its aspect words removed: "khai sinh mất bao lâu" -> "khai sinh"."""
    padded = spelled(text)
    for _, cues in _ALL_CUES:
        for cue in cues:
            padded = padded.replace(f" {cue} ", " ")
    return " ".join(padded.replace("_", " ").split())


def remarked(folded: str, text: str) -> str:
    """Folded words given back the accent marks they had in `text` ("giay do trong" from "giấy
    đó có giá trị trong bao lâu" -> "giấy đó trong"): with marks, the lexicon and the model
    tell "giấy đó" (that paper) from "giấy đỏ" (the land certificate). Words spelled out from
    teencode, which the text does not hold, stay folded."""
    marked: dict[str, list[str]] = {}
    for word in re.findall(r"\w+", text):
        marked.setdefault(fold(word), []).append(word.lower())
    out = []
    for word in folded.split():
        found = marked.get(word)
        out.append(found.pop(0) if found else word)
    return " ".join(out)


def subject(text: str) -> list[str]:
    """The words of a question that no aspect cue covers, overlapping cues too: "cần những ai
    có mặt" and "lệ phí bao nhiêu" have none (they ask about the procedure in context), where
    removing "những ai" first would leave "có mặt" looking like a subject."""
    padded = spelled(text)
    words = padded.split()
    covered = [False] * len(words)
    for _, cues in _ALL_CUES:
        for cue in (c for c in cues if f" {c} " in padded):
            size = cue.count(" ") + 1
            for start in range(len(words) - size + 1):
                if " ".join(words[start : start + size]) == cue:
                    covered[start : start + size] = [True] * size
    kept = " ".join(w for w, gone in zip(words, covered, strict=True) if not gone)
    return [w for w in kept.replace("_", " ").split() if w not in LIGHT_WORDS and not w.isdigit()]


_ALL_CUES = (*_MATCHED, ("generic", _GENERIC))


# Papers a citizen brings: "giấy đăng ký kết hôn", "bản án ly hôn", "sổ hồng", "hộ chiếu".
_PAPER = (
    r"(?:giay|ban goc|ban sao|ban an|ban dich|so hong|so do|so ho_khau|the|hop dong|quyet dinh"
    r"|cccd|cmnd|can cuoc|ho_chieu|trich luc|sim|to khai|anh|hinh|chung tu|xac nhan|van ban)"
)
_BRING = re.compile(
    r" (?:can|mang|dem|nop|phai mang|phai nop|phai co|can co|can xin(?! giay phep))"
    r"(?: theo| them| lai)? "
    + _PAPER
    + r" (?!(?:to )?(?:gi|nao|nhung|chi)\b)"  # a paper named, not "cần giấy (tờ) gì"
)
_PAPER_ASKED = re.compile(
    " "
    + _PAPER
    + r" (?:\S+ ){0,5}(?:co )?(?:can|phai) (?:dich|nop|mang|co)(?: \S+)* (?:khong|k|ko|a)? ?$"
)
# "giấy mua bán viết tay hồi đó tôi còn giữ, có dùng được không": whether a paper will do ("thẻ
# ... còn dùng được không" asks whether it is still valid)
_STILL_VALID = re.compile(r" con (?:su )?(?:dung|xai) (?:duoc|dc) ")
_PAPER_USABLE = re.compile(
    " " + _PAPER + r" (?:\S+ ){0,10}(?:co )?(?:dung|xai|su dung) (?:duoc|dc) (?:khong|k|ko|hong)\b"
)

# "căn cước hết hạn rồi, dùng hộ chiếu được không": another paper in place of one asked for
_PAPER_INSTEAD = re.compile(
    r" (?:dung|xai|su dung|thay bang|lay) " + _PAPER + r"(?: \S+){0,3} (?:thay )?(?:duoc|dc) "
    r"(?:khong|k|ko|hong)\b"
)


# where a paper is obtained, or a wish to obtain it ("cần thêm bản sao trích lục kết hôn thì
# xin cùng lúc được không"): the procedure that issues it, not a paper to bring
_OBTAIN_WHERE = re.compile(
    r" (?:xin|lay|cap|lam) (?:lai |them )?(?:o|tai) (?:dau|cho nao|noi nao)\b"
    r"| thi (?:xin|lay) (?:them |luon |cung luc|cung mot luc|chung)"
)


def asks_for_paper(text: str) -> bool:
    """The message asks whether to bring a paper ("cần mang giấy đăng ký kết hôn không", "hộ
    chiếu của ông có phải nộp lại không"): the paper's name there is no procedure's name. A
    procedure named before what it needs ("đăng ký kết hôn cần giấy gì") is not this."""
    padded = spelled(text)
    if _OBTAIN_WHERE.search(padded):
        return False  # "cần thêm bản sao giấy chứng tử thì xin ở đâu": where to get it
    usable = _PAPER_USABLE.search(padded) and not _STILL_VALID.search(padded)
    instead = _PAPER_INSTEAD.search(padded)
    return bool(_BRING.search(padded) or _PAPER_ASKED.search(padded) or usable or instead)


# what the citizen may lack besides a paper: a way to sign, pay or file online
_MEANS = ("chu ky", "chu ki", "tai khoan", "dien thoai", "may tinh", "email", "smartphone")
_PAPERS_LACKED = (
    *("giay", "ban chinh", "ban goc", "trich luc", "so", "the", "cccd", "cmnd", "can cuoc"),
    *("hoc ba", "sim"),
)
_MISSING = re.compile(
    r" (?:khong co|mat|bi mat|lam mat|thieu|khong con|chua co|chi con|chi co) "
    rf"(?P<paper>(?:{'|'.join((*_PAPERS_LACKED, *_MEANS))})"
    r"(?: (?!(?:thi|co|roi|cua|ma|nen|duoc|khong|gi|to)\b)\S+){0,3})"
)


def missing_paper(text: str) -> str | None:
    """The paper the citizen lacks ("không có giấy chứng sinh thì sao" -> "giay chung sinh"),
    folded; None when the message names no missing paper. "Mất" before a paper is losing it
    ("bà mất" is a death, and names no paper)."""
    found = _MISSING.search(spelled(text))
    return found.group("paper").replace("_", " ") if found is not None else None
