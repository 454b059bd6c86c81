"""Small talk through the simulation: an acknowledgement is not answered as a thanks, a goodbye
gets a goodbye, another agency's procedure names that agency."""

from flows import texts
from tests.flows.driver import to_citizen


async def test_an_acknowledgement_gets_its_own_reply(bot):
    await bot.say("đăng ký khai tử")
    out = to_citizen(await bot.say("vâng"))
    assert out[0]["text"] == texts.ACKNOWLEDGED
    assert "không có gì" not in out[0]["text"]
    out = to_citizen(await bot.say("cảm ơn ad"))
    assert out[0]["text"] == texts.YOU_ARE_WELCOME


async def test_a_goodbye_gets_a_goodbye(bot):
    await bot.say("đăng ký kết hôn")
    out = to_citizen(await bot.say("tạm biệt ad"))
    assert out[0]["text"] == texts.GOODBYE


async def test_a_criminal_record_points_to_the_police(bot):
    out = to_citizen(await bot.say("xin phiếu lý lịch tư pháp ở đâu"))
    assert "Công an" in out[0]["text"] and "guide" not in out[0]


async def test_adoption_says_the_commune_handles_it_and_offers_a_person(bot):
    """The commune registers adoptions; we have no guide: never "Ủy ban xã không giải quyết"."""
    out = to_citizen(await bot.say("vợ chồng tôi muốn nhận một bé làm con nuôi"))
    text = "\n".join(reply["text"] for reply in out)
    assert "Ủy ban nhân dân xã" in text and "không do Ủy ban xã" not in text
    assert "Gặp cán bộ" in out[-1]["buttons"]
    assert "guide" not in out[0]


async def test_a_policy_loan_points_to_the_social_policy_bank(bot):
    out = to_citizen(await bot.say("vay vốn ngân hàng chính sách để nuôi bò"))
    text = "\n".join(reply["text"] for reply in out)
    assert "Ngân hàng Chính sách xã hội" in text and "không do Ủy ban xã" in text
