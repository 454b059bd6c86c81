"""COMMUNES_FILE: validated at start-up, secrets only from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.communes import load_communes
from bot.config import Settings, StartupError
from flows.models import DEFAULT_COMMUNE

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "111111:AAAAtokenAAAAtokenAAAAtoken0"
GOOD = """communes:
  - id: an-khanh
    name: Phường An Khánh
    telegram:
      token_env: AN_KHANH_TOKEN
      staff_chat_id: -1001111111111
"""


def settings(path: Path | None, **extra: object) -> Settings:
    return Settings(_env_file=None, communes_file=path, **extra)  # type: ignore[call-arg]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "communes.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_without_a_file_the_single_commune_setup_works_unchanged(tmp_path: Path) -> None:
    base = settings(None, bot_db=tmp_path / "bot.sqlite3")
    [commune] = load_communes(base, {})
    assert commune.id == DEFAULT_COMMUNE and commune.implicit
    assert commune.settings is base and commune.db == str(tmp_path / "bot.sqlite3")


def test_each_commune_gets_its_own_credentials_on_the_shared_database(tmp_path: Path) -> None:
    base = settings(write(tmp_path, GOOD), bot_db=tmp_path / "bot.sqlite3")
    [commune] = load_communes(base, {"AN_KHANH_TOKEN": TOKEN})
    assert commune.settings.telegram_bot_token is not None
    assert commune.settings.telegram_bot_token.get_secret_value() == TOKEN
    assert commune.settings.telegram_staff_chat_id == -1001111111111
    assert commune.db == base.bot_db and not commune.implicit  # one shared database


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace("token_env: AN_KHANH_TOKEN", f"token: {TOKEN}"),
            ":5: communes.0.telegram.token: a secret",
        ),
        (GOOD.replace("name: Phường An Khánh", f"name: '{TOKEN}'"), "looks like a bot token"),
        (GOOD + "    zalo: {app_id: '1', app_secret: x}\n", "a secret does not belong"),
        (GOOD.replace("-1001111111111", "1234"), ":6: communes.0.telegram.staff_chat_id"),
        (GOOD + GOOD.removeprefix("communes:\n"), "commune id used twice: an-khanh"),
        (GOOD.replace("id: an-khanh", "id: An Khánh"), ":2: communes.0.id"),
        ("communes: [\n", "lỗi cú pháp YAML"),
    ],
)
def test_a_bad_file_is_one_clear_line_with_its_place(
    tmp_path: Path, text: str, expected: str
) -> None:
    base = settings(write(tmp_path, text))
    with pytest.raises(StartupError) as caught:
        load_communes(base, {"AN_KHANH_TOKEN": TOKEN})
    assert expected in str(caught.value)
    assert TOKEN not in str(caught.value)  # never echo a secret


def test_a_missing_environment_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="environment variable AN_KHANH_TOKEN is not set"):
        load_communes(settings(write(tmp_path, GOOD)), {})


def test_the_process_refuses_a_secret_in_the_file_with_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("token_env: AN_KHANH_TOKEN", f"bot_token: {TOKEN}"))
    env = {**os.environ, "COMMUNES_FILE": str(path), "BOT_DB": str(tmp_path / "x.sqlite3")}
    out = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2, out.stderr
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("start-up error: ") and "secret does not belong" in line
    assert TOKEN not in out.stderr


def test_a_webhook_url_must_carry_the_commune(tmp_path: Path) -> None:
    text = GOOD + (
        "      webhook_url: https://bot.example.gov.vn/telegram/webhook\n"
        "      webhook_secret_env: AN_KHANH_SECRET\n"
    )
    env = {"AN_KHANH_TOKEN": TOKEN, "AN_KHANH_SECRET": "s3cret"}
    with pytest.raises(StartupError, match=r":7: .*must end with /telegram/an-khanh/webhook"):
        load_communes(settings(write(tmp_path, text)), env)


def test_single_commune_tokens_and_a_communes_file_do_not_mix(tmp_path: Path) -> None:
    base = settings(write(tmp_path, GOOD), telegram_bot_token=TOKEN, telegram_staff_chat_id=-1)
    with pytest.raises(StartupError, match="remove TELEGRAM_BOT_TOKEN"):
        load_communes(base, {"AN_KHANH_TOKEN": TOKEN})
