"""The `api` channel: complaints posted as JSON to `POST /api/v1/complaints`."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError

from channels.base import ChannelType, NormaliseError, RawInput
from channels.registry import register
from storage.records import ChannelKind, Complainant, ComplaintDraft, Product


class ApiComplainant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    phones: list[str] = Field(default_factory=list, max_length=5)
    email: EmailStr | None = None
    handle: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, max_length=16)


class ApiProduct(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, max_length=100)
    specification: str | None = Field(default=None, max_length=200)
    serial: str | None = Field(default=None, max_length=100)
    quantity: int | None = Field(default=None, ge=0, le=1_000_000)


class ApiComplaint(BaseModel):
    """The JSON body of `POST /api/v1/complaints`: the draft fields of SPEC §2."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=100_000, description="the complaint text")
    subject: str | None = Field(default=None, max_length=500)
    channel_account: str | None = Field(
        default=None, description="api channel account name; the default account if omitted"
    )
    complainant: ApiComplainant = Field(default_factory=ApiComplainant)
    product: ApiProduct = Field(default_factory=ApiProduct)
    order_number: str | None = Field(default=None, max_length=64)
    amount: Decimal | str | None = None
    occurred_at: datetime | None = None
    location: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, max_length=16)


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company: str | None = None
    department_hint: str | None = None


def parse_api_body(data: bytes) -> ApiComplaint:
    """Parse and validate a body; raises NormaliseError with a readable message."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NormaliseError(f"body is not valid JSON: {exc}") from exc
    try:
        return ApiComplaint.model_validate(document)
    except ValidationError as exc:
        raise NormaliseError(str(exc)) from exc


class ApiChannel(ChannelType):
    kind = "api"
    family = ChannelKind.API
    settings_model = ApiSettings
    description = "JSON complaints posted by API clients"

    def normalise(self, raw: RawInput) -> ComplaintDraft:
        item = parse_api_body(raw.data)
        who = item.complainant
        phones = [p for p in [who.phone, *who.phones] if p]
        return ComplaintDraft(
            channel=self.family,
            channel_account=raw.account,
            provider_ids=[raw.provider_id],
            received_at=raw.received_at,
            occurred_at=item.occurred_at,
            location=item.location,
            complainant=Complainant(
                name=who.name,
                phones=phones,
                email=str(who.email) if who.email else None,
                handle=who.handle,
                address=who.address,
                language=who.language,
            ),
            subject=item.subject,
            body=item.body.strip(),
            language=item.language,
            product=Product(**item.product.model_dump()),
            order_number=item.order_number,
            amount=str(item.amount) if item.amount is not None else None,
        )


register(ApiChannel())
