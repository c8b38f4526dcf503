"""Settings every social account shares: the conversation window, limits, the language."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from storage.conversations import ChatWindow

DEFAULT_CLOSING_PHRASES = [
    "谢谢",
    "多谢",
    "就这些",
    "就这样",
    "没有了",
    "说完了",
    "完毕",
    "thanks",
    "thank you",
    "that's all",
    "that is all",
]


def _reference(value: str) -> str:
    """Secrets are stored as `env:NAME` or `file:/path`, never as the value itself."""
    scheme, _, target = value.partition(":")
    if scheme not in ("env", "file") or not target:
        raise ValueError(f"secret reference must be env:NAME or file:/path, got {value!r}")
    return value


SecretRef = Annotated[str, AfterValidator(_reference)]


class SocialSettings(BaseModel):
    """The part of every social account's settings that is about conversations and limits."""

    model_config = ConfigDict(extra="forbid")

    quiet_seconds: float = Field(
        default=180.0, ge=1, le=86_400, description="a conversation closes after this silence"
    )
    follow_up_hours: float = Field(
        default=168.0, ge=0, description="a later conversation continues the last complaint"
    )
    closing_phrases: list[str] = Field(default_factory=lambda: list(DEFAULT_CLOSING_PHRASES))
    form_fields: int = Field(
        default=3, ge=0, description="'label: value' lines that make a message complete (0: off)"
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_media_bytes: int = Field(default=10 * 1_048_576, ge=1024)
    media_timeout_seconds: float = Field(default=20.0, gt=0)
    language: str = Field(default="zh", description="acknowledgement language when unknown")

    @property
    def window(self) -> ChatWindow:
        return ChatWindow(
            quiet_seconds=self.quiet_seconds, follow_up_seconds=self.follow_up_hours * 3600
        )
