"""Channel settings forms generated from the settings model: a `Literal`/`Enum` field is a
<select> of its allowed values, a list of them a group of checkboxes, a bool a checkbox."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from multidict import MultiDict
from pydantic import BaseModel

from gateway.admin_ui.forms import FormError, form_fields, read_form
from tests.admin.conftest import AdminGateway


class Mode(StrEnum):
    FAST = "fast"
    SAFE = "safe"


class Example(BaseModel):
    security: Literal["tls", "starttls", "none"] = "tls"
    mode: Mode = Mode.SAFE
    engine: Literal["a", "b"] | None = None
    languages: list[Literal["zh", "en"]] = ["zh"]
    verify: bool = True
    note: str = ""


def test_enum_and_literal_fields_become_choices() -> None:
    fields = {f.name: f for f in form_fields(Example)}
    assert (fields["security"].widget, fields["security"].choices) == (
        "select",
        ("", "tls", "starttls", "none"),
    )
    assert fields["security"].value == "tls"
    assert fields["mode"].widget == "select" and fields["mode"].value == "safe"
    assert fields["mode"].choices == ("", "fast", "safe")
    assert fields["engine"].choices == ("", "a", "b")
    assert fields["languages"].widget == "multi"
    assert fields["languages"].choices == ("zh", "en")
    assert fields["languages"].selected == ("zh",)
    assert fields["verify"].widget == "checkbox" and fields["verify"].checked
    assert fields["note"].widget == "text"


def test_choices_are_read_back_and_checked() -> None:
    form = MultiDict(
        [("s_security", "none"), ("s_mode", "fast"), ("s_languages__present", "1"),
         ("s_languages", "en"), ("s_languages", "zh")]
    )  # fmt: skip
    values = read_form(Example, form)
    assert values["security"] == "none" and values["mode"] == "fast"
    assert values["languages"] == ["en", "zh"] and values["verify"] is False
    assert Example.model_validate(values).mode is Mode.FAST
    for bad in ({"s_security": '"none"'}, {"s_languages__present": "1", "s_languages": "fr"}):
        try:
            read_form(Example, MultiDict(bad))
        except FormError as error:
            assert "is not one of" in str(error)
        else:
            raise AssertionError(f"{bad} was accepted")


async def test_the_imap_and_letter_forms_render_selects(admin_gateway: AdminGateway) -> None:
    owner = admin_gateway.browsers["channel_owner"]
    status, page = await owner.get("/admin/channels/new?kind=email.imap")
    assert status == 200
    select = re.search(r'<select name="s_security">(.*?)</select>', page, re.S)
    assert select, "security is not a select"
    options = re.findall(r'<option value="([^"]*)"', select.group(1))
    assert options == ["", "tls", "starttls", "none"]
    assert '<option value="tls" selected>' in select.group(1)
    assert 'type="checkbox" name="s_verify_certificate"' in page
    assert '<textarea name="s_security"' not in page
    status, page = await owner.get("/admin/channels/new?kind=letter")
    assert re.search(r'<select name="s_engine">', page)
    assert re.search(r'type="checkbox" name="s_languages" value="zh"\s+checked', page)


async def test_a_value_outside_the_choices_saves_nothing(admin_gateway: AdminGateway) -> None:
    owner = admin_gateway.browsers["channel_owner"]
    form = {"kind": "email.imap", "name": "box-1", "s_host": "127.0.0.1", "s_username": "u",
            "s_password": "env:TEST_IMAP_PASSWORD", "s_security": "ssl3"}  # fmt: skip
    status, page = await owner.post("/admin/channels", form)
    assert status == 422 and "ssl3 is not one of tls, starttls, none" in page
    status, page = await owner.get("/admin/channels")
    assert "box-1" not in page
    status, page = await owner.post("/admin/channels", {**form, "s_security": "starttls"})
    assert status == 303, re.findall(r'class="problem"[^>]*>([^<]*)', page)
    status, page = await owner.get("/admin/channels/box-1")
    assert '<option value="starttls" selected>' in page
