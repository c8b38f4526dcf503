"""Service settings: defaults, then a YAML config file, then `GATEWAY_*` environment variables.

The embedded defaults need no file at all: SQLite under `./var`, in-process
workers, the HTTP API on 127.0.0.1:8080. Setting `redis_url` switches to the
scale-out mode (arq workers). Secrets appear only as references (`env:NAME`,
`file:/path`), see `gateway.secrets`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from gateway.admin_ui.settings import AdminSettings
from gateway.secrets import validate_reference
from routing.batches import DEFAULT_FAULT_KEYWORDS
from routing.sla import DEFAULT_LIMITS, validate_limits


class DestinationSettings(BaseModel):
    """One downstream destination; fields beyond these belong to the kind (`routing.<kind>`)."""

    model_config = ConfigDict(extra="allow")

    kind: str = "webhook"
    url: str | None = None
    secret: str | None = Field(default=None, description="reference: env:NAME or file:/path")
    timeout_seconds: float = 10.0
    fields: list[str] | None = Field(
        default=None, description="allow-list of record fields sent; None sends all"
    )

    @field_validator("secret")
    @classmethod
    def _secret_is_reference(cls, value: str | None) -> str | None:
        return None if value is None else validate_reference(value)


class RoutingSettings(BaseModel):
    """Department → destination names; major complaints also go to `escalation`."""

    departments: dict[str, list[str]] = Field(default_factory=dict)
    default: list[str] = Field(default_factory=list)
    escalation: list[str] = Field(default_factory=list)
    review: list[str] = Field(default_factory=list)


class SlaSettings(BaseModel):
    """Time limits per severity: clock → "1h", "90m", "2d" or "15wd" (working days)."""

    timezone: str = "Asia/Shanghai"
    limits: dict[str, dict[str, str]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_LIMITS.items()}
    )

    @field_validator("limits")
    @classmethod
    def _limits_parse(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        validate_limits(value)
        return value


class LinkSettings(BaseModel):
    """Repeats and batch incidents (SPEC §6)."""

    batch_threshold: int = Field(default=5, ge=2)
    batch_window_days: float = Field(default=7.0, gt=0)
    fault_keywords: list[str] = Field(default_factory=lambda: list(DEFAULT_FAULT_KEYWORDS))


class SmtpRelaySettings(BaseModel):
    """The relay every outgoing mail goes through: acknowledgements and department mail."""

    host: str
    port: int = 25
    security: str = Field(default="none", pattern="^(none|starttls|tls)$")
    username: str | None = None
    password: str | None = Field(default=None, description="reference: env:NAME or file:/path")
    sender: str = Field(description="From address, e.g. 'Hengtai Service <service@example.com>'")
    timeout_seconds: float = 30.0

    @field_validator("password")
    @classmethod
    def _password_is_reference(cls, value: str | None) -> str | None:
        return None if value is None else validate_reference(value)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_nested_delimiter="__", extra="forbid"
    )
    config_file: ClassVar[Path | None] = None

    database_url: str = "sqlite+aiosqlite:///./var/gateway.db"
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("./var")
    log_level: str = "INFO"
    max_body_bytes: int = 1_048_576
    embedded_workers: int = 4
    stale_after_seconds: float = 60.0
    sweep_interval_seconds: float = 2.0
    delivery_max_attempts: int = 8
    delivery_backoff_base_seconds: float = 1.0
    delivery_backoff_max_seconds: float = 600.0
    public_base_url: str | None = Field(
        default=None, description="how providers reach us (default http://host:port)"
    )
    run_listeners: bool = Field(
        default=True, description="run channel listeners (IMAP, SMTP, folders) in this process"
    )
    listener_sync_seconds: float = 5.0
    smtp_relay: SmtpRelaySettings | None = None
    classifier_config: Path | None = None
    model_dir: Path | None = None
    destinations: dict[str, DestinationSettings] = Field(default_factory=dict)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    routing_refresh_seconds: float = 2.0
    sla: SlaSettings = Field(default_factory=SlaSettings)
    links: LinkSettings = Field(default_factory=LinkSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)

    @model_validator(mode="after")
    def _routes_name_known_destinations(self) -> Settings:
        table = self.routing
        named = {*table.default, *table.escalation, *table.review}
        for names in table.departments.values():
            named.update(names)
        unknown = sorted(named - set(self.destinations))
        if unknown:
            raise ValueError(f"routing names destinations that are not configured: {unknown}")
        return self

    @property
    def scale_out(self) -> bool:
        return bool(self.redis_url)

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.config_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=cls.config_file))
        return tuple(sources)


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from `config_file` (or $GATEWAY_CONFIG) with the environment on top."""
    path = config_file or os.environ.get("GATEWAY_CONFIG")
    if path is not None and not Path(path).is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    Settings.config_file = Path(path) if path else None
    try:
        return Settings(**overrides)
    finally:
        Settings.config_file = None
