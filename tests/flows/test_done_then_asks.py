"""A fact told as done, then a question ("làm xong hợp đồng thì sang tên ở đâu", "căn cước hết
hạn rồi thì có nộp được không"): the question says which procedure; the fact's words alone never
move the conversation to the procedure they name."""

import pytest

from knowledge.clauses import after_done
from tests.flows.driver import about, said, to_citizen


async def test_the_question_after_a_finished_step_names_the_next_procedure(bot):
    await bot.say("chứng thực hợp đồng tặng cho đất")
    await bot.say("cần mang gì")
    out = to_citizen(await bot.say("ký xong hợp đồng thì sang tên ở đâu"))
    assert about(out) == ("chuyen-nhuong-dat", "where")


async def test_a_question_after_mediation_goes_to_the_division_of_the_estate(bot):
    await bot.say("hòa giải tranh chấp đất")
    out = to_citizen(await bot.say("hòa giải xong các bên đồng ý thì làm văn bản chia thế nào"))
    assert about(out)[0] == "chung-thuc-phan-chia-di-san"


@pytest.mark.parametrize(
    "text",
    [
        "làm khai tử xong có tự động xóa luôn không",
        # the words after the step lean to the open guide only weakly: still the open one
        "khai tử xong có tự động xóa không",
    ],
)
async def test_a_finished_procedure_named_in_passing_keeps_the_open_one(bot, text):
    await bot.say("xóa đăng ký thường trú cho bố")
    out = to_citizen(await bot.say(text))
    assert about(out) == ("thuong-tru", "faq")


@pytest.mark.parametrize(
    ("first", "text", "guide"),
    [
        (
            "đăng ký khai sinh cho con",
            "căn cước của mẹ hết hạn rồi thì có nộp được không",
            "khai-sinh",
        ),
        ("đăng ký kết hôn", "Căn cước của em hết hạn rồi thì có đăng ký được không?", "ket-hon"),
    ],
)
async def test_a_fact_naming_another_procedure_with_a_bare_question_keeps_the_open_one(
    bot, first, text, guide
):
    await bot.say(first)
    # the expired card is the citizen's situation; the question is about the open procedure
    out = to_citizen(await bot.say(text))
    assert about(out)[0] == guide
    assert "Gặp cán bộ" in " ".join(b for r in out for b in r["buttons"])


async def test_another_paper_in_place_of_one_keeps_the_open_procedure(bot):
    await bot.say("đăng ký kết hôn")
    out = to_citizen(await bot.say("Căn cước của em hết hạn rồi, dùng hộ chiếu được không?"))
    assert about(out)[0] == "ket-hon"  # not the ID card's procedure


async def test_words_after_done_that_name_the_request_still_switch(bot):
    await bot.say("đăng ký kết hôn")
    out = to_citizen(await bot.say("cưới xong chuyển khẩu về nhà chồng thì làm sao"))
    assert about(out) == ("thuong-tru", None)
    assert said(out).startswith("Đăng ký thường trú")


async def test_a_step_done_told_with_after_then_the_next_request_switches(bot):
    await bot.say("Tôi muốn tách thửa đất 400m2 thành hai sổ")
    out = to_citizen(
        await bot.say("Một thửa sau khi tách tôi muốn chuyển lên đất ở để xây nhà thì làm sao?")
    )
    assert about(out)[0] == "chuyen-muc-dich-su-dung-dat"


def test_after_doing_it_is_a_step_done():
    done = after_done("sau khi kết hôn thì có phải chuyển khẩu không")
    assert done is not None and done.rest == "co phai chuyen khau khong"
    done = after_done("Một thửa sau khi tách tôi muốn chuyển lên đất ở thì làm sao?")
    assert done is not None and not done.ends
    assert done.after == "toi muon chuyen len dat o thi lam sao"


