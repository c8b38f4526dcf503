"""The web form's SMS acknowledgement: the real Twilio client against a local stand-in.

A complainant who gave a phone but no e-mail gets the reference by SMS when the
form's account has an `sms` sender; without one the outbox row is dead-lettered
with the reason.
"""

from __future__ import annotations

import asyncio
import base64
from email.message import EmailMessage
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from channels.base import AccountView, AcknowledgeError
from channels.registry import get_kind
from channels.webform.settings import WebformSettings
from gateway.secrets import resolve_secret
from storage.tables import ChannelAccount, Outbox
from tests.channels.webform.conftest import FormClient, good_fields, reference_in
from tests.conftest import make_settings
from tests.gateway.harness import Gateway, running_gateway
from tests.twilio_api import FakeTwilioApi

ACCOUNT_SID = "AC" + "5" * 32
TOKEN = "webform-twilio-auth-token"
FROM = "+8610690000123"
TO = "+8613812345678"
PUBLIC = "https://complaints.example.com"


@pytest.fixture
def twilio_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TEST_WEBFORM_TWILIO_TOKEN", TOKEN)
    return TOKEN


def sms_settings(api: FakeTwilioApi, **changes: Any) -> dict[str, Any]:
    sms = {
        "account_sid": ACCOUNT_SID,
        "auth_token": "env:TEST_WEBFORM_TWILIO_TOKEN",
        "from_number": FROM,
        "api_base_url": api.url,
    }
    return {"sms": sms, **changes}


class SecretHost:
    """The parts of the channel host an acknowledgement uses; secrets resolved for real."""

    public_base_url = PUBLIC

    def __init__(self) -> None:
        self.mailed: list[EmailMessage] = []

    def secret(self, reference: str) -> str:
        return resolve_secret(reference)

    async def send_mail(self, message: EmailMessage) -> None:
        self.mailed.append(message)


def account(settings: dict[str, Any], name: str = "webform") -> AccountView:
    return AccountView(id=1, name=name, kind="webform", settings=settings, enabled=True)


async def acknowledge(settings: dict[str, Any], payload: dict[str, Any], host: Any) -> str:
    return await get_kind("webform").acknowledge(account(settings), payload, host)


