"""The archived form submission: one JSON document of the checked fields and the photos.

Why JSON and not the multipart body as the browser sent it: the original
photos carry EXIF GPS positions, which must not be stored (the issue asks
for photos stripped of location *before storage*), and the body also
carries the CSRF token and the honeypot. The document holds exactly what
was accepted — fields after checking, photos after re-encoding (base64) —
so replaying it through the normaliser gives the same record, with no
multipart parser involved. It carries no time stamp, so the same
submission always serialises to the same bytes (a double click is one input).
"""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from channels.webform.images import Photo


class StoredPhoto(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64)
    media_type: Literal["image/jpeg", "image/png"]
    data: str = Field(description="base64 of the re-encoded bytes")
    width: int
    height: int
    original_type: str
    original_size: int

    def content(self) -> bytes:
        return base64.b64decode(self.data, validate=True)


class FormFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    preferred_contact: Literal["phone", "sms", "email"] | None = None
    order_number: str | None = None
    product_model: str | None = None
    serial: str | None = None
    quantity: int | None = None
    occurred_on: str | None = None
    location: str | None = None
    description: str = Field(min_length=1)
    anonymous: bool = False
    consent: bool = False


class FormDocument(BaseModel):
    """What is archived for one accepted submission."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["webform/1"] = "webform/1"
    language: Literal["zh-CN", "en"]
    timezone: str
    department_hints: list[str] = Field(default_factory=list)
    fields: FormFields
    photos: list[StoredPhoto] = Field(default_factory=list, max_length=5)


def build_document(
    *,
    language: str,
    timezone: str,
    department_hints: list[str],
    fields: dict[str, Any],
    photos: list[Photo],
) -> bytes:
    document = FormDocument.model_validate(
        {
            "language": language,
            "timezone": timezone,
            "department_hints": department_hints,
            "fields": fields,
            "photos": [
                {
                    "name": f"photo-{number}.{photo.extension}",
                    "media_type": photo.media_type,
                    "data": base64.b64encode(photo.data).decode("ascii"),
                    "width": photo.width,
                    "height": photo.height,
                    "original_type": photo.original_type,
                    "original_size": photo.original_size,
                }
                for number, photo in enumerate(photos, start=1)
            ],
        }
    )
    return json.dumps(
        document.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")
