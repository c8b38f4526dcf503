"""Settings of one hotline number (a `hotline.twilio` channel account).

Every spoken text has a default in Mandarin and English; an account may
override any of them. The auth token is a reference (`env:NAME` or
`file:/path`), never the token itself.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Language = Literal["zh", "en"]
Action = Literal["complaint", "status", "operator"]
#: Twilio's speech recognition and text-to-speech language per hotline language.
TWILIO_LANGUAGE: dict[str, str] = {"zh": "cmn-CN", "en": "en-US"}
#: Amazon Polly voices Twilio offers for each language.
VOICE: dict[str, str] = {"zh": "Polly.Zhiyu", "en": "Polly.Joanna"}


class MenuOption(BaseModel):
    """One key of the main menu: what it does and which department it hints at."""

    model_config = ConfigDict(extra="forbid")

    digit: str = Field(pattern=r"^[0-9]$")
    action: Action
    labels: dict[Language, str] = Field(default_factory=dict, description="what it is called")
    words: list[str] = Field(default_factory=list, description="spoken words choosing it")
    department_hint: str | None = None


class BusinessHours(BaseModel):
    """When a person answers; outside them the operator option records a message."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = "Asia/Shanghai"
    days: list[int] = Field(default=[0, 1, 2, 3, 4, 5], description="0 = Monday")
    opens: time = time(9, 0)
    closes: time = time(18, 0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        return local.weekday() in self.days and self.opens <= local.time() < self.closes


def _default_menu() -> list[MenuOption]:
    def option(
        digit: str, action: Action, zh: str, en: str, words: str, hint: str | None = None
    ) -> MenuOption:
        return MenuOption(
            digit=digit,
            action=action,
            labels={"zh": zh, "en": en},
            words=words.split(),
            department_hint=hint,
        )

    return [
        option("1", "complaint", "产品质量问题", "a product problem",
               "质量 故障 产品 quality product", "quality"),
        option("2", "complaint", "送货问题", "a delivery problem", "送货 物流 快递 delivery",
               "logistics"),
        option("3", "complaint", "安装维修问题", "installation or repair",
               "安装 维修 repair install", "after_sales"),
        option("8", "status", "查询投诉进度", "the status of a complaint", "查询 进度 status"),
        option("0", "operator", "人工服务", "a person", "人工 客服 person agent operator"),
    ]  # fmt: skip


class HotlineSettings(BaseModel):
    """One Twilio number. `number` and `auth_token` may be left out for an account that
    only takes imported transcripts; its webhooks then refuse every request."""

    # A token pasted where its reference belongs must not be echoed in the error.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    number: str | None = Field(default=None, description="the Twilio number, E.164")
    account_sid: str | None = Field(default=None, description="Twilio account SID (for SMS)")
    auth_token: str | None = Field(default=None, description="reference: env:NAME or file:/path")
    languages: list[Language] = Field(default=["zh", "en"], min_length=1)
    default_region: str = Field(default="CN", description="region for national caller IDs")
    company: str = "恒泰电器 Hengtai Appliances"
    texts: dict[Language, dict[str, str]] = Field(
        default_factory=dict, description="overrides of the spoken texts, per language and key"
    )
    menu: list[MenuOption] = Field(default_factory=_default_menu, min_length=1)
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    operator_number: str | None = Field(default=None, description="where option 'operator' dials")
    recording_max_seconds: int = Field(default=120, ge=5, le=3600)
    transcribe_recordings: bool = True
    transcription_wait_seconds: int = Field(
        default=120,
        ge=0,
        le=3600,
        description="how long a voicemail waits for its transcription before it is classified",
    )
    call_step_retention_days: float = Field(
        default=30.0, gt=0, description="call steps older than this are deleted"
    )
    sms_acknowledgement: bool = False
    sms_from: str | None = Field(default=None, description="SMS sender; default `number`")
    rest_base_url: str | None = Field(
        default=None, description="Twilio REST base URL (default Twilio's own; for proxies)"
    )

    @field_validator("auth_token")
    @classmethod
    def _token_is_reference(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme, _, target = value.partition(":")
        if scheme not in ("env", "file") or not target:
            raise ValueError("auth_token must be a reference: env:NAME or file:/path")
        return value

    @field_validator("number", "operator_number", "sms_from")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parsed = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"{value!r} is not an E.164 number (+country…): {exc}") from exc
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    @model_validator(mode="after")
    def _consistent(self) -> HotlineSettings:
        digits = [option.digit for option in self.menu]
        if len(set(digits)) != len(digits):
            raise ValueError(f"menu digits must be distinct, got {digits}")
        if (self.number is None) != (self.auth_token is None):
            raise ValueError("number and auth_token go together (both or neither)")
        if self.sms_acknowledgement and not (self.account_sid and self.number):
            raise ValueError("sms_acknowledgement needs account_sid and number")
        return self

    def option(self, digit: str) -> MenuOption | None:
        return next((o for o in self.menu if o.digit == digit), None)
