"""Bad input gets a clear, polite answer or a clean rejection; never a crash or lost data."""

import json
import subprocess
import sys
from pathlib import Path

from flows.models import ConversationKey, Inbound
from tests.flows.driver import to_citizen

ROOT = Path(__file__).resolve().parents[2]
CLOCK = "2026-12-01T09:00:00+07:00"  # a working Tuesday: no test depends on the real time


async def test_empty_text(bot):
    out = to_citizen(await bot.say(""))
    assert "chưa nhập nội dung" in out[0]["text"]


async def test_whitespace_and_control_characters(bot):
    out = to_citizen(await bot.say("  \x00\x07\t  "))
    assert "chưa nhập nội dung" in out[0]["text"]
    out = to_citizen(await bot.say("khai\x00 sinh\x1b"))
    assert out[0]["text"].startswith("Đăng ký khai sinh")


async def test_emoji_only(bot):
    out = to_citizen(await bot.say("😀🙏👍"))
    assert "chỉ đọc được chữ" in out[0]["text"]


async def test_twenty_thousand_characters(bot):
    out = to_citizen(await bot.say("làm giấy khai sinh " + "a" * 20_000))
    assert "Tin nhắn khá dài" in out[0]["text"]
    assert any(o["text"].startswith("Đăng ký khai sinh") for o in out)


async def test_unknown_command(bot):
    out = to_citizen(await bot.say("/abcxyz"))
    assert "không có lệnh này" in out[0]["text"]


async def test_stale_and_unknown_buttons_get_the_current_menu(bot):
    key = ConversationKey(channel="sim", user_id="u1")
    for data in (
        "g:thu-tuc-da-bo",
        "claim:1",
        "del:y",
        "more",
        "qa:khai-sinh:99",
        "zzz",
        "s:khai-sinh:p:x",
    ):
        replies = await bot.engine.handle(Inbound(key=key, kind="button", button=data))
        assert "Menu này đã cũ" in replies[-1].text, data
    assert await bot.storage.handoffs.current(1) is None  # a forged staff button did nothing


async def test_duplicate_platform_message_is_handled_once(bot):
    key = ConversationKey(channel="sim", user_id="u1")
    message = Inbound(key=key, text="khai sinh", message_id="m-1")
    assert await bot.engine.handle(message)
    assert await bot.engine.handle(message) == []


def test_malformed_json_lines_do_not_stop_the_simulation(tmp_path):
    lines = [
        "{not json",
        json.dumps({"user": "u1", "text": "khai sinh"}),
        "[1, 2]",
        json.dumps({"user": "u1", "press": 42}),
        json.dumps({"nobody": True}),
        json.dumps({"user": "u1", "press": "Lệ phí"}),
    ]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", "--clock", CLOCK],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["done"] for r in records if "done" in r] == [1, 2, 3, 4, 5, 6]
    errors = result.stderr.splitlines()
    assert errors[0].startswith("simulate: line 1: invalid JSON")
    assert any(e.startswith("simulate: line 4: no button 42") for e in errors)
    fee = [r for r in records if r.get("in") == 6]
    assert fee and "Lệ phí «Đăng ký khai sinh»" in fee[0]["text"]
