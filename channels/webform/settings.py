"""Per-account settings of a web form: whose form it is, which languages, which limits.

A channel owner publishes a second form (a dealer network, another brand) by
adding an account with other settings; nothing here needs code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from channels.twilio_sms import TwilioSmsSettings

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")
MAX_PHOTOS = 5


class LocalText(BaseModel):
    """A text in each page language; a missing one falls back to the other."""

    model_config = ConfigDict(extra="forbid")

    zh: str | None = Field(default=None, max_length=200)
    en: str | None = Field(default=None, max_length=200)

    def get(self, language: str) -> str:
        first, second = (self.zh, self.en) if language == "zh-CN" else (self.en, self.zh)
        return first or second or ""


class RateLimit(BaseModel):
    """At most `count` events per `seconds`, per client address (or per reference)."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=100_000)
    seconds: float = Field(gt=0, le=86_400)


class WebformSettings(BaseModel):
    # A secret pasted where its reference belongs must not be echoed in the error.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    company: LocalText = Field(
        default_factory=lambda: LocalText(zh="恒泰电器", en="Hengtai Appliances"),
        description="whose form this is, shown as the page heading",
    )
    brand: LocalText | None = Field(
        default=None, description="a sub-title, e.g. a dealer network or a brand"
    )
    department_hints: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="advisory department names passed on as draft hints `department_hint:NAME`",
    )
    languages: list[Language] = Field(
        default_factory=lambda: list(LANGUAGES),
        min_length=1,
        description="page languages offered; the first is the fallback",
    )
    timezone: str = Field(default="Asia/Shanghai", description="how form dates are read")
    acknowledge_by_email: bool = True
    sms: TwilioSmsSettings | None = Field(
        default=None,
        description="Twilio account for SMS acknowledgements (a phone but no e-mail given)",
    )
    max_photos: int = Field(default=MAX_PHOTOS, ge=0, le=MAX_PHOTOS)
    max_photo_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=25 * 1024 * 1024)
    max_photo_side: int = Field(default=2560, ge=256, le=8192, description="px, after re-encoding")
    submit_limit: RateLimit = Field(default_factory=lambda: RateLimit(count=10, seconds=600))
    lookup_limit: RateLimit = Field(default_factory=lambda: RateLimit(count=10, seconds=600))
    lookup_failures_per_reference: RateLimit = Field(
        default_factory=lambda: RateLimit(count=5, seconds=3600)
    )
    csrf_secret: str | None = Field(
        default=None,
        description="reference (env:NAME or file:/path) to a key shared by all front-ends; "
        "without it each process makes its own",
    )
    trust_forwarded_for: bool = Field(
        default=False, description="take the client address from X-Forwarded-For (behind a proxy)"
    )

    @field_validator("department_hints")
    @classmethod
    def _plain_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or not name.replace("_", "").isalnum() or len(name) > 64:
                raise ValueError(f"department hint {name!r} is not a plain name")
        return value

    @field_validator("languages")
    @classmethod
    def _no_repeats(cls, value: list[Language]) -> list[Language]:
        return list(dict.fromkeys(value))

    @field_validator("csrf_secret")
    @classmethod
    def _secret_is_reference(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("env:", "file:")):
            raise ValueError("csrf_secret must be a reference: env:NAME or file:/path")
        return value

    @model_validator(mode="after")
    def _timezone_known(self) -> WebformSettings:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc
        return self
