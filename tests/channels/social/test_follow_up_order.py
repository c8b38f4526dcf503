"""A person's next conversation continues their complaint even when it closes before that
complaint is stored, and the batched intake keeps every message exactly once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select, update

from gateway.channel_host import GatewayHost
from gateway.pipeline import process
from storage.accounts import find_account
from storage.chat_intake import ChatIntake, accept_chat_batch
from storage.conversations import ChatMessage, ChatWindow
from storage.db import utcnow
from storage.tables import Complaint, RawMessage
from storage.tables_social import ChatConversation, ChatConversationMessage, ChatInbox
from tests.channels.social.conftest import (
    ACCOUNT_NAMES,
    TELEGRAM_SECRET,
    close_due,
    conversations,
    force_due,
    social_gateway,
    wait_for,
)
from tests.channels.social.test_conversations import post
from tests.channels.social.test_conversations import update as tg_update


class HeldQueue:
    """Stands in for the job queue and keeps the jobs, so the test decides their order."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, int]] = []

    async def enqueue(self, job: str, row_id: int) -> None:
        self.jobs.append((job, row_id))

    async def depth(self) -> int:
        return len(self.jobs)

    def take(self) -> list[int]:
        taken = [row_id for job, row_id in self.jobs if job == "process"]
        self.jobs.clear()
        return taken


async def complaints(gw: Any) -> list[Complaint]:
    async with gw.svc.sessions() as session:
        return list((await session.execute(select(Complaint).order_by(Complaint.id))).scalars())


async def test_a_follow_up_closing_before_its_parent_is_stored_still_joins_the_parent(
    any_db_url, classify_step, fake_apis, social_secrets
):
    """The race, made deterministic: jobs are held and run newest first, the order in which
    a busy worker pool may well run them."""
    async with social_gateway(any_db_url, classify_step, fake_apis.url) as gw:
        held = HeldQueue()
        gw.svc.queue = held  # type: ignore[assignment]
        await post(gw, tg_update(1, text="热水器JSQ24-HT3漏水，就这些"))
        await close_due(gw, "social.telegram")
        [parent_raw] = held.take()  # closed and queued, not stored yet
        parent_reference = (await conversations(gw))[0].reference
        await post(gw, tg_update(2, text="补充：漏水的地方在进水口"))
        await force_due(gw)
        await close_due(gw, "social.telegram")
        waiting = (await conversations(gw))[1]
        for raw_id in [*reversed(held.take()), parent_raw]:  # any follow-up job first
            await process(gw.svc, raw_id)
        await close_due(gw, "social.telegram")  # the parent is stored: the follow-up closes
        for raw_id in reversed(held.take()):
            await process(gw.svc, raw_id)
        stored = await complaints(gw)
        rows = await conversations(gw)
    assert [c.reference for c in stored] == [parent_reference]
    assert waiting.state == "open", "a follow-up waits until its parent is stored"
    assert waiting.follow_up_of == parent_reference
    follow_ups = stored[0].record["follow_ups"]
    assert [f["body"] for f in follow_ups] == ["补充：漏水的地方在进水口"]
    assert [r.state for r in rows] == ["closed", "closed"]
    assert rows[1].reference == parent_reference