def basic_auth() -> str:
    return "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{TOKEN}".encode()).decode()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-CN", "【恒泰电器】您的投诉已受理，受理编号QC-202611-000021。查询进度：" + PUBLIC),
        ("en", "Hengtai Appliances: we have received your complaint, reference QC-202611-000021."),
    ],
)
async def test_phone_only_complainant_gets_an_sms_in_the_forms_language(
    twilio_api: FakeTwilioApi, twilio_token: str, language: str, expected: str
) -> None:
    host = SecretHost()
    note = await acknowledge(
        sms_settings(twilio_api),
        {
            "reference": "QC-202611-000021",
            "complainant": {"phones": [TO], "name": "张三", "language": language},
        },
        host,
    )
    assert note == "SMS acknowledgement sent (SM" + "2" * 32 + ")" and host.mailed == []
    [sent] = twilio_api.requests
    assert sent["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent["auth"] == basic_auth()
    assert sent["form"]["To"] == TO and sent["form"]["From"] == FROM
    assert sent["form"]["Body"].startswith(expected)
    assert sent["form"]["Body"].endswith(f"{PUBLIC}/status")


async def test_email_still_wins_when_both_were_given(
    twilio_api: FakeTwilioApi, twilio_token: str
) -> None:
    host = SecretHost()
    payload = {"reference": "QC-202611-000022", "complainant": {"phones": [TO], "email": "a@x.cn"}}
    note = await acknowledge(sms_settings(twilio_api), payload, host)
    assert note.startswith("e-mail acknowledgement sent") and twilio_api.requests == []
    # with e-mail acknowledgements off, the phone gets the SMS instead
    note = await acknowledge(sms_settings(twilio_api, acknowledge_by_email=False), payload, host)
    assert note.startswith("SMS acknowledgement sent") and len(host.mailed) == 1
    assert twilio_api.requests[0]["form"]["To"] == TO


async def test_a_server_error_is_retried_a_refusal_is_not(
    twilio_api: FakeTwilioApi, twilio_token: str
) -> None:
    payload = {"reference": "QC-202611-000023", "complainant": {"phones": [TO]}}
    twilio_api.statuses = [503, 429, 400]
    for status, retry in ((503, True), (429, True), (400, False)):
        with pytest.raises(AcknowledgeError) as caught:
            await acknowledge(sms_settings(twilio_api), payload, SecretHost())
        assert caught.value.retry is retry and f"Twilio refused the SMS: {status}" in str(
            caught.value
        )
    assert len(twilio_api.requests) == 3


async def test_unreachable_twilio_and_unreadable_token_are_retried(
    twilio_api: FakeTwilioApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = {"reference": "QC-202611-000024", "complainant": {"phones": [TO]}}
    with pytest.raises(AcknowledgeError) as caught:  # TEST_WEBFORM_TWILIO_TOKEN not set
        await acknowledge(sms_settings(twilio_api), payload, SecretHost())
    assert caught.value.retry and "sms.auth_token" in str(caught.value)
    monkeypatch.setenv("TEST_WEBFORM_TWILIO_TOKEN", TOKEN)
    closed = twilio_api.url.rsplit(":", 1)[0] + ":9"  # the discard port: nobody listens
    settings = sms_settings(twilio_api)
    settings["sms"]["api_base_url"] = closed
    with pytest.raises(AcknowledgeError) as caught:
        await acknowledge(settings, payload, SecretHost())
    assert caught.value.retry and "Twilio unreachable" in str(caught.value)
    assert twilio_api.requests == []


async def test_without_an_sms_sender_a_phone_only_acknowledgement_is_dead() -> None:
    with pytest.raises(AcknowledgeError) as caught:
        await acknowledge(
            {}, {"reference": "QC-202611-000025", "complainant": {"phones": [TO]}}, SecretHost()
        )
    assert not caught.value.retry
    assert str(caught.value) == (
        "no e-mail given; no SMS sender is configured for this form (setting `sms`); "
        "the reference was shown on the page"
    )


def test_sms_settings_take_a_token_reference_only() -> None:
    with pytest.raises(ValidationError) as caught:
        WebformSettings.model_validate(
            {"sms": {"account_sid": ACCOUNT_SID, "auth_token": "s3cr3t-token", "from_number": FROM}}
        )
    assert "env:NAME or file:/path" in str(caught.value) and "s3cr3t-token" not in str(caught.value)
    with pytest.raises(ValidationError):
        WebformSettings.model_validate(
            {"sms": {"account_sid": ACCOUNT_SID, "auth_token": "env:X", "from_number": "12345"}}
        )
    parsed = WebformSettings.model_validate(
        {
            "sms": {
                "account_sid": ACCOUNT_SID,
                "auth_token": "env:X",
                "from_number": "+86 106 9000 0123",
            }
        }
    )
    assert parsed.sms is not None and parsed.sms.from_number == FROM


# -- through the running service: form → record → outbox → Twilio ------------------------------


async def set_webform_settings(gw: Gateway, settings: dict[str, Any]) -> None:
    async with gw.svc.sessions.begin() as session:
        row = await session.scalar(select(ChannelAccount).where(ChannelAccount.name == "webform"))
        assert row is not None
        row.settings = get_kind("webform").validate_settings(settings)


async def ack_row(gw: Gateway, final: set[str], timeout: float = 20.0) -> Outbox:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with gw.svc.sessions() as session:
            row = await session.scalar(select(Outbox).where(Outbox.purpose == "ack"))
        if row is not None and row.state in final:
            return row
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"ack row not final: {row and (row.state, row.last_error)}")
        await asyncio.sleep(0.05)


def phone_only(language: str) -> dict[str, str]:
    return good_fields(email="", preferred_contact="sms", lang=language)


async def test_phone_only_form_is_acknowledged_by_sms_after_a_retry(
    any_db_url: str, classify_step: Any, twilio_api: FakeTwilioApi, twilio_token: str
) -> None:
    twilio_api.statuses = [502]  # the first attempt fails: the outbox tries again
    settings = make_settings(any_db_url, public_base_url=PUBLIC)
    async with running_gateway(settings, classify_step) as gw:
        await set_webform_settings(gw, sms_settings(twilio_api))
        status, html = await FormClient(gw).post(phone_only("en"))
        assert status == 200, html
        reference = reference_in(html)
        await gw.record(reference)
        row = await ack_row(gw, {"delivered", "dead"})
    assert row.state == "delivered" and row.attempts == 2, row.last_error
    assert len(twilio_api.requests) == 2
    sent = twilio_api.requests[-1]
    assert sent["auth"] == basic_auth()
    assert sent["form"]["To"] == TO and sent["form"]["From"] == FROM
    assert f"reference {reference}." in sent["form"]["Body"]


async def test_phone_only_form_without_sms_is_dead_lettered_with_the_reason(
    sqlite_url: str, classify_step: Any
) -> None:
    async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
        status, html = await FormClient(gw).post(phone_only("zh-CN"))
        assert status == 200, html
        await gw.record(reference_in(html))
        row = await ack_row(gw, {"delivered", "dead"})
    assert row.state == "dead" and row.attempts == 1
    assert row.last_error is not None and "no SMS sender is configured" in row.last_error