def test_a_failed_step_is_a_step_taken():
    done = after_done("hòa giải không thành thì kiện ra tòa thế nào")
    assert done is not None and done.failed and done.rest == "kien ra toa the nao"
    done = after_done("làm xong rồi thì kiện ra tòa thế nào")
    assert done is not None and not done.failed
    assert after_done("người không thành niên thì ai ký") is None  # "minor", not "failed"


async def test_a_bride_from_home_after_a_divorce_abroad_is_the_plain_marriage(bot):
    # the open guide's title says "nước ngoài"; the citizen says the bride is from home
    await bot.say("Tôi đã ly hôn ở tòa bên Mỹ, giờ về Việt Nam muốn kết hôn lại thì phải làm gì")
    out = to_citizen(
        await bot.say(
            "ghi vào sổ xong thì đăng ký kết hôn với cô ấy ở xã nào, cô ấy người cùng quê"
        )
    )
    assert about(out) == ("ket-hon", "where")


@pytest.mark.parametrize(
    ("text", "rest", "ends"),
    [
        ("căn cước của em hết hạn rồi thì có làm được không", "co lam duoc khong", True),
        (
            "em vừa sửa tên xong, giờ căn cước phải làm lại không ạ",
            "can cuoc phai lam lai khong a",
            True,
        ),
        ("khai tử xong có tự động xóa không", "co tu dong xoa khong", True),
        # "đậu rồi" (passed) folds like "đâu rồi" (where): still a fact told
        ("con em thi đậu rồi thì làm hồ sơ cần giấy gì", "lam ho so can giay gi", True),
        ("làm xong hợp đồng thì đi sang tên ở đâu", "di sang ten o dau", False),
        (
            "lên thổ cư xong xây nhà cấp 4 có phải xin giấy phép không",
            "xay nha cap 4 co phai xin giay phep khong",
            True,
        ),
    ],
)
def test_the_question_after_the_fact(text: str, rest: str, ends: bool) -> None:
    done = after_done(text)
    assert done is not None and (done.rest, done.ends) == (rest, ends)


@pytest.mark.parametrize(
    "text",
    [
        "bà ngoại 85 tuổi rồi mà chưa được lãnh tiền",
        "làm khai tử",
        "xong rồi",
        "làm xong chưa thì con em mới đi học được",  # asks whether it is done
        "giấy tờ bị rơi mất thì làm lại ở đâu",  # "rơi" (dropped) is no "rồi"
        "xem hồ sơ đến bước nào rồi thì xem ở đâu",  # asks how far it has gone
    ],
)
def test_no_fact_told_as_done(text: str) -> None:
    assert after_done(text) is None


async def test_what_comes_after_the_open_procedure_is_the_next_procedure(bot):
    # the land split is done ("tách xong"); giving the plots to a son is the transfer
    await bot.say("muốn tách thửa mảnh đất của bố mẹ")
    out = to_citizen(await bot.say("tách xong bố mẹ tặng cho con trai thì làm tiếp thế nào"))
    assert about(out)[0] == "chuyen-nhuong-dat"


async def test_how_far_a_file_has_gone_is_the_file_lookup(bot):
    await bot.say("hồ sơ nộp trên dịch vụ công rồi, giờ nó báo thanh toán lệ phí, trả bằng gì")
    out = to_citizen(await bot.say("xem hồ sơ đến bước nào rồi thì xem ở đâu"))
    assert about(out)[0] == "tra-cuu-ho-so"


def test_a_fact_that_goes_on_after_done_keeps_its_words_for_the_request():
    done = after_done("tách xong bố mẹ tặng cho con trai thì làm tiếp thế nào")
    assert done is not None and not done.ends
    assert done.after == "bo me tang cho con trai thi lam tiep the nao"


async def test_the_yes_no_question_right_after_done_is_the_request(bot):
    # the change of land use is done; the building permit is what is asked now
    await bot.say("đất đó là đất trồng lúa, giờ muốn lên thổ cư để làm nhà thì sao ạ")
    out = to_citizen(await bot.say("lên thổ cư xong xây nhà cấp 4 có phải xin giấy phép không"))
    assert about(out)[0] == "giay-phep-xay-dung"
