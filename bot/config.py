"""All configuration in one pydantic-settings model, validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.loader import DEFAULT_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_db: Path = Field(default=Path("data/bot.sqlite3"), description="SQLite database file")
    knowledge_dir: Path = Field(default=DEFAULT_DIR, description="guides, office.yaml, lexicon")
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    handoff_reminder_minutes: int = Field(default=15, ge=1, le=24 * 60)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


def describe_error(exc: ValidationError) -> str:
    """One line per bad variable, naming it as it is set in the environment."""
    lines = []
    for error in exc.errors():
        name = "_".join(str(p) for p in error["loc"]).upper() or "?"
        lines.append(f"configuration error: {name}: {error['msg']}")
    return "\n".join(lines)
