"""The sender process's contract with the bot process (bot.relay), without starting either."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pydantic import SecretStr

from bot.config import Settings
from bot.relay import lock_path, settings_from, settings_payload

ROOT = Path(__file__).resolve().parents[2]


def test_the_sender_gets_the_parents_settings_exactly_secrets_included() -> None:
    settings = Settings(
        bot_db="/tmp/x/bot.sqlite3",
        telegram_bot_token=SecretStr("123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        telegram_staff_chat_id=-100123,
        telegram_staff_names={111: "Chị Lan"},
        telegram_editor_ids=[111, 222],
        telegram_send_timeout=12.5,
    )
    again = settings_from(settings_payload(settings))
    assert again == settings
    assert again.telegram_bot_token is not None
    assert again.telegram_bot_token.get_secret_value() == "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert again.telegram_staff_names == {111: "Chị Lan"}


def test_one_sender_per_sqlite_file_and_none_needed_on_postgres() -> None:
    assert lock_path(Settings(bot_db="/tmp/x/bot.sqlite3")) == "/tmp/x/bot.sqlite3.sender-lock"
    assert lock_path(Settings(bot_db="postgresql://bot@db/thutuc")) is None


def test_the_send_command_started_by_hand_says_who_starts_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "send"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert "python -m bot run" in done.stderr
