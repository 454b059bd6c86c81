"""Decide what a citizen's command, button or free text means, and run the matching flow."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from flows import answers, texts
from flows.aspects import (
    ASPECTS,
    LIGHT_WORDS,
    Aspect,
    asks_for_paper,
    detect,
    missing_paper,
    remarked,
    spelled,
    subject,
    without_cues,
)
from flows.callbacks import FORM_FLOWS, RATING_STAFF, Act, Callback, Flow, button, parse
from flows.feedback import Feedback, feedback_wish
from flows.handoff import Handoffs
from flows.masking import mask_personal
from flows.menu import HUMAN, MENU, main_menu_buttons, show_field, show_menu, show_welcome
from flows.models import Reply, StaffNotice
from flows.ports import ConversationState, StaffDesk, Storage
from flows.turn import Turn
from knowledge.clauses import after_done, asks, asks_or_yes_no
from knowledge.library import Library
from knowledge.matcher import FOREIGN_PERSON, MatchResult
from knowledge.normalize import fold
from knowledge.schema import Guide

_GREETINGS = {"xin chao", "chao", "chao ban", "hello", "hi", "alo", "chao bot", "chao ad", "hey"}
_THANKS = {"cam on", "cam on ban", "cam on nhieu", "thanks", "thank you", "tks", "ok cam on"}
_CHITCHAT_REPLIES = {
    "ack": texts.ACKNOWLEDGED,
    "goodbye": texts.GOODBYE,
    "praise": texts.THANK_YOU_BACK,
}
_CANCEL = {"huy", "huy bo", "thoi", "thoi khong", "dung", "dung lai", "thoat", "bo qua", "cancel"}
CLARIFY_OPTIONS = 4
HANDOFF_WORDS = 8
# Leaving the guide being discussed needs clear evidence for another one (confidence 0..1).
SWITCH_CONFIDENCE = 0.8
SWITCH_MARGIN = 0.25
# A follow-up without aspect words stays when the matcher's (undecided) best is the current guide.
STAY_CONFIDENCE = 0.5
# a follow-up that names nothing stays on the open guide when it is among this many leads
STAY_RANK = 3
# The out-of-scope class leading the best guide by this much (combined score) is "not ours".
OUTSIDE_LEAD = 0.7
OUTSIDE_WORDS = 3
# the out-of-scope class must lead by this much for a message right after "which of these?"
# to be taken as something else, not a question about the choices
CLEAR_OUTSIDE = 1.0
# ... or when the current guide is about as likely as the (undecided) best: context breaks ties.
TIE_CONFIDENCE = 0.4
# A follow-up's own words point elsewhere only when some guide is at least this likely.
WEAK_SUBJECT = 0.6
# Below this the matcher's best in a "which of these?" is no lead at all
WEAK_LEAD = 0.5
# A message typed after "which of these?" picks a choice only this far ahead of the next one.
CHOICE_MARGIN = 0.1
# Words of its own (not an aspect's) a message after "which of these?" needs to be a new question
# on a lead below SWITCH_CONFIDENCE
OWN_WORDS = 3
# how many guides a conversation remembers having been about
RECENT_GUIDES = 5
# how long the facts told (a foreigner involved, the guides discussed) hold without a message
FACTS_KEPT = dt.timedelta(hours=24)
_SWITCH = re.compile(
    r"^(?:the |vay |con |the con |vay con |con ve |a ma |ngoai ra |hoi them |cho hoi them |them )+"
    r"(.+?)(?: thi sao| thi the nao| the nao| sao| nua| thi)?$"
)
_FEE_WORDS = ("le phi", "phi", "nop tien", "lam mat tien", "ton tien")


_NUMBER_WORDS = {"nhat": 1, "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5}
_CHOICE = re.compile(
    r"^(?:(?:da|vang|em|toi|chau|minh|chon|lay|xem|la)\s+)*"
    r"(?:(?P<lead>cai so|cai|so|muc|phuong an|lua chon|y|dong)\s+)?(?:(?P<nth>thu)\s+)?"
    r"(?P<n>\d+|nhat|mot|hai|ba|bon|tu|nam|dau tien|dau)"
    r"(?:\s+(?:a|nhe|nha|ak|ah|di|ad|ban|thoi|ay|do))*$"
)


def choice_number(text: str) -> int | None:
    """A typed choice among numbered buttons: "2", "số 2", "cái thứ 2 ạ", "cái đầu tiên" -> its
    number (from 1). Bare "thứ 2" is Monday and "ba" is a grandmother: a number word needs a
    lead word ("cái thứ hai", "thứ nhất")."""
    found = _CHOICE.match(fold(text).strip().rstrip("."))
    if found is None:
        return None
    word, lead, nth = found.group("n"), found.group("lead"), found.group("nth")
    if word.isdigit():
        return int(word) if lead or not nth else None
    if word.startswith("dau"):
        return 1 if lead == "cai" else None
    if word == "nhat":
        return 1 if nth else None
    return _NUMBER_WORDS[word] if lead else None


_CORRECTION = re.compile(
    r"^(?:da |a |khong |ko |k )*(?:khong phai|ko phai|k phai|sai roi|nham roi|em nham|toi nham|"
    r"(?:(?:em|toi|minh|chau) )?(?:noi|go|hoi) nham|nham|chua dung|khong dung)(?: (?:roi|a|ad|ban|vay|the|cai do|cai nay|thu tuc do|thu tuc nay))*"
    r"(?P<rest>.*)$"
)
# What the citizen meant, said after the correction: "ý em là ...", "em hỏi ...".
_MEANT = re.compile(
    r"^ *(?:(?:y|thuc ra) (?:(?:em|toi|minh|chau|con|bac) )?la|"
    r"(?:(?:em|toi|minh|chau|con|bac) )?(?:hoi|muon hoi|can hoi|dinh hoi|dang hoi)(?: ve| cai)?) "
)


def _correction(text: str) -> str | None:
    """ "không phải, ý em là đăng ký lại khai tử" -> "dang ky lai khai tu": what the citizen
    says instead of the procedure just answered ("" for a bare "không phải"); None when the
    message is no correction ("không phải đóng tiền à" asks whether one need not pay). The
    correction stands alone before a comma, or is followed by "ý em là", "em hỏi"."""
    parts = [*re.split(r"([,.;!?\n]+)", text, maxsplit=1), "", ""]
    found = _CORRECTION.match(fold(parts[0]))
    if found is None:
        return None
    own = found.group("rest").strip()
    meant = _MEANT.match(own + " ")
    if own and meant is None:
        return None  # "không phải đóng tiền à": "need not", not "that is not it"
    said = own[meant.end() :].strip() if meant is not None and own else ""
    rest = f"{said} {fold(parts[2])}".strip()
    meant = _MEANT.match(rest + " ")
    return rest[meant.end() :].strip() if meant is not None and not said else rest


def _switch_target(text: str) -> str | None:
    """'thế còn khai tử thì sao' -> 'khai tu'; None when what follows names no procedure
    ('thế còn lệ phí thì sao' asks the current guide's fee)."""
    found = _SWITCH.match(fold(text))
    if found is None or not subject(found.group(1)):
        return None
    return found.group(1).strip()


def _content_words(text: str) -> int:
    """Words that could name a procedure: not light words, not numbers ("60 ngày")."""
    return len([w for w in text.split() if w not in LIGHT_WORDS and not w.isdigit()])


def _title_told(guide: Guide, text: str) -> bool:
    """Four words of the guide's name at least: its name typed ("nộp hồ sơ trực tuyến"), not
    a word or two it shares with every "đăng ký ở đâu"."""
    return len((set(fold(text).split()) & set(fold(guide.title).split())) - LIGHT_WORDS) >= 4


def _outside(
    result: MatchResult, text: str, follow_up: bool = False, lead: float = OUTSIDE_LEAD
) -> bool:
    """The matcher's out-of-scope class leads clearly and the message has words of its own
    besides aspect words ("mất mấy ngày" alone looks like nothing, not like something else).
    In a follow-up "bao nhiêu" left of a cue is the question, not such a word ("mấy bản thì
    tính bao nhiêu"); a first message "giá vàng bao nhiêu" is everyday talk all the same."""
    core = without_cues(text)
    if follow_up:
        core = f" {core} ".replace(" bao nhieu ", " ")
    return result.outside >= lead and _content_words(core) >= OUTSIDE_WORDS


def _clearly_ahead(result: MatchResult, current: Guide) -> bool:
    """The best guide is another one, confidently and well ahead of the current guide."""
    best = result.best
    if best is None or best.id == current.id or result.intent != "guide":
        return False
    scores = {m.id: m.score for m in result.matches}
    return (
        best.score >= SWITCH_CONFIDENCE
        and best.score - scores.get(current.id, 0.0) >= SWITCH_MARGIN
    )


def _broader(other: Guide, current: Guide) -> bool:
    """`other`'s name is part of the current guide's ("Đăng ký khai sinh" of "Đăng ký khai
    sinh có yếu tố nước ngoài"): naming it again is no evidence for leaving the narrower one."""
    return set(fold(other.title).split()) <= set(fold(current.title).split())


# with marks: folded, "còn" (still) is "con" and "trễ" (late) is "tre"
_CHILD = re.compile(r"\b(?:bé|con|cháu|trẻ)\b")
_CHILD_UNMARKED = re.compile(r"\b(?:be|con|chau|tre)\b")


def _about_child(text: str) -> bool:
    lowered = unicodedata.normalize("NFC", text.lower())
    if fold(lowered) == lowered:  # typed without marks: the letters are all there is
        return bool(_CHILD_UNMARKED.search(lowered))
    return bool(_CHILD.search(lowered))


def _bundled(other: Guide, current: Guide, text: str) -> bool:
    """A joint procedure names those it bundles: «Liên thông đăng ký khai sinh – đăng ký thường
    trú – cấp thẻ BHYT cho trẻ dưới 6 tuổi» holds «Đăng ký thường trú». A follow-up about the
    child ("bố mẹ khác hộ khẩu thì bé nhập theo ai") is about the joint one; the whole family's
    move ("cả nhà chuyển về nhà mới, nhập hộ khẩu thế nào") is the other procedure."""
    head = fold(re.split(r"[,(–;]", other.title)[0]).split()
    return (
        len(head) >= 3
        and f" {' '.join(head)} " in f" {fold(current.title)} "
        and _about_child(text)
    )


def _close_to_best(result: MatchResult, current: Guide) -> bool:
    """The current guide is among the matcher's leads, as plausible as the best (which the
    matcher did not dare answer with): the conversation's context breaks the tie."""
    best = result.best
    mine = next((m.score for m in result.matches if m.id == current.id), 0.0)
    return best is not None and mine >= TIE_CONFIDENCE and best.score - mine < SWITCH_MARGIN / 2


def _offered(library: Library, turn: Turn) -> list[str]:
    """The guides the last "which of these?" offered as buttons."""
    keys = [parse(b.data) for b in turn.state.buttons]
    return [cb.key for cb in keys if cb.act is Act.CARD and library.guide(cb.key) is not None]


def _new_question(library: Library, turn: Turn, result: MatchResult, text: str) -> bool:
    """After "which of these?", a message that names a guide not offered as confidently as a
    follow-up must to leave the guide being discussed: a new question, not an answer."""
    best = result.best
    offered = _offered(library, turn)
    named = library.guide(best.id) if best is not None else None
    if result.intent != "guide" or named is None or named.id in offered:
        return False
    if any(g is not None and _broader(named, g) for g in map(library.guide, offered)):
        # "bé mới sinh tuần trước, chưa làm giấy khai sinh" after «Đăng ký nhận cha, mẹ, con»
        # or «Đăng ký khai sinh kết hợp nhận cha, mẹ, con»: the general name of an offered one
        return False
    if best is None:
        return False
    if best.score >= SWITCH_CONFIDENCE:
        return True
    # "bố cháu quốc tịch Mỹ thì có phải làm loại khai sinh khác không" after «Đăng ký khai sinh
    # kết hợp nhận cha, mẹ, con» or «Đăng ký nhận cha, mẹ, con»: the matcher answers another
    # guide confidently, in words of its own, and leaves every offered one far behind ("cần
    # giấy gì để chứng minh" has only an aspect's words: a follow-up on the choice)
    if len(subject(text)) < OWN_WORDS:
        return False
    offered_best = max((m.score for m in result.matches if m.id in offered), default=0.0)
    return best.score - offered_best >= SWITCH_MARGIN


def _after_clarify(library: Library, turn: Turn, text: str) -> Guide | None:
    """After "which of these?" the citizen may type a follow-up instead of pressing a button
    ("có cần xét nghiệm ADN không"): the one choice that the question asked and this message
    decide together, or the only one whose FAQ it asks; None when that does not settle it."""
    options = _offered(library, turn)
    if len(options) < 2:
        return None
    if not subject(text):
        return None  # "mất bao lâu" says nothing about which of the choices
    query = str(turn.state.data.get("query", ""))
    both = library.matcher.match(f"{query} {text}", allowed=frozenset(options))
    if both.intent == "guide" and both.best is not None:
        # Only a clear lead settles it: between close siblings ("nhận cha con" at the birth
        # registration or later) a near tie is a guess, and a wrong guess sends the wrong papers.
        runner_up = max((m.score for m in both.matches[1:]), default=0.0)
        # The message's own words must lean the same way: the question asked between these
        # because its words alone did not settle it, and a follow-up that adds nothing about
        # the choice ("cần giấy gì để chứng minh") must not settle it either.
        # They must also lean with some weight: "cần những gì để làm lại" fits every
        # registering-again guide, and its faint lead to one of them is no choice.
        alone = library.matcher.match(text, allowed=frozenset(options)).best
        if (
            both.best.score - runner_up >= CHOICE_MARGIN
            and alone
            and alone.id == both.best.id
            and alone.score >= WEAK_LEAD
        ):
            return library.guide(both.best.id)
    named = library.matcher.match(text, allowed=frozenset(options))
    if named.intent == "guide" and named.best is not None and named.best.score >= SWITCH_CONFIDENCE:
        # "đăng ký kết hôn mang gì" after «Đăng ký thường trú» or «Đăng ký kết hôn»: the
        # message names one of the choices by itself, well ahead of the others
        runner_up = max((m.score for m in named.matches[1:]), default=0.0)
        if named.best.score - runner_up >= SWITCH_MARGIN:
            return library.guide(named.best.id)
    guides = [g for g in map(library.guide, options) if g is not None]
    # (the aspect's cue words are no FAQ's: "cần giấy gì để chứng minh" is not "Chỉ mất giấy
    # chứng tử thì sao?")
    asked = without_cues(text)
    fits = [g for g in guides if answers.faq_for(g, asked) is not None]
    return fits[0] if len(fits) == 1 else None


def _in_light_of(library: Library, current: Guide, core: str) -> MatchResult:
    """The follow-up's own words read together with the procedure being discussed: which
    guide the two name together ("kết hôn" + "bạn gái định cư ở Mỹ": the foreign variant)."""
    return library.match(f"{fold(current.title)} {core}")


def _named_whole(result: MatchResult, core_best: str, current: Guide) -> bool:
    """The whole message names another guide clearly, and its words without the aspect cues
    point there too: "nếu bọn em đăng ký kết hôn luôn thì cần gì" while «Đăng ký nhận cha, mẹ,
    con» is open (the cue "đăng ký" is part of the name, so the words alone are less sure)."""
    return (
        result.best is not None and result.best.id == core_best and _clearly_ahead(result, current)
    )


def _rival(library: Library, read: MatchResult, current: Guide) -> Guide | None:
    """The likeliest guide other than the current one in the contextual reading."""
    other = next((m for m in read.matches if m.id != current.id), None)
    return library.guide(other.id) if other is not None else None


def _paying(library: Library, guide: Guide) -> list[Guide]:
    """For a guide that pays nothing, its related guides that pay a benefit (what a "được bao
    nhiêu tiền" about it asks); none for a guide that pays one itself."""
    if guide.benefits:
        return []
    related = [library.guide(r) for r in guide.related]
    return [g for g in related if g is not None and g.benefits]


def _its_benefit(
    library: Library, text: str, aspect: Aspect | None, current: Guide, asked: list[Guide]
) -> Guide | list[Guide]:
    """ "Có giấy rồi thì cháu được trợ cấp bao nhiêu một tháng" while «Xác định mức độ khuyết
    tật» is open, asked between the allowances: the open procedure pays nothing and leads to
    one allowance among those asked about; that one pays what is asked."""
    if not (aspect == "benefit" or _asks_receiving(text)):
        return asked
    paying = _paying(library, current)
    if len(paying) != 1 or paying[0] not in asked:
        return asked
    # of the same matter ("khuyết tật" in both names), not only linked to it: «Đăng ký giám
    # hộ» leads to the disability allowance too, but an orphan's is another one
    shared = set(fold(paying[0].title).split()) & set(fold(current.title).split())
    return paying[0] if len(shared - LIGHT_WORDS) >= 2 else asked


def _recalled(recent: list[str], asked: list[Guide], current: Guide) -> Guide | list[Guide]:
    """Of the guides to ask between, the one other than the open guide that this conversation
    was about before ("cháu mồ côi có được hỗ trợ không" ... «Đăng ký giám hộ» ... "còn tiền
    trợ cấp cháu được bao nhiêu"): the citizen comes back to it."""
    earlier = [g for g in asked if g.id != current.id and g.id in recent]
    return earlier[0] if len(earlier) == 1 else asked


def _forget(state: ConversationState, guide_id: str) -> None:
    """A guide the citizen rejected ("không phải ...") is no guide to come back to."""
    state.recent = [g for g in state.recent if g != guide_id]


def _tipped(alone: MatchResult, read: MatchResult, ahead: Guide, rival: Guide) -> bool:
    """The words alone make `rival` nearly as likely as `ahead`, and read with the procedure
    being discussed they put it first: a near tie that the context tips the other way."""
    if rival.id == ahead.id:
        return False
    plain = {m.id: m.score for m in alone.matches}
    if plain.get(rival.id, 0.0) < plain.get(ahead.id, 0.0) - SWITCH_MARGIN:
        return False
    together = {m.id: m.score for m in read.matches}
    return together.get(rival.id, 0.0) > together.get(ahead.id, 0.0)


def _stays(read: MatchResult, current: Guide, other_id: str | None) -> bool:
    """Read with the procedure being discussed, the words name it confidently, well ahead of
    the guide they would name alone (`other_id`) and of any other."""
    best = read.best
    if read.intent != "guide" or best is None or best.id != current.id:
        return False
    runner_up = max((m.score for m in read.matches if m.id != current.id), default=0.0)
    alone = next((m.score for m in read.matches if m.id == other_id), 0.0)
    return best.score - max(runner_up, alone) >= SWITCH_MARGIN


def _narrower(library: Library, read: MatchResult, current: Guide) -> Guide | None:
    """A narrower variant of the current guide ("... có yếu tố nước ngoài") that the words,
    read with it, name clearly ahead of it."""
    best = read.best
    if read.intent != "guide" or best is None or best.id == current.id:
        return None
    # the matcher's own confident decision, well ahead of the current guide (not the absolute
    # switching confidence: the variant's words are the citizen's own fact, the title ours)
    if best.score - next((m.score for m in read.matches if m.id == current.id), 0.0) < (
        SWITCH_MARGIN
    ):
        return None
    variant = library.guide(best.id)
    if variant is None or not _broader(current, variant):
        return None
    return variant


# Any word that may place the matter abroad ("bên Hàn", "ở Đức", "Việt kiều"): generous on
# purpose, it only lets the foreign-element guides be reached from another one
_FOREIGN_SIGN = re.compile(
    r"\b(?:nuoc ngoai|ngoai quoc|viet kieu|quoc te|dinh cu|xuat khau lao dong|han|nhat|my|uc"
    r"|phap|duc|nga|anh|canada|trung quoc|dai loan|lao|campuchia|thai|singapore|malaysia|sec"
    r"|ba lan|hong kong|indonesia|philippines|an do|hoa ky|hoa ki|chau au|tay|kieu bao)\b"
)


def _foreign_without_sign(library: Library, text: str, guide: Guide, current: Guide) -> bool:
    """A foreign-element guide reached from a domestic one by a message that says nothing of
    abroad ("tôi ly hôn rồi thì giấy có ghi là đã ly hôn không" while «Cấp Giấy xác nhận tình
    trạng hôn nhân» is open: the only guide naming a divorce is the foreign one's note)."""
    foreign = library.matcher.foreign
    if guide.id not in foreign or current.id in foreign:
        return False
    return not _FOREIGN_SIGN.search(library.matcher.normalise(text))


def _foreign_variant(library: Library, text: str, current: Guide) -> Guide | None:
    """The foreign-element variant of the current guide when the message tells that a
    foreigner is involved ("ông người Pháp ... có thẻ thường trú" while «Đăng ký khai tử» is
    open): the fact decides the variant, whatever other words it shares with other guides."""
    variants = library.matcher.foreign_variants.get(current.id, frozenset())
    if len(variants) != 1 or not FOREIGN_PERSON.search(library.matcher.normalise(text)):
        return None
    return library.guide(next(iter(variants)))


# what the normaliser makes of "chồng em người Hàn", "sinh ở Nhật", "Việt kiều", "quốc tịch Mỹ"
_FOREIGN_TOLD = re.compile(r"\bnuoc ngoai\b")
_DOMESTIC_TOLD = re.compile(r"\b(?:nguoi viet|trong nuoc|cung que|nguoi cung xa)\b")


def _told_domestic(library: Library, text: str, guide: Guide) -> bool:
    """A foreign-element guide that the message itself rules out ("đăng ký kết hôn với cô
    ấy, người cùng quê" after a divorce abroad: the current guide's title says "nước ngoài",
    the citizen says the bride is from home)."""
    return guide.id in library.matcher.foreign and bool(
        _DOMESTIC_TOLD.search(library.matcher.normalise(text))
    )


def _abroad(library: Library, told: str | None, guide: Guide) -> Guide:
    """The foreign-element variant of a guide once the conversation has told that a foreigner
    or a country abroad is involved ("em sắp lấy chồng Đài Loan" ... "bao lâu thì có giấy kết
    hôn"): the fact told earlier still holds; the plain guide would send the wrong papers. Only
    for the matter it was told about (the guide then, its variant or those linked to it): the
    grandfather's death later in the same conversation is no foreigner's."""
    if not told or guide.id in library.matcher.foreign:
        return guide
    variants = library.matcher.foreign_variants.get(guide.id, frozenset())
    if len(variants) != 1:
        return guide
    if told != "*":
        topic = library.guide(told)
        near = {told, *(topic.related if topic is not None else ())}
        if guide.id not in near and not (variants & near) and told not in guide.related:
            return guide
    return library.guide(next(iter(variants))) or guide


def _name_words(guide: Guide) -> set[str]:
    """The words of a guide's names that could tell it apart: not "có", "không" ("khai sinh
    có tên bố" is no evidence in "có bắt buộc xét nghiệm ADN không")."""
    return set(fold(" ".join([guide.title, *guide.aliases])).split()) - LIGHT_WORDS


def _own_name_words(library: Library, core: str, other: Guide | None, current: Guide) -> bool:
    """Whether the words hold a word of the other guide's names that the current one's lack."""
    if other is None:
        return True
    words = set(core.split()) | set(library.matcher.normalise(core).split())
    return bool((_name_words(other) - _name_words(current)) & words)


def _asked_aspect(turn: Turn, guide: Guide) -> Aspect | None:
    """The aspect a "which of these?" was asked with: a follow-up's ("mất bao lâu" typed after
    the question), else the question's own, not counting the chosen procedure's name."""
    kept = turn.state.data.get("aspect")
    for aspect in ASPECTS:
        if aspect == kept:
            return aspect
    return detect(str(turn.state.data.get("query", "")), guide.title)


def _both(library: Library, other_id: str, current: Guide) -> list[Guide] | Guide:
    """A weak lead to another guide: ask between it and the current one instead of switching."""
    other = library.guide(other_id)
    return current if other is None else [other, current]


def _refined(text: str, guide: Guide, aspect: Aspect | None, same: bool) -> Aspect | None:
    """The part of the chosen guide to answer. The citizen's situation ("chị tôi ở nước ngoài
    không về được thì sao": who may sign instead) says it where the follow-up words said none
    or a weaker one; it never chose the guide."""
    topic = "" if same else guide.title
    wide = detect(text, topic, wide=True)
    return wide if wide != detect(text, topic) else aspect


# "cho em gặp người hỗ trợ", "tôi muốn gặp trực tiếp chủ tịch xã": a wish ("cho", "muốn",
# "xin", "cần"... or the verb first, as a request), a verb of meeting or being put through, a
# few words at most, then a person (folded). A visit told ("hôm qua em lên gặp chị cán bộ")
# or a file passed on ("hồ sơ đã chuyển qua cán bộ chưa") wishes for no one. The lexicon's
# phrases are examples; the pronoun and adverbs in between vary too much to list.
_MEET_PERSON = re.compile(
    r"(?:^|\b(?:cho|muon|xin|nho|can|hay|vui long|lam on|giup|gium|oi|gio)"
    r"(?: \w+){0,2}? )"
    r"(?:gap|noi chuyen voi|ket noi voi|ket noi|chuyen cho|chuyen sang|chuyen qua)"
    r"(?: \w+){0,3}? (?:nguoi (?:that|thiet|ho tro|phu trach|truc|giai quyet|co tham quyen)"
    r"|can bo|cb|nhan vien|nv|chuyen vien|chu tich|pho chu tich|lanh dao|admin|ad"
    r"|tong dai vien)\b"
)


# A meeting told, not wished: a visit in the past ("hôm qua em lên gặp"), a file passed on
# ("hồ sơ đã được chuyển cho cán bộ chưa")
_TOLD_MEETING = re.compile(
    r"\b(?:hom qua|hom kia|hom truoc|tuan truoc|lan truoc|da|vua|moi)(?: \w+){0,3}? gap\b"
    r"|\bda (?:duoc )?chuyen\b"
)


# "... thì có làm được không ạ", "... thì có được không": whether it can still be done
# (folded, at the end of the message)
_WITHOUT_IT = re.compile(
    r"\b(?:co )?(?:lam|nop|dang ky|dang ki|xin) (?:duoc|dc) (?:khong|ko|k|hong|hem)"
    r"(?: (?:a|ad|vay|nhi|z|ha))*\W*$"
)


def _requests_other(library: Library, text: str, paper: str, current: Guide) -> bool:
    """Without the missing paper's words, the message still asks for a procedure of its own
    ("mất giấy khai sinh rồi, đăng ký lại khai sinh có làm được không"; "mất sổ đỏ, xin cấp
    lại sổ đỏ có được không", another agency's): that request, not the open guide, answers."""
    folded = fold(text)
    start = folded.find(paper)
    if start < 0:
        return False
    # the paper's name runs on to "thì" ("giấy xác nhận tình trạng hôn nhân thì"): all of it
    end = folded.find(" thi ", start)
    rest = without_cues(folded[:start] + " " + folded[end if end >= 0 else start + len(paper) :])
    if _content_words(rest) < 2:
        return False
    found = library.match(rest)
    if found.pointer is not None:
        return True
    best = found.best
    return found.intent == "guide" and best is not None and best.id != current.id


def _asks_person(library: Library, text: str) -> bool:
    """The message names a person explicitly ("gặp cán bộ"), not just sounds like it."""
    # "gấp" (urgent) folds like "gặp" (meet): "cần gấp, cán bộ làm nhanh giúp em" meets no one
    marked = re.sub("gấp", "gaap", text, flags=re.IGNORECASE)
    plain = " ".join(re.sub(r"[^\w\s]", " ", fold(marked)).split())
    if _TOLD_MEETING.search(plain) and not _MEET_PERSON.search(plain):
        return False  # "hôm qua em lên gặp cán bộ tư pháp, cán bộ bảo thiếu giấy"
    padded = f" {plain} "
    if any(f" {fold(p)} " in padded for p in library.kb.lexicon.handoff):
        return True
    return bool(_MEET_PERSON.search(plain) or _CALL_ME.search(plain))


# "có ai ở xã gọi điện cho tôi được không", "nhờ cán bộ gọi lại cho em": a person to call back
_CALL_ME = re.compile(
    r"\b(?:co ai|co nguoi nao|co nguoi|ai do|can bo|cb|nhan vien|nguoi)(?: \w+){0,3}? "
    r"(?:goi dien|goi lai|goi dt|goi dien thoai|goi)(?: lai)? (?:cho|cko) "
    r"(?:toi|em|e|tui|minh|chau|bac|co|chu|me|ba)\b"
)


# Words of a place asked about ("ở xã hay lên tỉnh", "ủy ban hay ấp"), not of a procedure.
_PLACE_WORDS = frozenset(
    "xa phuong tinh huyen quan thi tran len ra ve hay uy ban ubnd ap thon xom tren duoi".split()  # noqa: SIM905
)


# "nơi em đang ở hay nơi chồng có hộ khẩu": where the citizen and family live, the words of a
# "where" question that compares places ("nơi ..."), never of the residence registration
_RESIDENCE_WORDS = frozenset(
    """noi o dang song cu tru thuong tam ho khau que nha hien nay lam co hay hoac cua khac thi voi
    nhung""".split()  # noqa: SIM905
)


def _names_residence(core: str) -> bool:
    """The words left of a "where" question compare places where the family live ("nơi
    ... hay nơi ...", "chồng em hộ khẩu ở tỉnh khác", "bà ở với em nhưng hộ khẩu ở nhà bác")."""
    words = core.split()
    if "noi" not in words and "khac" not in words and "nhung" not in words:
        return False
    rest = [
        w
        for w in words
        if w not in LIGHT_WORDS
        and w not in _PLACE_WORDS
        and w not in _PERSON_WORDS
        and w not in _RESIDENCE_WORDS
    ]
    return not rest


def _names_its_office(core: str, current: Guide) -> bool:
    """The words left of a "where" question all name the current guide's own office."""
    words = [w for w in core.split() if w not in LIGHT_WORDS and w not in _PLACE_WORDS]
    office = set(fold(f"{current.agency} {current.where.desk}").split())
    return bool(words) and all(w in office for w in words)


# Who the citizen and their family are and how they are ("bố tôi già", "vợ đang ở cữ", "cháu
# nội", "ba tui mất rồi", "không về được"): the words of a "who may file" question, never of a
# procedure.
_PERSON_WORDS = frozenset(
    """bo me cha ong ba noi ngoai con chau vo chong anh chi em co chu bac di duong cau mo thim
    ck vk ny gia yeu om benh vien cu nam xa ban tu mot hai ca nguoi khac tre nho lon tuoi dang
    ruot de re dau gai trai ay tui mat qua doi ve""".split()  # noqa: SIM905
)


def _only_persons(core: str) -> bool:
    words = [w for w in core.split() if w not in LIGHT_WORDS and not w.isdigit()]
    return bool(words) and all(w in _PERSON_WORDS for w in words)


_REQUEST_START = re.compile(
    r"^(?:lam|xin|dang ky|dang ki|dk|nop|cap|chuyen|tach|nhap|khai|bao|ghi|sua|doi|hoi|tra)\b"
)
# Question words `asks` does not hold: a choice ("ở xã hay ở huyện"), "bằng cách nào".
_ASKS_PLAIN = re.compile(r"\b(?:hay|cach nao)\b")


_TELLING = re.compile(r"\b(?:dang|da|roi|vua|moi|la|bi|khong co|co|con)\b")


def _tells(text: str) -> bool:
    """The message tells something and asks nothing: a sentence of the citizen's situation
    ("đang", "đã", "rồi", "có", "là": six words at least; "phí chứng thực bản sao" is a query
    typed short) with no question mark, no question or request word, not a procedure typed as
    a command ("làm giấy khai tử cho bố")."""
    plain = " ".join(re.sub(r"[^\w\s]", " ", spelled(text)).replace("_", " ").split())
    return (
        len(plain.split()) >= 6
        and bool(_TELLING.search(plain))
        and not (
            asks(text)
            or asks_or_yes_no(plain)
            or _ASKS_PLAIN.search(plain)
            or _REQUEST_START.match(plain)
        )
    )


# Words about the wait for a person ("đợi lâu quá", "có ai trực không"), not about a procedure:
# "lâu" there is no processing time.
_WAITING_WORDS = re.compile(
    r"\b(?:lau (?:qua|vay|the|roi|lam)|sao lau|(?:doi|cho) (?:lau|mai|den bao gio|bao lau)"
    r"|phai (?:doi|cho)|(?:can bo|nguoi|ai|ad|admin) (?:tra loi|nghe|nhan|rep|tl|online|truc)"
    r"|co ai (?:khong|do|o do|truc)|chua (?:ai|thay ai|co ai)|tra loi (?:di|em|toi|giup))\b"
)


# "mấy giờ mở cửa", "số nào", "đâu": question words that `asks_or_yes_no` leaves to their phrases
_QUESTION_WORD = re.compile(r"\b(?:may|nao|dau|sao)\b")


_RECEIVING = re.compile(r"\bduoc (?:tro cap|ho tro|huong|nhan tien|lanh tien|cap tien)\b")


def _asks_receiving(text: str) -> bool:
    """ "Có được trợ cấp không": whether one receives a benefit (asked of a procedure that pays
    nothing, it is about the benefit it leads to)."""
    return bool(_RECEIVING.search(spelled(text)))


def _says_fee(text: str) -> bool:
    padded = f" {fold(text)} "
    return any(f" {cue} " in padded for cue in _FEE_WORDS)


class Router:
    def __init__(
        self, handoffs: Handoffs, feedback: Feedback, storage: Storage, desk: StaffDesk
    ) -> None:
        self._handoffs = handoffs
        self._feedback = feedback
        self._storage = storage
        self._desk = desk

    # --- commands ------------------------------------------------------------------------

    async def command(self, turn: Turn, library: Library, text: str) -> None:
        word, _, arg = text.partition(" ")
        name = word[1:].split("@", 1)[0].lower()
        arg = arg.strip()
        if name == "start":
            guide = library.guide(arg) if arg else None
            if turn.state.mode != "bot":
                await self._handoffs.start(turn, library, "start")
            elif guide is not None:
                answers.show_card(turn, library, guide)
            elif not (arg and show_field(turn, library, arg)):
                show_welcome(turn, library)
        elif name in ("menu", "help", "trogiup"):
            if turn.state.mode != "bot":
                await self._handoffs.start(turn, library, "menu")
            else:
                show_menu(turn, library)
        elif name == "huy":
            await self.act(turn, library, Callback(Act.CANCEL))
        elif name == "canbo":
            await self._handoffs.start(turn, library, "command")
        elif name == "xoadulieu":
            self._ask_delete(turn)
        elif name == "riengtu":  # like /xoadulieu, answered even while waiting for a person
            self._privacy(turn)
        else:
            if turn.state.mode != "bot":
                await self._handoffs.forward(turn, text)
                return
            turn.say(texts.UNKNOWN_COMMAND, [MENU, HUMAN])

    # --- buttons -------------------------------------------------------------------------

    async def press(self, turn: Turn, library: Library, data: str) -> None:
        await self.act(turn, library, parse(data))

    async def act(self, turn: Turn, library: Library, cb: Callback) -> None:
        state = turn.state
        act = cb.act
        if act is Act.CANCEL:
            await self._cancel(turn, library)
        elif act is Act.DELETE:
            await self._delete(turn, library, cb.key)
        elif act is Act.MORE and state.mode == "waiting" and state.pages:
            turn.more()  # the rest of an answer given while waiting (while_waiting)
        elif state.mode != "bot":
            label = next((b.label for b in state.buttons if b.data == cb.raw), cb.raw)
            await self._handoffs.forward(turn, f"[bấm nút] {label}")
        elif act is Act.MENU:
            show_menu(turn, library)
        elif act is Act.HUMAN:
            await self._handoffs.start(turn, library, "button")
        elif act is Act.MORE:
            if not turn.more():
                self._stale(turn, library)
        elif act is Act.NOT_THESE:
            turn.log("clarify_rejected", query=state.data.get("query", ""))
            self._fallback(turn, library, state.data.get("query", ""))
        elif act is Act.PRIVACY:
            turn.reset_flow()
            self._privacy(turn)
        elif act is Act.FEEDBACK and not cb.key:
            self._feedback.start(turn)
        elif act is Act.FEEDBACK:
            if not await self._feedback.on_button(turn, cb.key):
                self._stale(turn, library)
        elif act is Act.SKIP and state.flow == Flow.REASON:
            turn.reset_flow()
            turn.say(texts.THANKS_HELPFUL, [MENU, HUMAN])
        elif act is Act.FIELD:
            if not show_field(turn, library, cb.key):
                self._stale(turn, library)
        elif act in (Act.HELPFUL, Act.UNHELPFUL):
            await self._rate(turn, library, act is Act.HELPFUL, cb.key)
        elif not self._guide_press(turn, library, cb):
            self._stale(turn, library)

    def _guide_press(self, turn: Turn, library: Library, cb: Callback) -> bool:
        guide = library.guide(cb.key) if cb.key else None
        if guide is None:
            return False
        act, index = cb.act, cb.number
        aspect = _asked_aspect(turn, guide) if turn.state.flow == Flow.CLARIFY else None
        if act is Act.CARD and aspect not in (None, "steps"):
            # "mất bao lâu?" -> "which of these?" -> a choice: the answer is the aspect asked
            query = str(turn.state.data.get("query", ""))
            self._answer(turn, library, guide, aspect, query)
        elif act is Act.CARD:
            answers.show_card(turn, library, guide)
        elif act is Act.STEPS:
            answers.start_steps(turn, library, guide)
        elif act is Act.STEP:
            return index is not None and answers.show_step(turn, library, guide, cb.online, index)
        elif act is Act.STEPS_DONE:
            answers.finish_steps(turn, guide)
        elif act is Act.DOCS:
            answers.show_documents(turn, library, guide)
        elif act is Act.CHECKLIST:
            answers.show_checklist(turn, guide, set())
        elif act is Act.TICK:
            return index is not None and answers.toggle_checklist(turn, guide, index)
        elif act is Act.CHECK_DONE:
            answers.finish_checklist(turn, library, guide)
        elif act is Act.FEES:
            answers.show_fees(turn, library, guide)
        elif act is Act.FEE_CALC:
            return answers.start_fee_calc(turn, library, guide)
        elif act is Act.ONLINE:
            answers.show_online(turn, library, guide)
        elif act is Act.FAQ:
            answers.show_faq(turn, guide)
        elif act is Act.FAQ_ANSWER:
            return index is not None and answers.show_faq_answer(turn, library, guide, index)
        else:
            return False
        return True

    def _privacy(self, turn: Turn) -> None:
        turn.say(texts.PRIVACY, [button(texts.B_DELETE_ME, Act.DELETE), MENU])

    def _stale(self, turn: Turn, library: Library) -> None:
        """An unknown, outdated or out-of-place button: say so and show the menu."""
        turn.log("stale_button")
        show_menu(turn, library, texts.STALE)

    async def _cancel(self, turn: Turn, library: Library) -> None:
        if turn.state.mode != "bot":
            await self._handoffs.cancel(turn)
            turn.reset_flow()
            turn.say(texts.HANDOFF_CANCELLED, [MENU])
        elif turn.state.flow is not None:
            turn.reset_flow()
            turn.say(texts.CANCELLED, main_menu_buttons(library))
        else:
            turn.say(texts.NOTHING_TO_CANCEL, main_menu_buttons(library))

    def _ask_delete(self, turn: Turn) -> None:
        turn.state.flow = Flow.DELETE
        turn.state.data = {}
        turn.say(
            texts.DELETE_CONFIRM,
            [
                button(texts.B_DELETE_YES, Act.DELETE, "y"),
                button(texts.B_DELETE_NO, Act.DELETE, "n"),
            ],
        )

    async def _delete(self, turn: Turn, library: Library, choice: str) -> None:
        if not choice:
            self._ask_delete(turn)
            return
        if turn.state.flow != Flow.DELETE:
            self._stale(turn, library)
            return
        if choice == "n":
            turn.state.flow = None
            turn.say(texts.DELETE_KEPT, [MENU])
            return
        if turn.state.mode != "bot":
            await self._handoffs.cancel(turn, deleted=True)
        await self._storage.conversations.delete(turn.conversation.id)
        turn.deleted = True
        turn.say(texts.DELETED, [MENU])

    async def _rate(self, turn: Turn, library: Library, helpful: bool, target: str) -> None:
        guide_id = None if target == RATING_STAFF else target
        if guide_id is not None and library.guide(guide_id) is None:
            self._stale(turn, library)
            return
        rating = await self._storage.ratings.add(turn.conversation.id, guide_id, helpful, turn.now)
        turn.log("rating", guide=guide_id, helpful=helpful, staff=target == RATING_STAFF)
        turn.reset_flow()
        if helpful:
            turn.say(texts.THANKS_HELPFUL, [MENU])
            return
        turn.state.flow = Flow.REASON
        turn.state.data = {"rating": rating.id, "guide": guide_id}
        turn.say(texts.ASK_REASON, [HUMAN, button(texts.B_SKIP, Act.SKIP)])

    # --- free text -----------------------------------------------------------------------

    async def text(self, turn: Turn, library: Library, text: str) -> None:
        state = turn.state
        flow_guide = library.guide(state.guide_id) if state.guide_id else None
        if state.flow in FORM_FLOWS and await self._leave_flow(turn, library, text):
            return
        if state.flow == Flow.FEE and flow_guide is not None:
            answers.fee_calc_input(turn, library, flow_guide, text)
            return
        if state.flow == Flow.FEEDBACK:
            await self._feedback.on_text(turn, text)
            return
        if state.flow == Flow.REASON:
            await self._reason(turn, library, text)
            return
        wish = feedback_wish(text)
        if wish is not None:  # "tôi muốn phản ánh": the intake, not the guide about feedback
            self._feedback.start(turn, wish)
            return
        folded = fold(text)
        if folded in _GREETINGS:
            show_welcome(turn, library)
            return
        if folded in _THANKS:
            turn.say(texts.YOU_ARE_WELCOME, [MENU, HUMAN])
            return
        if flow_guide is not None and await self._corrected(turn, library, text, flow_guide):
            return
        aspect = detect(text)
        result = library.match(text)
        if (
            flow_guide is not None
            and result.intent == "none"
            and result.pointer is None
            and 0.0 < result.outside < OUTSIDE_LEAD
        ):
            # "nhận lại bản giấy hay file" while «Chứng thực bản sao» is open: the out-of-scope
            # class leads these words by a hair; with a guide being discussed the reading among
            # the guides decides (a clear lead still answers "not something we handle"; words
            # no guide knows, "qqq xyz", are no small talk either: the first reading stays)
            among = library.match(text, outside=False)
            if among.intent in ("guide", "clarify"):
                result = among
        best = result.best
        if turn.now - turn.conversation.last_seen_at > FACTS_KEPT:
            state.abroad, state.recent = None, []  # back after days: a new matter, likely
        if state.guide_id and state.guide_id not in state.recent[-1:]:
            state.recent = [*(g for g in state.recent if g != state.guide_id), state.guide_id][
                -RECENT_GUIDES:
            ]
        normal = library.matcher.normalise(text)
        if _FOREIGN_TOLD.search(normal) and result.pointer is None:
            # (a passport "đi nước ngoài" tells no foreigner in a registration)
            state.abroad = state.guide_id or "*"
        elif _DOMESTIC_TOLD.search(normal):
            state.abroad = None  # "đăng ký kết hôn với anh người Việt": not the foreigner now
        turn.log(
            "question",
            text=_masked(text),
            intent=result.intent,
            guide=best.id if best else None,
            score=best.score if best else 0.0,
        )
        if result.intent == "handoff" and (flow_guide is None or _asks_person(library, text)):
            # In a conversation about a guide only words that ask for a person hand over:
            # "bao lâu thì được trả lời", "à mà chồng em là người Thái Lan" are about the guide.
            await self._handoffs.start(turn, library, "text")
            return
        if result.intent == "chitchat" and aspect is None:
            if result.chitchat == "greeting":
                show_welcome(turn, library)
            else:  # "vâng", "ok" acknowledge; "không có gì" would answer a thanks never said
                turn.say(
                    _CHITCHAT_REPLIES.get(result.chitchat or "", texts.YOU_ARE_WELCOME),
                    [MENU, HUMAN],
                )
            return
        if (
            flow_guide is None
            and state.flow == Flow.CLARIFY
            and not _new_question(library, turn, result, text)
        ):
            # An answer to "which of these?" is judged against the offered guides first: "giấy
            # chứng sinh tiếng Hàn có phải dịch không" after «Đăng ký khai sinh» or «... có yếu tố
            # nước ngoài» is the foreign one, though alone it names the plain one. A message that
            # confidently names a guide not offered is a new question.
            chosen = _after_clarify(library, turn, text)
            if chosen is not None:  # typed instead of pressing: the choice it fits
                if aspect is None:
                    answers.show_follow_up(turn, library, chosen, text)
                else:
                    self._answer(turn, library, chosen, aspect, text)
                return
            unnamed = result.intent == "none" and result.pointer is None
            if aspect is not None and (
                not subject(text)
                or result.intent == "guide"
                or (unnamed and not _outside(result, text, lead=CLEAR_OUTSIDE))
            ):
                # "mất bao lâu" right after "which of these?": about which? Ask again, same
                # choices (guessing one would answer about a procedure the citizen did not pick),
                # and the choice pressed then answers this aspect. A reply to our question is
                # something else only when the out-of-scope class leads it clearly ("cả 2 bố
                # mẹ phải đến hả" leans to it, but asks about the choices).
                state.data = {**state.data, "aspect": aspect}
                turn.say(texts.CLARIFY_AGAIN, list(state.buttons))
                return
        if (
            flow_guide is None
            and aspect is not None
            and not subject(text)
            and self._aspect_alone(turn, library, text, result, aspect)
        ):
            return
        guide = self._about(turn, library, text, result, aspect, flow_guide)
        if isinstance(guide, list) and flow_guide is not None and flow_guide in guide:
            guide = _its_benefit(library, text, aspect, flow_guide, guide)
        if isinstance(guide, list) and flow_guide is not None:
            guide = _recalled(state.recent, guide, flow_guide)
        if isinstance(guide, list):
            self._ask_between(turn, guide, text)
            return
        if guide is not None:
            if aspect is None and guide.id == state.guide_id and asks_for_paper(text):
                aspect = "docs"
            receiving = aspect == "benefit" or (aspect == "who" and _asks_receiving(text))
            paying = _paying(library, guide) if receiving else []
            if len(paying) > 1:
                self._ask_between(turn, [*paying, guide], text)
                return
            if paying:
                # "được trợ cấp bao nhiêu" after «Xác định mức độ khuyết tật»: that procedure
                # pays nothing; the allowance it leads to does
                guide = paying[0]
            if guide.id != state.guide_id:  # the plain guide chosen stays chosen
                guide = _abroad(library, state.abroad, guide)
            if state.abroad == "*":
                state.abroad = guide.id
            if aspect is not None and guide.id != state.guide_id:
                aspect = detect(text, guide.title)  # a new guide: its own name is no aspect
            # "thế còn khai sinh thì sao" leaving another guide gets the new guide's card: it
            # has the time, papers, fee and place, whichever of them the citizen meant.
            self._answer(turn, library, guide, aspect, text)
            return
        if result.pointer is not None:
            pointer = library.kb.lexicon.pointers.get(result.pointer)
            if pointer is not None:
                turn.reset_flow()
                state.guide_id = None  # another agency's procedure: no follow-up is about ours
                template = texts.POINTER_COMMUNE if pointer.commune else texts.POINTER
                body = template.format(title=pointer.title, agency=pointer.agency)
                if pointer.note:
                    body += "\n" + pointer.note
                turn.say(body, [MENU, HUMAN])
                turn.log("pointer", pointer=result.pointer, query=_masked(text))
                return
        if result.intent == "clarify":
            options = [(m.id, m.title) for m in result.matches[:CLARIFY_OPTIONS]]
            if flow_guide is not None and not result.multi:
                # the guide being discussed stays one of the choices: the question may be about it
                others = [o for o in options if o[0] != flow_guide.id][: CLARIFY_OPTIONS - 1]
                options = [*others, (flow_guide.id, flow_guide.title)]
            self._clarify(turn, options, text, result.multi)
            return
        if _outside(result, text):
            turn.reset_flow()
            turn.log("outside", query=_masked(text))
            turn.say(texts.OUTSIDE, [MENU, HUMAN])
            return
        if (
            aspect is not None
            and flow_guide is None
            and self._offer_earlier(turn, library, text, aspect)
        ):
            return
        self._fallback(turn, library, _masked(text))

    async def while_waiting(self, turn: Turn, library: Library, text: str) -> Guide | None:
        """A routine question asked while waiting for a person ("thôi được, vậy nộp ở đâu") is
        answered now, as it would be without the handoff; the citizen stays in the queue and the
        desk still gets the message. Only an answer about one guide is kept: anything else the
        bot would say (which of these?, not understood, a second handoff) waits for the person.
        The bot's reading runs on a copy of the state, so nothing but the answer is kept."""
        state = turn.state
        folded = fold(text)
        if state.mode != "waiting" or state.flow is not None or _WAITING_WORDS.search(folded):
            return None
        if _asks_person(library, text):
            return None  # "cho tôi hỏi cán bộ về tách thửa": the question is for the person
        if not (
            "?" in text
            or asks_or_yes_no(folded)
            or _QUESTION_WORD.search(folded)
            or detect(text) is not None
        ):
            return None  # "chồng tôi là người nước ngoài": told for the person, asks nothing
        trial_state = state.model_copy(deep=True)
        trial_state.mode = "bot"
        trial = Turn(
            conversation=turn.conversation.model_copy(update={"state": trial_state}),
            now=turn.now,
            clean=turn.clean,
        )
        await self.text(trial, library, text)
        guides = {reply.guide for reply in trial.replies}
        guide = library.guide(next(iter(guides)) or "") if len(guides) == 1 else None
        if guide is None or trial.outgoing or trial.handoffs or trial_state.flow is not None:
            return None
        cancel = button(texts.B_CANCEL_HANDOFF, Act.CANCEL)
        more = button(texts.B_MORE, Act.MORE)
        last = len(trial.replies) - 1
        for i, reply in enumerate(trial.replies):
            paged = any(b.data == more.data for b in reply.buttons)
            body = f"{reply.text}\n\n{texts.STILL_WAITING}" if i == last else reply.text
            turn.relay(
                reply.model_copy(
                    update={
                        "text": body,
                        "buttons": (more, cancel) if paged else (cancel,),
                        "numbered_choices": False,  # while waiting a number is for the person
                    }
                )
            )
        turn.events.extend(trial.events)
        turn.about = trial.about
        state.guide_id = trial_state.guide_id
        state.recent = trial_state.recent
        state.abroad = trial_state.abroad
        state.pages = trial_state.pages
        state.data = {"after_pages": [cancel.model_dump()]} if trial_state.pages else {}
        state.buttons = list(turn.replies[-1].buttons)
        turn.log("answered_waiting", guide=guide.id)
        return guide

    def _aspect_alone(
        self, turn: Turn, library: Library, text: str, result: MatchResult, aspect: Aspect
    ) -> bool:
        """ "Cần giấy gì", "đăng ký ở đâu" with no procedure in context name none: the aspect
        words alone point the matcher at a guide by chance. With the message we did not
        understand just before, the two together may name it; else ask which procedure."""
        missed = turn.state.data.get("missed") if turn.state.flow is None else None
        if isinstance(missed, str) and missed:
            both = library.match(f"{missed} {text}")
            guide = library.guide(both.best.id) if both.best is not None else None
            if both.intent == "guide" and guide is not None:
                self._answer(turn, library, guide, detect(text, guide.title) or aspect, text)
                return True
        best = result.best
        if result.intent == "guide" and best is not None and best.id == answers.CONTACT_GUIDE:
            return False  # "địa chỉ ở đâu": the office's own address
        named = library.guide(best.id) if result.intent == "guide" and best is not None else None
        if named is not None and answers.asks_title_only(named, text) and _title_told(named, text):
            return False  # "nộp hồ sơ trực tuyến thế nào": the aspect's words are the name
        if self._offer_earlier(turn, library, text, aspect):
            return True
        turn.reset_flow()
        turn.state.data = {"missed": missed} if isinstance(missed, str) else {}
        turn.log("which_procedure", aspect=aspect)
        turn.say(texts.WHICH_PROCEDURE, [MENU, HUMAN])
        return True

    def _offer_earlier(self, turn: Turn, library: Library, text: str, aspect: Aspect) -> bool:
        """ "Mấy ngày thì có giấy" after a side question on another agency's matter names no
        procedure: the ones discussed before are one tap away (the tap answers this aspect),
        not a name to type again. False when nothing was discussed."""
        earlier = [g for g in map(library.guide, reversed(turn.state.recent)) if g is not None]
        if not earlier:
            return False
        options = [(g.id, g.title) for g in earlier[: CLARIFY_OPTIONS - 1]]
        self._clarify(turn, options, text, False, texts.WHICH_EARLIER)
        turn.state.data = {**turn.state.data, "aspect": aspect}
        return True

    async def _corrected(self, turn: Turn, library: Library, text: str, current: Guide) -> bool:
        """ "Không phải (cái đó), ý em là ...": the guide just answered is not the one meant. A
        bare "không phải" drops the context and asks for the procedure's name (the next "cần
        mang gì" must not get the rejected guide's papers); with a procedure, it is matched
        among the others; with only an aspect ("không phải, em hỏi lệ phí") it stays."""
        rest = _correction(text)
        if rest is None:
            return False
        if not subject(rest):
            if detect(rest) is not None:
                await self.text(turn, library, rest)
                return True
            turn.reset_flow()
            turn.state.guide_id = None
            _forget(turn.state, current.id)
            turn.log("corrected", guide=current.id)
            turn.say(texts.CORRECTED, [MENU, HUMAN])
            return True
        plain = library.match(rest)
        if plain.best is not None and plain.best.id == current.id and detect(rest) is not None:
            await self.text(turn, library, rest)  # "không phải, em hỏi lệ phí khai tử": ours
            return True
        turn.log("corrected", guide=current.id)
        _forget(turn.state, current.id)
        turn.state.guide_id = None
        guide = library.guide(plain.best.id) if plain.best is not None else None
        if (
            plain.intent == "guide"
            and guide is not None
            and guide.id != current.id
            and plain.best is not None
            and plain.best.score >= SWITCH_CONFIDENCE  # a second wrong answer only when sure
        ):
            self._answer(turn, library, guide, detect(rest, guide.title), rest)
            return True
        # Without the rejected guide the matcher's best is only a guess: the citizen has seen
        # one wrong answer already, so ask between the likeliest others.
        others = frozenset(library.guides) - {current.id}
        result = library.matcher.match(rest, allowed=others)
        if result.intent in ("guide", "clarify") and result.matches:
            options = [(m.id, m.title) for m in result.matches[: CLARIFY_OPTIONS - 1]]
            self._clarify(turn, options, rest, False)
            return True
        turn.reset_flow()
        turn.say(texts.CORRECTED, [MENU, HUMAN])
        return True

    def _about(
        self,
        turn: Turn,
        library: Library,
        text: str,
        result: MatchResult,
        aspect: Aspect | None,
        current: Guide | None,
    ) -> Guide | list[Guide] | None:
        """The guide this message is about (or the guides to ask between), keeping the conversation's guide unless the message
        carries stronger evidence for another one (or switches with "thế còn ... thì sao")."""
        best = result.best
        if current is not None:
            return self._in_context(turn, library, text, result, aspect, current)
        if result.intent == "guide" and best is not None:
            return library.guide(best.id)
        if aspect is not None and result.intent != "clarify" and result.pointer is None:
            # "khai sinh mất bao lâu": the aspect words are shared by every guide; match the rest.
            # (Not when the whole names another agency's: "làm thẻ bảo hiểm y tế cho mẹ ở đâu"
            # is the pointer's, though its words without "ở đâu" name the newborn's card.)
            rest = library.match(without_cues(text))
            if rest.intent == "guide" and rest.best is not None:
                return library.guide(rest.best.id)
        return None

    def _in_context(
        self,
        turn: Turn,
        library: Library,
        text: str,
        result: MatchResult,
        aspect: Aspect | None,
        current: Guide,
    ) -> Guide | list[Guide] | None:
        """A message while a guide is being discussed. Answering about the wrong procedure is
        the worst mistake (the citizen brings the wrong papers), so the conversation leaves its
        guide only on evidence stronger than the context: "thế còn X thì sao", or words that
        name another procedure clearly (a confident match ahead of the current guide by a
        margin). A follow-up without such words stays; a weak lead elsewhere is asked about."""
        switch = _switch_target(text)
        if switch is not None:
            target = library.match(switch)
            if target.intent == "guide" and target.best is not None:
                return library.guide(target.best.id)
            narrower = _narrower(library, _in_light_of(library, current, switch), current)
            if narrower is not None:
                # "à mà chồng em là người Thái Lan" while «Đăng ký khai sinh» is open: between
                # the foreign births and marriages, the variant of the procedure being discussed
                return narrower
            if aspect is None and detect(switch) is None:
                return None
        if turn.state.flow != Flow.CLARIFY and asks_for_paper(text):
            # "cần mang giấy đăng ký kết hôn không" while «Đăng ký thường trú» is open: a paper
            # to bring for it, not the marriage registration ("có phải mang bản án ly hôn
            # không" neither: no pointer to the court)
            return current
        paper = missing_paper(text)
        if (
            turn.state.flow != Flow.CLARIFY
            and paper is not None
            and _WITHOUT_IT.search(fold(text))
            and not _requests_other(library, text, paper, current)
        ):
            # "vợ tôi chỉ có hộ chiếu, chưa có thẻ tạm trú thì có làm được không" while the
            # foreign birth registration is open: can this be done without the paper, not the
            # procedure that issues it
            return current
        if result.pointer is not None:
            return None  # a well-known procedure of another agency: the pointer answers
        if _outside(result, text, follow_up=True) and not (
            aspect is None and detect(text, wide=True)
        ):
            # "sau đó em làm visa sang Hàn thì xin ở đâu": the guide being discussed would send
            # the citizen to the wrong desk
            return None
        judged = self._judged(library, text, result, aspect, current)
        if not (isinstance(judged, Guide) and judged.id in library.matcher.foreign):
            variant = _foreign_variant(library, text, current)
            if variant is not None:
                return variant
        if isinstance(judged, Guide) and _foreign_without_sign(library, text, judged, current):
            return current
        if (
            isinstance(judged, Guide)
            and judged.id != current.id
            and _tells(text)
            and not _broader(current, judged)
        ):
            # "bố tôi không có lương hưu, đang nhận trợ cấp 80 tuổi" while «Hỗ trợ chi phí mai
            # táng» is open: the citizen tells a fact and asks nothing; the procedure its words
            # name may be the new subject or only the situation, so ask (a narrower variant of
            # the open guide, "chồng em là người Thái", is the fact's own procedure: switch)
            return [judged, current]
        done = after_done(text)
        if done is None or not asks_or_yes_no(done.rest):
            return judged
        rest = done.rest
        if len(subject(rest)) >= 2:
            # "làm xong hợp đồng thì đi sang tên ở đâu": the step told as done is the story; the
            # question after it, when it names one procedure, says which
            alone = library.match(rest)
            own = self._judged(library, rest, alone, detect(rest) or aspect, current)
            if isinstance(own, Guide):
                return own
            if alone.best is not None and alone.best.id == current.id:
                # "khai tử xong có tự động xóa không" while «Đăng ký thường trú» is open: the
                # step done names another procedure; the question, weakly, the open one
                return current
            return judged
        after = done.after
        if not done.ends and len(subject(after)) >= 2 and judged == current:
            # "tách xong bố mẹ tặng cho từng đứa thì làm tiếp thế nào" while «Tách thửa» is open:
            # the step done is the open procedure; the words after it say what comes next
            found = library.match(after)
            if found.intent == "guide" and found.best is not None and found.best.id != current.id:
                scores = {m.id: m.score for m in found.matches}
                if found.best.score - scores.get(current.id, 0.0) >= SWITCH_MARGIN:
                    return library.guide(found.best.id) or judged
        if done.ends and isinstance(judged, Guide) and judged.id != current.id:
            # "căn cước của em hết hạn rồi thì có làm được không" while «Đăng ký khai sinh» is
            # open: the fact names another procedure, the question none: the fact is the
            # citizen's situation, the question is about the procedure being discussed
            return current
        return judged

    def _judged(
        self,
        library: Library,
        text: str,
        result: MatchResult,
        aspect: Aspect | None,
        current: Guide,
    ) -> Guide | list[Guide] | None:
        """A follow-up's words weighed against the guide being discussed (see `_in_context`)."""
        core = without_cues(text)
        if aspect == "where" and (_names_its_office(core, current) or _names_residence(core)):
            # "làm ở công an xã hay phải lên tỉnh" while «Cấp thẻ căn cước» is open: the words
            # name where this one is done, not another procedure done there
            return current
        if (aspect or detect(text, wide=True)) == "who" and _only_persons(core):
            # "bố tôi già, tôi đi làm thay được không": the words are who and how they are
            return current
        if _content_words(core) >= 2:
            asked = remarked(core, text)  # (with the citizen's marks: "giấy đó" is no "giấy đỏ")
            core_result = library.match(asked) if core != fold(text) else result
            other = core_result.best
            general = library.guide(other.id) if other is not None else None
            if (
                general is not None
                and general.id != current.id
                and (_broader(general, current) or _bundled(general, current, text))
            ):
                # "có giấy khai sinh của Hàn rồi thì sao" while «Đăng ký khai sinh có yếu tố
                # nước ngoài» is open: the general procedure's name, no reason to leave
                return current
            if core_result.intent == "guide" and other is not None and other.id == current.id:
                return current
            read = _in_light_of(library, current, asked)  # one more match: only when needed
            if core_result.intent == "guide" and other is not None:
                if _clearly_ahead(core_result, current) or _named_whole(result, other.id, current):
                    ahead = library.guide(other.id)
                    if ahead is None:
                        return current
                    if detect(text, wide=True) == "who" and not _own_name_words(
                        library, core, ahead, current
                    ):
                        # "cháu nội đi khai được không" while «Đăng ký khai tử» is open: who may
                        # go, and "khai" is in both names; the model's lead is the commoner one
                        return current
                    rival = _rival(library, read, current)
                    if (
                        rival is not None
                        and not _told_domestic(library, text, rival)
                        and _tipped(core_result, read, ahead, rival)
                    ):
                        # read with the procedure being discussed, the words name a sibling of
                        # it ("bản sao căn cước" while «Chứng thực chữ ký» is open: the copy's
                        # certification, not the card): ask rather than guess
                        return [ahead, rival, current]
                    return ahead
                if _stays(read, current, other.id):
                    return current  # the words fit the procedure being discussed best
                if not _own_name_words(library, core, library.guide(other.id), current):
                    # "e là cháu nội có đi khai được không" while «Đăng ký khai tử» is open:
                    # "khai" is in both names; nothing in the words names the other one only
                    return current
                if aspect is not None or result.intent == "guide":
                    return _both(library, other.id, current)
            narrower = _narrower(library, read, current)
            if narrower is not None:
                # "bạn gái anh định cư ở Mỹ" while «Đăng ký kết hôn» is open: its
                # foreign-element variant, which the citizen's fact makes the right one
                return narrower
            lead = core_result.best.score if core_result.best is not None else 0.0
            named = result.best.id if result.intent == "guide" and result.best else current.id
            if (
                aspect is not None
                and core_result.intent != "guide"
                and lead < WEAK_SUBJECT
                and named == current.id  # the whole message names no other guide either
            ):
                # "ba nó đi làm xa, tui đi một mình được hông": words of the citizen's own
                # situation, no other procedure's: the aspect of the one being discussed
                return current
            options = [m.id for m in core_result.matches[: CLARIFY_OPTIONS - 1]]
            if aspect is not None and core_result.intent == "clarify" and current.id not in options:
                # a subject of its own that points elsewhere, if not clearly: ask, with ours
                found = [g for g in map(library.guide, options) if g is not None]
                plain = [g for g in found if not _told_domestic(library, text, g)]
                if len(plain) == 1 and len(found) == 2 and plain[0].id == options[0]:
                    # "kết hôn với cô ấy, người cùng quê": between a procedure and its foreign
                    # variant, the citizen's own fact decides (as a foreigner told does)
                    return plain[0]
                return [*found, current]
        if aspect is not None:
            return current
        # No aspect words ("đổi số điện thoại rồi thì sao"): stay when the message is about the
        # guide being discussed as far as the matcher can tell.
        best = result.best
        # Weakly ours ("chủ nhà đi vắng thì em tự làm được không"): the rules below decide
        # whether anything else is meant (another agency, out of scope).
        if (
            best is not None
            and best.id == current.id
            and (
                result.intent == "guide"
                or (result.intent == "none" and best.score >= STAY_CONFIDENCE)
            )
        ):
            return current
        if result.intent == "clarify" and best is not None and best.id == current.id:
            return current
        if result.intent != "guide" and best is not None and _close_to_best(result, current):
            return current  # "đăng nhập bằng gì": as likely ours as any other; context decides
        if result.intent == "guide" and best is not None:
            if _clearly_ahead(result, current):
                return library.guide(best.id)
            return _both(library, best.id, current)
        if result.intent == "clarify" and best is not None and best.score < WEAK_LEAD:
            # "bố cháu đi làm ở Sài Gòn, chỉ về được một hôm thì có kịp không": the words lean
            # nowhere (a weak "which of these?" among guides far from ours): the open one
            return current
        if (
            # "có phải phỏng vấn không" while «Kết hôn có yếu tố nước ngoài» is open: the
            # words name nothing, no other agency, and are not clearly out of scope; the open
            # guide is among the few the matcher leans to: its FAQ, not "tôi chưa hiểu"
            result.intent == "none"
            and result.pointer is None
            and result.outside < OUTSIDE_LEAD
            and current.id in [m.id for m in result.matches[:STAY_RANK]]
        ):
            return current
        return None

    def _ask_between(self, turn: Turn, guides: list[Guide], text: str) -> None:
        self._clarify(turn, [(g.id, g.title) for g in guides], text, False)

    def _clarify(
        self,
        turn: Turn,
        options: list[tuple[str, str]],
        text: str,
        multi: bool,
        intro: str | None = None,
    ) -> None:
        turn.reset_flow()
        if turn.state.guide_id not in [guide_id for guide_id, _ in options]:
            turn.state.guide_id = None  # a new question: follow-ups are no longer about the old one
        turn.state.flow = Flow.CLARIFY
        turn.state.data = {"query": _masked(text)}
        buttons = [button(title, Act.CARD, guide_id) for guide_id, title in options]
        if intro is None:
            intro = texts.MULTI.format(count=len(options)) if multi else texts.CLARIFY
        turn.say(intro, [*buttons, button(texts.NOT_THESE, Act.NOT_THESE), HUMAN])
        turn.log("clarify", options=[guide_id for guide_id, _ in options], query=_masked(text))

    def _answer(
        self, turn: Turn, library: Library, guide: Guide, aspect: Aspect | None, text: str
    ) -> None:
        same = turn.state.guide_id == guide.id
        if not (same and aspect in (None, "steps") and answers.faq_for(guide, text) is not None):
            # a question its FAQ answers keeps that answer (below); else the citizen's
            # situation may say which part of the guide answers
            aspect = _refined(text, guide, aspect, same)
        if aspect == "fee" and guide.benefits and not _says_fee(text):
            aspect = "benefit"  # "bao nhiêu tiền" about an allowance asks what one receives
        if aspect == "faq":  # "có giá trị bao lâu": the FAQ answer, else the FAQ or the card
            answers.show_follow_up(turn, library, guide, text)
        elif same and aspect in (None, "steps") and answers.faq_for(guide, text) is not None:
            # "quốc tịch của bé chọn thế nào": a question its FAQ answers, not the walkthrough
            answers.show_follow_up(turn, library, guide, text)
        elif (aspect is not None and aspect != "steps") or (
            aspect == "steps" and turn.state.guide_id == guide.id
        ):
            answers.show_aspect(turn, library, guide, aspect, text)
        elif guide.id == answers.CONTACT_GUIDE:
            answers.show_aspect(turn, library, guide, "where", text)
        elif aspect is None and turn.state.guide_id == guide.id:
            answers.show_follow_up(turn, library, guide, text)
        else:
            answers.show_card(turn, library, guide)

    async def _leave_flow(self, turn: Turn, library: Library, text: str) -> bool:
        """Inside a form (fee calculator, feedback, rating reason) "hủy" cancels and "gặp cán
        bộ" hands over, instead of being taken as the form's answer."""
        folded = fold(text)
        if folded in _CANCEL:
            await self._cancel(turn, library)
            return True
        # Only an explicit request: a complaint typed as a rating reason ("chờ lâu quá mới được
        # trả lời") is the form's answer, even when the model leans to "handoff".
        padded = f" {folded} "
        explicit = any(f" {fold(p)} " in padded for p in library.kb.lexicon.handoff)
        if explicit and len(folded.split()) <= HANDOFF_WORDS:
            turn.reset_flow()
            await self._handoffs.start(turn, library, "text")
            return True
        return False

    def _fallback(self, turn: Turn, library: Library, query: str) -> None:
        """Two stages: first a hint to rephrase, then the menu and a person."""
        state = turn.state
        state.misses += 1
        stage = 1 if state.misses == 1 else 2
        turn.reset_flow()
        turn.state.data = {"missed": query}  # a follow-up with only aspect words may name it
        turn.log("fallback", query=query, stage=stage)
        if stage == 1:
            turn.say(texts.FALLBACK_FIRST, [MENU, HUMAN])
        else:
            turn.say(texts.FALLBACK_SECOND, main_menu_buttons(library))

    async def _reason(self, turn: Turn, library: Library, text: str) -> None:
        data = turn.state.data
        rating_id = data.get("rating")
        reason = _masked(text)[:500]
        if isinstance(rating_id, int):
            await self._storage.ratings.set_reason(rating_id, reason)
        guide_id = data.get("guide")
        turn.reset_flow()
        turn.log("rating_reason", guide=guide_id, reason=reason)
        if guide_id:
            # staff read titles, not internal ids like «cap-so-do»
            found = library.guide(str(guide_id))
            title = found.title if found is not None else str(guide_id)
            turn.say(texts.THANKS_REASON, [MENU, HUMAN])
            note = texts.S_RATING_BAD.format(name=turn.name, guide=title, reason=reason)
        else:  # a 👎 on a staff member's help is not about a guide
            turn.say(texts.THANKS_REASON_STAFF, [MENU, HUMAN])
            note = texts.S_RATING_BAD_STAFF.format(name=turn.name, reason=reason)
        turn.notify(StaffNotice(key=turn.key, kind="info", at=turn.now, reply=Reply(text=note)))


def _masked(text: str) -> str:
    """What we keep of a citizen's question in events: masked and short."""
    return mask_personal(text)[:300]