async def test_a_follow_up_of_a_parent_that_failed_becomes_a_complaint_of_its_own(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        held = HeldQueue()
        gw.svc.queue = held  # type: ignore[assignment]
        await post(gw, tg_update(1, text="冰箱BCD-520W不制冷，就这些"))
        await close_due(gw, "social.telegram")
        [parent_raw] = held.take()
        parent_reference = (await conversations(gw))[0].reference
        async with gw.svc.sessions.begin() as session:  # its processing failed for good
            await session.execute(
                update(RawMessage).where(RawMessage.id == parent_raw).values(state="failed")
            )
        await post(gw, tg_update(2, text="冰箱还是不制冷"))
        await force_due(gw)
        await close_due(gw, "social.telegram")
        [own_raw] = held.take()
        await process(gw.svc, own_raw)
        stored = await complaints(gw)
        rows = await conversations(gw)
    assert len(stored) == 1 and stored[0].reference not in (None, parent_reference)
    assert stored[0].record["body"] == "冰箱还是不制冷"
    assert rows[1].follow_up_of is None and rows[1].reference == stored[0].reference


async def test_intake_answers_each_item_once_and_the_grouping_pass_runs_by_itself(
    pg_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(pg_url, classify_step, fake_apis.url) as gw:
        async with gw.svc.sessions() as session:
            account_id = await _account_id(session, ACCOUNT_NAMES["social.telegram"])

        def item(provider_id: str, text: str) -> ChatIntake:
            message = ChatMessage("telegram:5", utcnow(), {"kind": "text", "text": text})
            return ChatIntake(
                account_id,
                "tg-bot",
                provider_id,
                text.encode(),
                "text/plain",
                message,
                ChatWindow(quiet_seconds=60),
            )

        async with gw.svc.sessions.begin() as session:
            first = await accept_chat_batch(session, [item("a", "一"), item("b", "二")])
        async with gw.svc.sessions.begin() as session:  # a retry, a repeat, one new
            second = await accept_chat_batch(
                session, [item("b", "二"), item("c", "三"), item("c", "三")]
            )
        assert [a.duplicate for a in first] == [False, False]
        assert [a.duplicate for a in second] == [True, False, True]
        assert second[0].raw_id == first[1].raw_id and second[1].raw_id == second[2].raw_id
        # webhooks start the grouping pass themselves; nothing here calls it
        statuses = await asyncio.gather(
            *(
                gw.client.post(
                    "/hooks/telegram/tg-bot",
                    json=tg_update(n, person=9, text=f"第{n}条"),
                    headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                )
                for n in range(10, 20)
            )
        )
        assert {s.status for s in statuses} == {200}

        async def all_joined() -> bool:
            async with gw.svc.sessions() as session:
                waiting = await session.scalar(select(func.count()).select_from(ChatInbox))
                joined = await session.scalar(
                    select(func.count()).select_from(ChatConversationMessage)
                )
            return waiting == 0 and joined == 13

        await wait_for(all_joined)
        async with gw.svc.sessions() as session:
            counts = dict(
                (
                    await session.execute(
                        select(ChatConversation.person, ChatConversation.message_count)
                    )
                ).all()
            )
    assert counts == {"telegram:5": 3, "telegram:9": 10}


async def test_messages_kept_but_not_yet_grouped_are_joined_and_closed_by_the_periodic_job(
    sqlite_url, classify_step, fake_apis, social_secrets
):
    async with social_gateway(sqlite_url, classify_step, fake_apis.url) as gw:
        host = GatewayHost(gw.svc)  # a process that stopped right after keeping them
        async with gw.svc.sessions() as session:
            account_id = await _account_id(session, ACCOUNT_NAMES["social.telegram"])
        items = [
            ChatIntake(
                account_id,
                "tg-bot",
                f"update:{n}",
                b"{}",
                "application/json",
                ChatMessage(
                    "telegram:3",
                    utcnow(),
                    {"kind": "text", "text": text},
                    closes="phrase" if n == 2 else None,
                ),
                ChatWindow(quiet_seconds=60),
            )
            for n, text in ((1, "洗衣机XQG100-HT8不脱水"), (2, "就这些"))
        ]
        await host.accept_chat_batch(items)
        await close_due(gw, "social.telegram")
        rows = await conversations(gw)
        record = await gw.record(str(rows[0].reference))
    assert [(r.state, r.message_count, r.close_reason) for r in rows] == [("closed", 2, "phrase")]
    assert record["body"] == "洗衣机XQG100-HT8不脱水\n就这些"


async def _account_id(session: Any, name: str) -> int:
    account = await find_account(session, name)
    assert account is not None
    return int(account.id)
