"""Tenancy: which communes one process serves, read from COMMUNES_FILE and validated at start-up.

The file names each commune's channels and where its secrets are, never the secrets themselves:
tokens come from environment variables named in the file (`token_env: AN_KHANH_TG_TOKEN`), so the
file can be committed and reviewed. A secret written into the file is a start-up error.
Without a file, today's single-commune settings serve one implicit commune, DEFAULT_COMMUNE.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from bot.config import Settings, StartupError
from flows.models import DEFAULT_COMMUNE
from knowledge.yamlsrc import Located, YamlSyntaxError, read_yaml

_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
EnvName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
CommuneId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
# Keys that would hold a secret value: the file names an environment variable instead.
_SECRET_KEY = re.compile(r"(token|secret|password|secret_key)$")


def _no_secrets(data: Any) -> Any:
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and _SECRET_KEY.search(key):
                raise ValueError(
                    f"'{key}': a secret does not belong in this file; write '{key}_env: NAME' "
                    "and set the environment variable NAME"
                )
            if isinstance(value, str) and _TOKEN.search(value):
                raise ValueError(
                    f"'{key}': looks like a bot token; give it by environment variable"
                )
    return data


def _secrets_in(
    data: Any, loc: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every place in the file that holds a secret, so the message points at its line."""
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    for key, value in items:
        where = (*loc, key)
        try:
            _no_secrets({key: value} if isinstance(key, str) else {"": value})
        except ValueError as exc:
            yield where, ".".join(str(p) for p in where) + ": " + str(exc).split(": ", 1)[1]
            continue
        yield from _secrets_in(value, where)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _secrets(cls, data: Any) -> Any:
        return _no_secrets(data)


class TelegramConfig(_Strict):
    token_env: EnvName
    staff_chat_id: int = Field(lt=0, description="the commune's staff forum supergroup")
    webhook_url: str | None = Field(default=None, pattern=r"^https://")
    webhook_secret_env: EnvName | None = None
    editor_ids: list[int] = Field(default_factory=list)
    staff_names: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _webhook_secret(self) -> TelegramConfig:
        if self.webhook_url and not self.webhook_secret_env:
            raise ValueError("webhook_url needs webhook_secret_env (Telegram sends it back)")
        return self


class ZaloConfig(_Strict):
    app_id: str = Field(pattern=r"^\d+$")
    app_secret_env: EnvName
    oa_secret_key_env: EnvName
    refresh_token_env: EnvName
    access_token_env: EnvName | None = None


class CommuneConfig(_Strict):
    id: CommuneId
    name: str = Field(min_length=1)
    knowledge: Path | None = Field(
        default=None, description="overrides folder (office.yaml, guides/), relative to the file"
    )
    telegram: TelegramConfig | None = None
    zalo: ZaloConfig | None = None


class CommunesFile(_Strict):
    province_knowledge: Path | None = Field(
        default=None, description="the province library (default: KNOWLEDGE_DIR)"
    )
    communes: list[CommuneConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CommunesFile:
        ids = [c.id for c in self.communes]
        if dup := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"commune id used twice: {', '.join(dup)}")
        groups = [c.telegram.staff_chat_id for c in self.communes if c.telegram]
        if dup_groups := sorted({g for g in groups if groups.count(g) > 1}):
            raise ValueError(f"staff group shared by two communes: {dup_groups[0]}")
        return self


@dataclass(frozen=True)
class Commune:
    """One tenant, resolved: its settings carry its own channel credentials."""

    id: str
    name: str
    settings: Settings
    knowledge_dir: Path
    overrides: Path | None
    db: str
    implicit: bool = False
    """The single commune of a deployment without COMMUNES_FILE: today's paths and files."""


def implicit_commune(settings: Settings) -> Commune:
    return Commune(
        DEFAULT_COMMUNE,
        DEFAULT_COMMUNE,
        settings,
        settings.knowledge_dir,
        None,
        settings.bot_db,
        implicit=True,
    )


def _describe(exc: ValidationError, located: Located, path: Path) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        where = ".".join(str(p) for p in loc)
        message = str(error["msg"]).removeprefix("Value error, ")
        label = f"{where}: " if where else ""
        lines.append(f"{path}:{located.line_of(loc)}: {label}{message}")
    return "\n".join(lines)


