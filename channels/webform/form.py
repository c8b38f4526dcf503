"""The complaint form's fields: reading what was posted and saying what is wrong with it.

Pure functions over strings, so every validation message can be tested
without a server. Errors are catalogue keys (see `i18n`), shown next to
the field they belong to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email

PREFERRED = ("phone", "sms", "email")
TEXT_LIMITS: Mapping[str, int] = {
    "name": 100,
    "phone": 40,
    "email": 254,
    "order_number": 64,
    "product_model": 100,
    "serial": 100,
    "quantity": 10,
    "occurred_on": 10,
    "location": 300,
    "description": 5000,
    "preferred_contact": 10,
}
FIELDS = tuple(TEXT_LIMITS)
CHECKBOXES = ("anonymous", "consent")
MIN_DESCRIPTION = 10
MAX_QUANTITY = 100_000


@dataclass(frozen=True)
class FieldError:
    """A catalogue key and its placeholders, e.g. ("err_too_long", {"max": 100})."""

    key: str
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass
class ComplaintForm:
    """What a person entered, as text (re-shown on errors) and checked values."""

    values: dict[str, str]
    anonymous: bool = False
    consent: bool = False
    errors: dict[str, FieldError] = field(default_factory=dict)
    phone_e164: str | None = None
    email: str | None = None
    quantity: int | None = None
    occurred_on: date | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    def fields(self) -> dict[str, object]:
        """The checked fields as they go into the archived document."""
        values: dict[str, object] = {name: (self.values.get(name) or None) for name in FIELDS}
        values.update(
            phone=self.phone_e164,
            email=self.email,
            quantity=self.quantity,
            occurred_on=self.occurred_on.isoformat() if self.occurred_on else None,
            anonymous=self.anonymous,
            consent=self.consent,
        )
        return values


def _clean(value: str) -> str:
    """Trim, drop control characters (keeping newlines in the description)."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", value.replace("\r\n", "\n")).strip()


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "on", "yes", "true")


def normalise_mobile(value: str) -> str | None:
    """A mainland China mobile number in E.164, or None when `value` is not one."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def read_form(posted: Mapping[str, str], today: date) -> ComplaintForm:
    """Check the posted fields; `today` bounds the date (the form's own timezone)."""
    values = {name: _clean(posted.get(name, "")) for name in FIELDS}
    form = ComplaintForm(
        values=values,
        anonymous=_truthy(posted.get("anonymous")),
        consent=_truthy(posted.get("consent")),
    )
    errors = form.errors
    for name, limit in TEXT_LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = FieldError("err_too_long", {"max": limit})
    _check_description(values["description"], errors)
    _check_contact(form)
    _check_quantity(form)
    _check_date(form, today)
    return form


def _check_description(text: str, errors: dict[str, FieldError]) -> None:
    if "description" in errors:
        return
    if not text:
        errors["description"] = FieldError("err_required")
    elif len(text) < MIN_DESCRIPTION:
        errors["description"] = FieldError("err_too_short", {"min": MIN_DESCRIPTION})


def _check_contact(form: ComplaintForm) -> None:
    values, errors = form.values, form.errors
    if values["phone"] and "phone" not in errors:
        form.phone_e164 = normalise_mobile(values["phone"])
        if form.phone_e164 is None:
            errors["phone"] = FieldError("err_phone")
    if values["email"] and "email" not in errors:
        form.email = normalise_email(values["email"])
        if form.email is None:
            errors["email"] = FieldError("err_email")
    given = bool(values["phone"] or values["email"])
    if not given and not form.anonymous:
        errors["phone"] = FieldError("err_contact_or_anonymous")
    if given and form.anonymous:
        errors["anonymous"] = FieldError("err_anonymous_with_contact")
    if given and not form.consent:
        errors["consent"] = FieldError("err_consent")
    preferred = values["preferred_contact"]
    if preferred:
        if preferred not in PREFERRED:
            errors["preferred_contact"] = FieldError("err_choice")
        elif (preferred == "email" and not values["email"]) or (
            preferred in ("phone", "sms") and not values["phone"]
        ):
            errors["preferred_contact"] = FieldError("err_preferred")


def _check_quantity(form: ComplaintForm) -> None:
    text = form.values["quantity"]
    if not text or "quantity" in form.errors:
        return
    if not text.isdigit() or not 1 <= int(text) <= MAX_QUANTITY:
        form.errors["quantity"] = FieldError("err_quantity")
    else:
        form.quantity = int(text)


def _check_date(form: ComplaintForm, today: date) -> None:
    text = form.values["occurred_on"]
    if not text or "occurred_on" in form.errors:
        return
    try:
        day = date.fromisoformat(text)
    except ValueError:
        form.errors["occurred_on"] = FieldError("err_date")
        return
    if day > today or day.year < 1990:
        form.errors["occurred_on"] = FieldError("err_date")
    else:
        form.occurred_on = day
