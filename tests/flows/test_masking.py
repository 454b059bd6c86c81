"""Personal numbers and addresses are masked, however they are written; amounts and dates not."""

from __future__ import annotations

import pytest

from flows.masking import mask_personal
from tests.flows.driver import Driver, to_staff


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("cccd 001203004567", "cccd *********567"),
        ("cccd 001 203 004 567 nhé", "cccd *********567 nhé"),
        ("cccd 001.203.004.567", "cccd *********567"),
        ("cmnd 123 456 789", "cmnd ******789"),
        ("gọi (024) 3825-1234 giúp", "gọi ********234 giúp"),
        ("024.3825.1234", "********234"),
        ("sđt 0912.345.678", "sđt *******678"),
        ("+84 912 345 678", "********678"),
        ("stk 1903 5555 1234 012 vietcombank", "stk ************012 vietcombank"),
        ("stk 0071000123456", "stk **********456"),
        ("hộ chiếu C1234567", "hộ chiếu *****567"),
        ("hộ chiếu số N12345678 cấp", "hộ chiếu số ******678 cấp"),
        ("email nguyen.van.an@gmail.com nhé", "email n***@gmail.com nhé"),
    ],
)
def test_personal_values_are_masked(typed: str, stored: str) -> None:
    assert mask_personal(typed) == stored


@pytest.mark.parametrize(
    "text",
    [
        "lệ phí 15.000.000 đồng",
        "ngày 01.02.2026 và 2026-12-01",
        "mã phản ánh PA-2026-000042",
        "nộp 2 bản, 10 ngày làm việc",
    ],
)
def test_amounts_dates_and_codes_stay(text: str) -> None:
    assert mask_personal(text) == text


async def test_feedback_content_is_masked(bot: Driver) -> None:
    await bot.say("/menu")
    await bot.press("☎️ Liên hệ & phản ánh")
    await bot.press("Phản ánh, kiến nghị về thủ tục hành chính")
    await bot.press("Phản ánh, kiến nghị")
    await bot.say("Cán bộ thu sai phí, tôi chuyển khoản từ stk 0071000123456, cccd 001 203 004 567")
    records = await bot.press("Không")
    [item] = await bot.storage.feedback.items()
    assert "0071000123456" not in item.content and "004 567" not in item.content
    assert "**********456" in item.content and "*********567" in item.content
    assert "0071000123456" not in to_staff(records)[0]["text"]
