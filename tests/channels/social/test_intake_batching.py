"""Group commit: concurrent deliveries share transactions, and one that cannot be written
fails alone while the others are kept."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from channels.social.intake import GroupCommit
from gateway.channel_host import GatewayHost
from storage.accounts import find_account
from storage.chat_intake import ChatIntake
from storage.conversations import ChatAccepted, ChatMessage, ChatWindow
from storage.db import utcnow
from storage.tables import RawMessage
from tests.channels.social.conftest import ACCOUNT_NAMES, social_gateway


class CountingHost(GatewayHost):
    """The real host, counting the intake transactions it runs."""

    batches: list[int]

    async def accept_chat_batch(self, items: list[ChatIntake]) -> list[ChatAccepted]:
        self.batches.append(len(items))
        return await super().accept_chat_batch(items)


def intake(account_id: int, provider_id: str) -> ChatIntake:
    message = ChatMessage("telegram:8", utcnow(), {"kind": "text", "text": provider_id})
    return ChatIntake(
        account_id, "tg-bot", provider_id, provider_id.encode(), "text/plain", message, ChatWindow()
    )


async def test_concurrent_requests_share_transactions_and_a_bad_one_fails_alone(
    pg_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(pg_url, classify_step, fake_apis.url) as gw:
        async with gw.svc.sessions() as session:
            account = await find_account(session, ACCOUNT_NAMES["social.telegram"])
            assert account is not None
        host = CountingHost(gw.svc)
        host.batches = []
        commit = GroupCommit(host)
        good = [commit.submit([intake(account.id, f"ok-{n}")]) for n in range(30)]
        bad = commit.submit([intake(10**9, "no-such-account")])  # violates a foreign key
        results = await asyncio.gather(*good, bad, return_exceptions=True)
        async with gw.svc.sessions() as session:
            kept = await session.scalar(
                select(func.count()).where(RawMessage.provider_id.like("ok-%"))
            )
    assert isinstance(results[-1], Exception)
    assert all(isinstance(r, list) and not r[0].duplicate for r in results[:-1])
    assert kept == 30
    assert host.batches[0] == 31  # every request waiting was in the first transaction


@pytest.mark.parametrize("repeat", [2, 3])
async def test_a_delivery_repeated_within_one_transaction_is_kept_once(
    sqlite_url, classify_step, fake_apis, social_secrets, repeat
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        async with gw.svc.sessions() as session:
            account = await find_account(session, ACCOUNT_NAMES["social.telegram"])
            assert account is not None
        commit = GroupCommit(GatewayHost(gw.svc))
        answers = await asyncio.gather(
            *(commit.submit([intake(account.id, "same")]) for _ in range(repeat))
        )
        async with gw.svc.sessions() as session:
            rows = await session.scalar(
                select(func.count()).where(RawMessage.provider_id == "same")
            )
    flat = [answer[0] for answer in answers]
    assert rows == 1
    assert [a.duplicate for a in flat] == [False] + [True] * (repeat - 1)
    assert len({a.raw_id for a in flat}) == 1
