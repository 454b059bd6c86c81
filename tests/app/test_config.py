"""Configuration mistakes stop the bot with one clear line and exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings, describe_error
from tests.telegram.conftest import STAFF_CHAT, TOKEN

ROOT = Path(__file__).resolve().parents[2]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *(args or ("run",))],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("value", ["111,222", "111, 222", "[111, 222]", "111 222"])
def test_id_lists_accept_commas_and_json(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_EDITOR_IDS", value)
    assert Settings(_env_file=None).telegram_editor_ids == [111, 222]  # type: ignore[call-arg]


def test_staff_names_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_STAFF_NAMES", '{"111": "Chị Lan"}')
    assert Settings(_env_file=None).telegram_staff_names == {111: "Chị Lan"}  # type: ignore[call-arg]


def test_webhook_without_a_secret_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            telegram_bot_token=TOKEN,
            telegram_staff_chat_id=STAFF_CHAT,
            telegram_webhook_url="https://example.org/telegram/webhook",
        )
    assert "TELEGRAM_WEBHOOK_SECRET is required" in describe_error(caught.value)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TELEGRAM_EDITOR_IDS": "111,abc"}, "TELEGRAM_EDITOR_IDS: not a list of numeric user ids"),
        ({"TELEGRAM_STAFF_NAMES": "111=Chị Lan"}, "TELEGRAM_STAFF_NAMES: must be JSON"),
        (
            {"TELEGRAM_WEBHOOK_URL": "https://example.org/telegram/webhook"},
            "TELEGRAM_WEBHOOK_SECRET is required",
        ),
    ],
)
def test_bad_values_give_one_line_and_exit_2(
    env: dict[str, str], message: str, tmp_path: Path
) -> None:
    base = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT),
        "BOT_DB": str(tmp_path / "bot.sqlite3"),
    }
    out = run({**base, **env})
    assert out.returncode == 2, out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
