"""All configuration in one pydantic-settings model, validated once at start-up."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from knowledge.loader import DEFAULT_DIR

SignatureVariant = Literal["app_id", "oa_id", "app_secret"]
_TOKEN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{20,}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_db: str = Field(
        default="data/bot.sqlite3",
        description="SQLite database file (or sqlite:PATH), or a postgresql:// URL",
    )
    communes_file: Path | None = Field(
        default=None, description="YAML listing the communes served (default: one, from here)"
    )
    knowledge_dir: Path = Field(default=DEFAULT_DIR, description="guides, office.yaml, lexicon")
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    bot_sender: Literal["process", "thread"] = Field(
        default="process",
        description="process: the outbox is delivered by a child process that outlives a crash"
        " of the bot process (no duplicate when the bot process is killed); thread: in-process",
    )
    handoff_reminder_minutes: int = Field(default=15, ge=1, le=24 * 60)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    retention_months: int = Field(
        default=12, ge=1, le=120, description="conversations and events older than this are purged"
    )

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_staff_chat_id: int | None = None
    telegram_editor_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_staff_names: Annotated[dict[int, str], NoDecode] = Field(
        default_factory=dict, description="staff user id -> name shown to citizens"
    )
    telegram_poll_timeout: float = Field(default=30.0, ge=0)
    telegram_send_timeout: float = Field(
        default=60.0,
        gt=0,
        description="seconds to wait for a Bot API answer to a send: well above Telegram's usual"
        " latency (< 1 s), because a send given up on and retried may reach the citizen twice",
    )

    zalo_app_id: str | None = None
    zalo_app_secret: SecretStr | None = None
    zalo_oa_secret_key: SecretStr | None = None
    zalo_access_token: SecretStr | None = None
    zalo_refresh_token: SecretStr | None = None
    zalo_api_base_url: str = "https://openapi.zalo.me"
    zalo_oauth_base_url: str = "https://oauth.zaloapp.com"
    zalo_signature_variants: list[SignatureVariant] = Field(
        default_factory=lambda: list(get_args(SignatureVariant)),
        description="webhook signature formulas to accept, tried in order (sources disagree)",
    )
    zalo_max_skew_seconds: int = Field(default=6 * 3600, ge=60)

    web_chat: bool = Field(
        default=False, description="serve the web chat widget (/widget.js) and its API"
    )

    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=1, le=65535)
    healthz_always: bool = Field(
        default=False, description="serve /healthz even without webhooks (polling, Docker)"
    )
    web_console: bool = Field(
        default=False, description="serve the staff console under /admin/ on HTTP_HOST:HTTP_PORT"
    )
    web_secure_cookies: bool = Field(
        default=True,
        description="mark console cookies Secure (false only for plain HTTP on loopback)",
    )
    web_session_hours: float = Field(default=12, gt=0, le=24 * 30)

    @field_validator("bot_db", mode="before")
    @classmethod
    def _db_text(cls, value: Any) -> Any:
        """A path object (tests, callers) is the SQLite file it names."""
        return str(value) if isinstance(value, Path) else value

    @field_validator("telegram_editor_ids", mode="before")
    @classmethod
    def _id_list(cls, value: Any) -> Any:
        """`111,222`, `111 222` or the JSON `[111, 222]`."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                raise ValueError("not a list of ids: write 111,222 or [111, 222]") from None
        parts = [p for p in re.split(r"[,;\s]+", text) if p]
        if not all(re.fullmatch(r"-?\d+", p) for p in parts):
            raise ValueError("not a list of numeric user ids: write 111,222")
        return [int(p) for p in parts]

    @field_validator("telegram_staff_names", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return {}
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError(
                'must be JSON mapping user ids to names, e.g. {"111111": "Chị Lan"}'
            ) from None

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN.match(value.get_secret_value()):
            raise ValueError("does not look like a bot token from BotFather (digits:letters)")
        return value

    @field_validator("telegram_staff_chat_id")
    @classmethod
    def _supergroup(cls, value: int | None) -> int | None:
        if value is not None and value >= 0:
            raise ValueError("a supergroup id is negative, e.g. -1001234567890")
        return value

    @model_validator(mode="after")
    def _telegram_complete(self) -> Settings:
        if self.telegram_bot_token is not None and self.telegram_staff_chat_id is None:
            raise ValueError(
                "TELEGRAM_STAFF_CHAT_ID is required with TELEGRAM_BOT_TOKEN "
                "(the staff forum group where handoffs go)"
            )
        if self.telegram_webhook_url and not self.telegram_webhook_url.startswith("https://"):
            raise ValueError("TELEGRAM_WEBHOOK_URL must start with https://")
        if self.telegram_webhook_url and not (
            self.telegram_webhook_secret and self.telegram_webhook_secret.get_secret_value()
        ):
            # without it anyone who finds the URL can post updates "from" staff
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL "
                "(a random string; Telegram sends it with every update)"
            )
        return self

    @model_validator(mode="after")
    def _zalo_complete(self) -> Settings:
        given = {
            "ZALO_APP_ID": self.zalo_app_id,
            "ZALO_APP_SECRET": self.zalo_app_secret,
            "ZALO_OA_SECRET_KEY": self.zalo_oa_secret_key,
            "ZALO_REFRESH_TOKEN": self.zalo_refresh_token,
        }
        if any(v is not None for v in given.values()):
            missing = [name for name, value in given.items() if value is None]
            if missing:
                raise ValueError("Zalo needs these too: " + ", ".join(missing))
        if self.zalo_app_id is not None and not self.zalo_app_id.isdigit():
            raise ValueError("ZALO_APP_ID is the numeric app id from developers.zalo.me")
        return self

    @property
    def zalo_enabled(self) -> bool:
        return self.zalo_app_id is not None

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None


class StartupError(RuntimeError):
    """A problem found before serving (unwritable database, unreadable guides, a staff group
    that is not a forum): reported as one line, exit status 2, no traceback."""


def describe_error(exc: ValidationError) -> str:
    """One line per bad variable, naming it as it is set in the environment."""
    lines = []
    for error in exc.errors():
        name = "_".join(str(p) for p in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(
            f"configuration error: {name}: {message}" if name else f"configuration error: {message}"
        )
    return "\n".join(lines)
