"""Settings shared by every destination kind (each kind's model extends this one)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class KindSettings(BaseModel):
    """Common fields; `fields` is the allow-list of record fields a destination may see."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    fields: list[str] | None = None
