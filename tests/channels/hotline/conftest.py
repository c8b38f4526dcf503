"""A running gateway with one hotline number, and a caller that talks to it like Twilio does.

Requests are form-encoded with Twilio's parameter names and signed with the
real `RequestValidator` over the public URL; the caller follows the action
URLs in the TwiML it gets back, as Twilio would.
"""

from __future__ import annotations

import asyncio
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from channels.hotline import callflow
from storage.accounts import add_account
from storage.tables import ChannelAccount, Complaint, RawMessage
from storage.tables_hotline import HotlineCallStep
from tests.conftest import make_settings
from tests.gateway.harness import Gateway, running_gateway
from tests.twilio_api import twilio_api  # noqa: F401  (a fixture)

TOKEN = "test-twilio-auth-token"
PUBLIC = "https://voice.example.com"
NUMBER = "+8657188880000"
ACCOUNT = "hotline-cn"
ACCOUNT_SID = "AC" + "0" * 32


def hotline_settings(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "number": NUMBER,
        "account_sid": ACCOUNT_SID,
        "auth_token": "env:TEST_TWILIO_TOKEN",
        "operator_number": "+8657188880001",
        "business_hours": {"days": [0, 1, 2, 3, 4, 5, 6], "opens": "00:00", "closes": "23:59"},
    }
    settings.update(overrides)
    return settings


@dataclass
class Reply:
    status: int
    text: str

    @property
    def xml(self) -> ET.Element:
        return ET.fromstring(self.text)

    def action(self) -> str:
        """Where Twilio goes next: the Gather / Record / Dial action URL."""
        for element in self.xml.iter():
            if element.tag in ("Gather", "Record", "Dial") and element.get("action"):
                return element.get("action", "")
        raise AssertionError(f"no action in {self.text}")

    def said(self) -> str:
        return " ".join(e.text or "" for e in self.xml.iter("Say"))

    def tags(self) -> list[str]:
        return [e.tag for e in self.xml.iter()]


@dataclass
class Caller:
    """One phone call into the hotline, from `number`."""

    gw: Gateway
    number: str = "+8613812345678"
    sid: str = field(default_factory=lambda: "CA" + uuid.uuid4().hex)
    to: str = NUMBER
    token: str = TOKEN
    account: str = ACCOUNT

    def params(self, **extra: str) -> dict[str, str]:
        base = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "CallSid": self.sid,
            "CallStatus": "in-progress",
            "Called": self.to,
            "Caller": self.number,
            "Direction": "inbound",
            "From": self.number,
            "To": self.to,
        }
        base.update(extra)
        return base

    async def post(self, url: str, params: dict[str, str], signature: str | None = None) -> Reply:
        assert url.startswith(PUBLIC), url
        if signature is None:
            signature = RequestValidator(self.token).compute_signature(url, params)
        response = await self.gw.client.post(
            url.removeprefix(PUBLIC),
            data=params,
            headers={"X-Twilio-Signature": signature},
        )
        return Reply(response.status, await response.text())

    def url(self, step: str, query: str = "") -> str:
        return f"{PUBLIC}/hotline/twilio/{self.account}/{step}{query}"

    async def dial_in(self) -> Reply:
        return await self.post(self.url("voice"), self.params(CallStatus="ringing"))

    async def answer(self, reply: Reply, **said: str) -> Reply:
        """Answer the prompt in `reply` (SpeechResult / Digits / recording fields)."""
        assert reply.status == 200, reply.text
        return await self.post(reply.action(), self.params(**said))

    async def complain(self, speech: str) -> None:
        """The shortest whole complaint call: English, a product problem said in `speech`,
        no order number, confirmed."""
        menu = await self.answer(await self.dial_in(), Digits="2")
        product = await self.answer(await self.answer(menu, Digits="1"), SpeechResult=speech)
        await self.answer(await self.answer(product, Digits="#"), Digits="#")

    async def hang_up(self, status: str = "completed", duration: str = "42") -> Reply:
        return await self.post(
            self.url("status"), self.params(CallStatus=status, CallDuration=duration)
        )


async def count(gw: Gateway, model: Any) -> int:
    async with gw.svc.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def settled() -> None:
    """Wait for the work webhooks leave to do after answering (archiving a finished call)."""
    while callflow._LATER:
        await asyncio.gather(*list(callflow._LATER), return_exceptions=True)


async def counts(gw: Gateway) -> tuple[int, int, int]:
    """(call steps, raw inputs, complaints), once the webhooks' follow-up work is done."""
    await settled()
    return (
        await count(gw, HotlineCallStep),
        await count(gw, RawMessage),
        await count(gw, Complaint),
    )


async def reference_of(gw: Gateway, provider_id: str, timeout: float = 10.0) -> str:
    """The reference of raw input `provider_id`, waiting for it a little: a call is
    archived just after the webhook that ends it has answered."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with gw.svc.sessions() as session:
            reference = await session.scalar(
                select(RawMessage.reference).where(RawMessage.provider_id == provider_id)
            )
        if reference or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.02)
    assert reference, f"no raw input {provider_id}"
    return str(reference)


def spoken_reference(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def twilio_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TEST_TWILIO_TOKEN", TOKEN)
    return TOKEN


async def start_hotline(db_url: str, classify_step: Any, **settings: Any) -> AsyncIterator[Gateway]:
    async with running_gateway(make_settings(db_url, public_base_url=PUBLIC), classify_step) as gw:
        async with gw.svc.sessions.begin() as session:
            await add_account(session, "hotline.twilio", ACCOUNT, hotline_settings(**settings))
        yield gw


@pytest.fixture
async def hotline(sqlite_url: str, classify_step: Any, twilio_token: str) -> AsyncIterator[Gateway]:
    async for gw in start_hotline(sqlite_url, classify_step):
        yield gw


async def set_settings(gw: Gateway, **overrides: Any) -> None:
    async with gw.svc.sessions.begin() as session:
        account = await session.scalar(select(ChannelAccount).where(ChannelAccount.name == ACCOUNT))
        assert account is not None
        account.settings = hotline_settings(**overrides)
