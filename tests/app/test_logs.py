"""No secret and no citizen text reaches the log, even when things fail."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys
from pathlib import Path

from bot.config import Settings
from bot.logs import REDACTED, configure_logging, redact
from tests.telegram.conftest import STAFF_CHAT, TOKEN
from tests.telegram.fakeapi import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
MARK = "Quoxitrang"


def test_redact_tokens_in_urls_queries_and_json() -> None:
    line = (
        f"POST https://api.telegram.org/bot{TOKEN}/getUpdates; "
        "refresh_token=abcDEF123456&app_id=1 {'access_token': 'zzzYYY999'}"
    )
    clean = redact(line, ["zzzYYY999"])
    assert TOKEN not in clean and TOKEN.split(":")[1] not in clean
    assert "abcDEF123456" not in clean and "zzzYYY999" not in clean
    assert clean.count(REDACTED) == 3
    assert "app_id=1" in clean  # the rest stays readable


def test_configured_secrets_are_removed_from_messages_and_tracebacks() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        zalo_app_id="123",
        zalo_app_secret="appsecretVALUE",
        zalo_oa_secret_key="oasecretVALUE",
        zalo_refresh_token="refreshVALUE",
    )
    stream = io.StringIO()
    handler = configure_logging(settings, stream)
    try:
        logger = logging.getLogger("tests.secret")
        try:
            raise RuntimeError("signing with oasecretVALUE failed")
        except RuntimeError:
            logger.exception("call with %s", "appsecretVALUE")
        logging.getLogger("httpx").info("HTTP Request: GET https://x/bot%s/getMe", TOKEN)
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "call with" in text and "RuntimeError" in text
    for secret in ("appsecretVALUE", "oasecretVALUE", TOKEN):
        assert secret not in text
    assert "HTTP Request" not in text  # httpx request lines are not logged at INFO


async def test_a_whole_run_logs_neither_the_token_nor_what_citizens_wrote(tmp_path: Path) -> None:
    async with FakeBotApi(token=TOKEN) as tg:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT),
            "TELEGRAM_BASE_URL": tg.base_url,
            "TELEGRAM_POLL_TIMEOUT": "1",
            "BOT_DB": str(tmp_path / "bot.sqlite3"),
            "LOG_LEVEL": "INFO",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip

        def to_citizen(count: int) -> object:
            return tg.wait_for(
                "sendMessage",
                count=count,
                predicate=lambda c: c.ok and int(c.params["chat_id"]) == 42,
                timeout=30,
            )

        # the citizen's name is theirs too
        tg.push_private_text(42, f"khai sinh cho con {MARK} 0912345678", first_name=f"{MARK}a")
        await to_citizen(1)
        # the staff group is failing: the failure is logged, the citizen's words are not
        tg.fail_next("createForumTopic", 400, "Bad Request: not enough rights", times=50)
        tg.fail_next("sendMessage", 500, times=1)
        tg.push_private_text(42, f"gặp cán bộ giúp {MARK}")
        await to_citizen(2)
        tg.push_private_text(42, f"{MARK} vẫn đang chờ")
        await to_citizen(2)
        await asyncio.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "stopping" in log
    # the failure itself is reported (by the outbox sender that retries the desk post)
    assert "staff desk post was refused" in log or "not delivered yet" in log, log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert MARK not in log and "0912345678" not in log
