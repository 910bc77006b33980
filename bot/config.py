"""Settings from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.db import Timeouts

TELEGRAM_API_URL = "https://api.telegram.org"


class Settings(BaseSettings):
    # Errors never echo the input: it holds the token and the webhook secret.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True, populate_by_name=True
    )

    # A secret: SecretStr keeps it out of reprs and logs.
    telegram_bot_token: SecretStr | None = None
    # A self-hosted Bot API server, or the local emulator; the bot calls {url}/bot<token>/<method>.
    telegram_api_url: str = TELEGRAM_API_URL
    # Seconds a Bot API request may take (connect, send, read) before it counts as timed out.
    telegram_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Connections to the Bot API kept open and reused (keep-alive seconds), and the longest a call waits
    # for a free one. Needed at once: about round trip x calls a second (80 ms x 150/s = 12); more cost
    # CPU, as httpcore scans the whole pool on every request (BENCHMARKS.md, issue 13).
    telegram_pool_size: int = Field(default=32, ge=2, le=512)
    telegram_keepalive_seconds: float = Field(default=30.0, ge=1.0, le=600.0)
    telegram_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    # Updates of different chats handled at once (one chat's always in order), and how many of one
    # chat's updates may wait behind the one running (bot.concurrency); 1 handles one at a time.
    update_concurrency: int = Field(default=64, ge=1, le=1024)
    update_queue_per_chat: int = Field(default=50, ge=1, le=1000)
    database_url: str = "sqlite:///limber.db"
    # PostgreSQL: the longest a connect, one statement and the wait for a pooled connection may take,
    # and the TCP keepalive idle time. A silent outage (packets dropped, nothing refused) then fails
    # within seconds as a transient error that bot.dbretry waits out, instead of hanging for good.
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    database_statement_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    database_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    database_keepalive_seconds: int = Field(default=10, ge=1, le=600)
    log_level: str = "INFO"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    # Seconds between countdown edits: Telegram frowns on editing one chat more than every few seconds.
    timer_tick_seconds: float = Field(default=5.0, ge=1.0, le=60.0)
    # Steps as pictures (a figure or an animation with the step as its caption), unless a person chose text only.
    step_pictures: bool = True
    # Where rendered figures are kept between runs.
    figures_dir: Path = Path("figures-cache")
    # Daily prompts: how often the clock looks for due prompts, and how late one may still be sent.
    prompt_poll_seconds: float = Field(default=30.0, ge=1.0, le=3600.0)
    prompt_grace_minutes: int = Field(default=120, ge=0, le=24 * 60)
    # Fan-out pace, under Telegram's ~30 messages a second; senders working at once.
    # 28.5: over 28 a second, and 30 requests span 1.05 s, so a receiver that sees them up to ~50 ms
    # bunched still counts no more than 30 in a second (at 29 a second, 30 span exactly one second).
    fanout_rate: float = Field(default=28.5, gt=0, le=30.0)
    fanout_workers: int = Field(default=8, ge=1, le=64)
    # "all": updates and the prompt clock; "updates" or "clock" to run them as separate processes.
    role: Literal["all", "updates", "clock"] = "all"
    # Webhook mode when set: the public HTTPS URL Telegram posts updates to (path included), the
    # address and port this process listens on behind it, and the secret Telegram sends with each post.
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    # WEBHOOK_PORT, or PORT as platforms set it; 0 takes any free port.
    webhook_port: int = Field(default=8080, ge=0, le=65535, validation_alias=AliasChoices("webhook_port", "port"))
    webhook_secret: SecretStr | None = None
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    # Hardening for a worker reachable without a load balancer: seconds a connection may take to send
    # a request's head, and its body; how many connections may be open at once (Telegram uses at most
    # webhook_max_connections; keep this well under the process's descriptor limit).
    webhook_header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    webhook_body_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    webhook_max_open_connections: int = Field(default=256, ge=8, le=10_000)

    def database_timeouts(self) -> Timeouts:
        return Timeouts(
            connect=self.database_connect_timeout_seconds,
            statement=self.database_statement_timeout_seconds,
            pool=self.database_pool_timeout_seconds,
            keepalive=self.database_keepalive_seconds,
        )

    def secrets(self) -> list[str]:
        """What the log filter takes out of every line (bot.logs)."""
        return [v.get_secret_value() for v in (self.telegram_bot_token, self.webhook_secret) if v is not None]

    @property
    def webhook(self) -> bool:
        return self.webhook_url is not None

    @model_validator(mode="after")
    def _webhook_complete(self) -> Settings:
        if self.webhook_url is None:
            return self
        if not self.webhook_url.startswith("https://"):
            raise ValueError("WEBHOOK_URL must be an https:// URL (Telegram posts only over HTTPS)")
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ValueError("WEBHOOK_SECRET must be 16-256 characters of A-Z, a-z, 0-9, _ and - in webhook mode")
        return self

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()]
        return value

    @field_validator("webhook_url", "webhook_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

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
