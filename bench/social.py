"""Social webhooks under load: Telegram-shaped updates from many people into conversations.

Prints the webhook latency (p50 / p99), the rate reached, and checks that every
message landed in exactly one conversation and every conversation became one
input. Usage: .venv/bin/python bench/social.py [--messages 2000] [--people 200]
[--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update

from channels.registry import get_kind
from gateway.app import create_app
from gateway.bootstrap import migrate
from gateway.channel_host import GatewayHost
from gateway.services import build_services
from gateway.settings import load_settings
from storage.accounts import add_account
from storage.db import utcnow
from storage.tables import RawMessage
from storage.tables_social import ChatConversation, ChatConversationMessage

SECRET = "bench-secret-token"


async def main(messages: int, people: int, database_url: str, concurrency: int) -> None:
    os.environ["BENCH_TG_TOKEN"], os.environ["BENCH_TG_SECRET"] = "1:bench", SECRET
    settings = load_settings(database_url=database_url, run_listeners=False)
    await asyncio.to_thread(migrate, settings)
    svc = build_services(settings)
    kind = get_kind("social.telegram")
    async with svc.sessions.begin() as session:
        await add_account(
            session,
            "social.telegram",
            "bench-bot",
            kind.validate_settings(
                {"bot_token": "env:BENCH_TG_TOKEN", "secret_token": "env:BENCH_TG_SECRET"}
            ),
        )
    client = TestClient(TestServer(create_app(svc, run_jobs=False)))
    await client.start_server()
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def send(n: int) -> None:
        person = n % people
        body = {
            "update_id": n,
            "message": {
                "message_id": n,
                "date": 1_790_000_000,
                "chat": {"id": person, "type": "private"},
                "from": {"id": person, "is_bot": False, "first_name": "B"},
                "text": f"第{n}条 热水器漏水",
            },
        }
        async with gate:
            started = time.perf_counter()
            response = await client.post(
                "/hooks/telegram/bench-bot",
                json=body,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
            latencies.append(time.perf_counter() - started)
            assert response.status == 200, await response.text()

    started = time.perf_counter()
    await asyncio.gather(*(send(n) for n in range(messages)))
    elapsed = time.perf_counter() - started
    async with svc.sessions.begin() as session:
        await session.execute(update(ChatConversation).values(due_at=utcnow()))
    closing = time.perf_counter()
    host = GatewayHost(svc)
    while await host.due_conversations("social.telegram", limit=1):
        await kind.periodic(host)  # each run closes up to 100
    close_seconds = time.perf_counter() - closing
    async with svc.sessions() as session:
        joined = await session.scalar(select(func.count()).select_from(ChatConversationMessage))
        closed = await session.scalar(
            select(func.count()).where(ChatConversation.state == "closed")
        )
        inputs = await session.scalar(
            select(func.count()).where(RawMessage.provider_id.like("conversation:%"))
        )
    await client.close()
    await svc.close()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"database: {database_url.split('://')[0]}, concurrency {concurrency}")
    print(f"webhooks: {messages} in {elapsed:.2f} s = {messages / elapsed * 60:,.0f} messages/min")
    print(f"latency: p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    print(f"closing {closed} conversations took {close_seconds:.2f} s")
    print(f"joined {joined}/{messages} messages; {inputs} conversation inputs for {people} people")
    assert joined == messages and closed == people == inputs, "lost or doubled messages"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    asyncio.run(main(args.messages, args.people, url, args.concurrency))