def read_communes(path: Path) -> tuple[CommunesFile, Located]:
    """Parse and validate the file; StartupError (one line per problem, with file:line)."""
    try:
        located = read_yaml(path)
    except YamlSyntaxError as exc:
        raise StartupError(f"{path}:{exc.line}: {exc.message}") from None
    except OSError as exc:
        raise StartupError(f"COMMUNES_FILE {path}: cannot be read ({exc.strerror})") from None
    if found := list(_secrets_in(located.data, ())):
        raise StartupError("\n".join(f"{path}:{located.line_of(loc)}: {why}" for loc, why in found))
    try:
        return CommunesFile.model_validate(located.data), located
    except ValidationError as exc:
        raise StartupError(_describe(exc, located, path)) from None


def load_communes(settings: Settings, env: Mapping[str, str]) -> list[Commune]:
    """The communes this process serves: from COMMUNES_FILE, else the implicit one."""
    if settings.communes_file is None:
        return [implicit_commune(settings)]
    path = settings.communes_file
    if settings.telegram_enabled or settings.zalo_enabled:
        raise StartupError(
            f"COMMUNES_FILE {path} lists the communes: remove TELEGRAM_BOT_TOKEN / ZALO_APP_ID "
            "from the environment and name each commune's variables in the file"
        )
    parsed, located = read_communes(path)
    base = path.parent
    province = _relative(base, parsed.province_knowledge) or settings.knowledge_dir
    communes = []
    for index, config in enumerate(parsed.communes):
        line = located.line_of(("communes", index))

        def secret(name: str | None, _line: int = line, _id: str = config.id) -> SecretStr | None:
            if name is None:
                return None
            value = env.get(name, "").strip()
            if not value:
                raise StartupError(
                    f"{path}:{_line}: commune '{_id}': environment variable {name} is not set"
                )
            return SecretStr(value)

        update: dict[str, Any] = {
            "knowledge_dir": province,
            "bot_db": settings.bot_db,  # one database; each commune sees only its rows
            "telegram_bot_token": None,
            "telegram_staff_chat_id": None,
            "telegram_webhook_url": None,
            "telegram_webhook_secret": None,
            "telegram_editor_ids": [],
            "telegram_staff_names": {},
            "zalo_app_id": None,
            "zalo_app_secret": None,
            "zalo_oa_secret_key": None,
            "zalo_access_token": None,
            "zalo_refresh_token": None,
        }
        if (tg := config.telegram) is not None:
            token = secret(tg.token_env)
            assert token is not None
            if not _TOKEN.fullmatch(token.get_secret_value()):
                raise StartupError(
                    f"{path}:{line}: commune '{config.id}': {tg.token_env} does not look like "
                    "a bot token from BotFather (digits:letters)"
                )
            expected = f"/telegram/{config.id}/webhook"
            if tg.webhook_url and not tg.webhook_url.rstrip("/").endswith(expected):
                raise StartupError(
                    f"{path}:{located.line_of(('communes', index, 'telegram', 'webhook_url'))}: "
                    f"commune '{config.id}': webhook_url must end with {expected}"
                )
            update |= {
                "telegram_bot_token": token,
                "telegram_staff_chat_id": tg.staff_chat_id,
                "telegram_webhook_url": tg.webhook_url,
                "telegram_webhook_secret": secret(tg.webhook_secret_env),
                "telegram_editor_ids": list(tg.editor_ids),
                "telegram_staff_names": dict(tg.staff_names),
            }
        if (zalo := config.zalo) is not None:
            update |= {
                "zalo_app_id": zalo.app_id,
                "zalo_app_secret": secret(zalo.app_secret_env),
                "zalo_oa_secret_key": secret(zalo.oa_secret_key_env),
                "zalo_refresh_token": secret(zalo.refresh_token_env),
                "zalo_access_token": secret(zalo.access_token_env),
            }
        overrides = _relative(base, config.knowledge)
        if overrides is not None and not overrides.is_dir():
            raise StartupError(
                f"{path}:{located.line_of(('communes', index, 'knowledge'))}: commune "
                f"'{config.id}': knowledge overrides folder {overrides} does not exist"
            )
        communes.append(
            Commune(
                config.id,
                config.name,
                settings.model_copy(update=update),
                province,
                overrides,
                update["bot_db"],
            )
        )
    tokens = [c.settings.telegram_bot_token for c in communes if c.settings.telegram_bot_token]
    values = [t.get_secret_value() for t in tokens]
    if len(set(values)) != len(values):
        raise StartupError(f"{path}: two communes use the same Telegram bot token")
    return communes


def _relative(base: Path, value: Path | None) -> Path | None:
    if value is None:
        return None
    return value if value.is_absolute() else base / value
