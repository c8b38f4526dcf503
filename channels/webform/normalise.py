"""An archived form document → a `ComplaintDraft`.

The body is the description followed by the facts the form asked for, as
labelled lines in the page's language: the classifier reads text only, and
a date, a model or an order number entered in its own field must weigh as
if it had been written in the description (an old date → `expired`, a
foreign model → `out_of_scope`). The same facts are also set in their
fields of the record.
"""

from __future__ import annotations

import binascii
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from channels.base import NormaliseError, RawInput
from channels.webform.document import FormDocument
from storage.records import ChannelKind, Complainant, ComplaintDraft, Product

ANONYMOUS_HINT = "anonymous"
DEPARTMENT_HINT = "department_hint:"
_FACT_LABELS = {
    "zh-CN": {
        "order_number": "订单号",
        "product_model": "产品型号",
        "serial": "序列号/批次号",
        "quantity": "数量",
        "occurred_on": "发生日期",
        "location": "发生地点",
    },
    "en": {
        "order_number": "Order number",
        "product_model": "Product model",
        "serial": "Serial/batch number",
        "quantity": "Quantity",
        "occurred_on": "Date it happened",
        "location": "Where it happened",
    },
}


def parse_document(data: bytes) -> FormDocument:
    try:
        return FormDocument.model_validate_json(data)
    except ValidationError as exc:
        raise NormaliseError(f"not a web form document: {exc}") from exc


def normalise_form(raw: RawInput) -> ComplaintDraft:
    document = parse_document(raw.data)
    fields = document.fields
    phones = [fields.phone] if fields.phone and fields.consent else []
    email = fields.email if fields.consent else None
    draft = ComplaintDraft(
        channel=ChannelKind.WEBFORM,
        channel_account=raw.account,
        provider_ids=[raw.provider_id],
        received_at=raw.received_at,
        received_tz=document.timezone,
        occurred_at=_occurred_at(fields.occurred_on, document.timezone),
        location=fields.location,
        complainant=Complainant(
            name=fields.name, phones=phones, email=email, language=document.language
        ),
        body=_body(document),
        product=Product(model=fields.product_model, serial=fields.serial, quantity=fields.quantity),
        order_number=fields.order_number,
        hints=_hints(document, has_contact=bool(phones or email)),
    )
    for photo in document.photos:
        try:
            draft.add_attachment(photo.name, photo.media_type, photo.content())
        except (binascii.Error, ValueError) as exc:
            raise NormaliseError(f"photo {photo.name} is not valid base64") from exc
    return draft


def _occurred_at(day: str | None, timezone: str) -> datetime | None:
    """The start of the stated day in the form's timezone, as UTC."""
    if not day:
        return None
    try:
        value = date.fromisoformat(day)
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError) as exc:
        raise NormaliseError(f"bad date {day!r} or timezone {timezone!r}") from exc
    return datetime.combine(value, time(0, 0), tzinfo=zone).astimezone(UTC)


def _body(document: FormDocument) -> str:
    labels = _FACT_LABELS[document.language]
    separator = "：" if document.language == "zh-CN" else ": "
    facts = [
        f"{label}{separator}{value}"
        for name, label in labels.items()
        if (value := getattr(document.fields, name)) not in (None, "")
    ]
    body = document.fields.description.strip()
    return f"{body}\n\n" + "\n".join(facts) if facts else body


def _hints(document: FormDocument, *, has_contact: bool) -> list[str]:
    hints = [f"{DEPARTMENT_HINT}{name}" for name in document.department_hints]
    if not has_contact:
        hints.append(ANONYMOUS_HINT)
    return hints
