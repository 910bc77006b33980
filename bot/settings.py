"""Settings from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_URL = "https://api.telegram.org"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # A secret: SecretStr keeps it out of reprs and logs.
    telegram_bot_token: SecretStr | None = None
    # A self-hosted Bot API server, or the local emulator; the bot calls {url}/bot<token>/<method>.
    telegram_api_url: str = TELEGRAM_API_URL
    # Seconds a Bot API request may take (connect, send, read) before it counts as timed out.
    telegram_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    database_url: str = "sqlite:///limber.db"
    log_level: str = "INFO"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    # Seconds between countdown edits: Telegram frowns on editing one chat more than every few seconds.
    timer_tick_seconds: float = Field(default=5.0, ge=1.0, le=60.0)
    # Daily prompts: how often the clock looks for due prompts, and how late one may still be sent.
    prompt_poll_seconds: float = Field(default=30.0, ge=1.0, le=3600.0)
    prompt_grace_minutes: int = Field(default=120, ge=0, le=24 * 60)
    # Fan-out pace, under Telegram's ~30 messages a second; senders working at once.
    fanout_rate: float = Field(default=29.0, gt=0, le=30.0)
    fanout_workers: int = Field(default=8, ge=1, le=64)
    # "all": updates and the prompt clock; "updates" or "clock" to run them as separate processes.
    role: Literal["all", "updates", "clock"] = "all"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()]
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("log level must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value
