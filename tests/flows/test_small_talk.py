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
