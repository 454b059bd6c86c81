from knowledge.lexrules import LexiconRules
from knowledge.normalize import tokens
from knowledge.schema import Lexicon


def rules(**sections) -> LexiconRules:
    return LexiconRules(Lexicon(handoff=["gặp cán bộ"], **sections))


def rewrite(r: LexiconRules, text: str) -> str:
    return " ".join(t.plain for t in r.rewrite(tokens(text)))


def test_abbreviation_expands_with_or_without_marks():
    r = rules(abbreviations={"đkkh": "đăng ký kết hôn", "cccd": "căn cước công dân"})
    assert rewrite(r, "hỏi về dkkh") == "hoi ve dang ki ket hon"
    assert rewrite(r, "làm CCCD") == "lam can cuoc cong dan"


def test_longest_entry_wins():
    r = rules(
        regional={"sanh": "sinh", "khai sanh": "khai sinh"}, synonyms={"giấy khai sanh": "gks"}
    )
    assert rewrite(r, "giay khai sanh") == "gks"
    assert rewrite(r, "khai sanh") == "khai sinh"


def test_single_marked_syllable_does_not_capture_unmarked_typing():
    r = rules(synonyms={"đẻ": "sinh", "mới đẻ": "mới sinh"})
    assert rewrite(r, "để làm gì") == "de lam gi"
    assert rewrite(r, "vợ tôi vừa đẻ") == "vo toi vua sinh"
    assert rewrite(r, "con moi de") == "con moi sinh"  # two syllables give enough context


def test_stopwords_match_with_and_without_marks():
    r = rules(stopwords=["cần", "ạ"])
    assert r.is_stopword(tokens("cần")[0])
    assert r.is_stopword(tokens("can")[0])
    assert not r.is_stopword(tokens("căn")[0])


def test_a_short_form_spelled_out_can_start_a_phrase():
    r = rules(abbreviations={"ng": "người"}, synonyms={"người hàn": "người nước ngoài"})
    # "ng Hàn": the abbreviation first, then the phrase it now starts
    assert rewrite(r, "mẹ vợ em ng Hàn") == "me vo em nguoi nuoc ngoai"
    assert rewrite(r, "người Hàn") == "nguoi nuoc ngoai"
