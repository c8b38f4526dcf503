"""Social webhooks under load: signed deliveries of the four networks into conversations.

The service listens on 127.0.0.1:--port; a separate load process sends Telegram,
Meta (Messenger), WhatsApp (Twilio) and WeChat (safe mode) deliveries, each signed
as its network signs it, at a fixed --rate (messages per second; 0: as fast as
--concurrency allows), with every --redeliver-th one sent twice as networks retry.
People write in bursts: --people-at-once people each send --burst messages, then
fall quiet, and the next people start. While the load runs the periodic job closes
quiet conversations (--quiet-seconds) as it does in service.

Prints the webhook latency (p50 / p99 from the sender's side, and from handler
start to answer inside the service), the rate reached, the garbage collector's
pauses (the heap is frozen after start-up as `serve` does; --no-gc-freeze to see
the pauses without it), the service's CPU per
message, and checks that every message was kept once, joined to exactly one
conversation, and every conversation became one input. On a busy machine the
latency mostly measures the wait for a CPU; CPU per message is the steadier figure.

Usage: .venv/bin/python bench/social.py [--messages 10000] [--rate 167] [--port 18082]
[--database-url URL (default: a new SQLite file)]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import hmac
import json
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator

from channels.registry import get_kind
from channels.social import wechat_crypto
from gateway.app import create_app
from gateway.bootstrap import migrate
from gateway.channel_host import GatewayHost
from gateway.heap import freeze_startup_heap
from gateway.services import build_services
from gateway.settings import load_settings
from storage.accounts import add_account
from storage.db import utcnow
from storage.tables import RawMessage
from storage.tables_social import ChatConversation, ChatConversationMessage, ChatInbox

NETWORKS = ("telegram", "meta", "whatsapp", "wechat")
KINDS = {network: f"social.{network}" for network in NETWORKS}
TWILIO_SID = "AC" + "0123456789abcdef" * 2
WECHAT_APP_ID = "wx5823bf96d3bd56c7"
WECHAT_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
SECRETS = {
    "BENCH_TG_TOKEN": "1:bench",
    "BENCH_TG_SECRET": "bench-secret-token",
    "BENCH_META_SECRET": "bench-meta-app-secret",
    "BENCH_META_VERIFY": "bench-verify",
    "BENCH_META_PAGE": "bench-page-token",
    "BENCH_TWILIO_TOKEN": "bench-twilio-token",
    "BENCH_WX_SECRET": "bench-wechat-secret",
    "BENCH_WX_TOKEN": "benchtoken",
    "BENCH_WX_AES": WECHAT_AES_KEY,
}


def account_settings(network: str, quiet: float) -> dict[str, Any]:
    common: dict[str, Any] = {"quiet_seconds": quiet, "closing_phrases": [], "form_fields": 0}
    return {
        "telegram": {"bot_token": "env:BENCH_TG_TOKEN", "secret_token": "env:BENCH_TG_SECRET"},
        "meta": {
            "app_secret": "env:BENCH_META_SECRET",
            "verify_token": "env:BENCH_META_VERIFY",
            "page_access_token": "env:BENCH_META_PAGE",
        },
        "whatsapp": {
            "account_sid": TWILIO_SID,
            "auth_token": "env:BENCH_TWILIO_TOKEN",
            "from_number": "whatsapp:+14155238886",
        },
        "wechat": {
            "app_id": WECHAT_APP_ID,
            "app_secret": "env:BENCH_WX_SECRET",
            "token": "env:BENCH_WX_TOKEN",
            "encoding_aes_key": "env:BENCH_WX_AES",
        },
    }[network] | common


@dataclass(frozen=True)
class Plan:
    messages: int
    rate: float
    concurrency: int
    people_at_once: int
    burst: int
    redeliver: int
    base_url: str
    accounts: dict[str, str]  # network → account name


def person_of(plan: Plan, n: int) -> int:
    group, index = divmod(n, plan.people_at_once * plan.burst)
    return group * plan.people_at_once + index % plan.people_at_once


def request_for(plan: Plan, n: int, run: str) -> tuple[str, bytes, dict[str, str]]:
    """Message n as its network delivers it: (path with query, body, headers)."""
    person = person_of(plan, n)
    network = NETWORKS[person % len(NETWORKS)]
    path = f"/hooks/{network}/{plan.accounts[network]}"
    text = f"第{n}条：热水器JSQ24-HT3漏水，家里地板都湿了"
    now = int(time.time())
    if network == "telegram":
        update_ = {
            "update_id": n,
            "message": {
                "message_id": n,
                "date": now,
                "chat": {"id": person, "type": "private"},
                "from": {"id": person, "is_bot": False, "first_name": "B"},
                "text": text,
            },
        }
        headers = {
            "X-Telegram-Bot-Api-Secret-Token": SECRETS["BENCH_TG_SECRET"],
            "Content-Type": "application/json",
        }
        return path, json.dumps(update_, ensure_ascii=False).encode(), headers
    if network == "meta":
        event = {
            "sender": {"id": f"{7_000_000 + person}"},
            "recipient": {"id": "1500"},
            "timestamp": now * 1000,
            "message": {"mid": f"m_{run}_{n}", "text": text},
        }
        body = json.dumps(
            {"object": "page", "entry": [{"id": "1500", "time": now * 1000, "messaging": [event]}]},
            ensure_ascii=False,
        ).encode()
        digest = hmac.new(SECRETS["BENCH_META_SECRET"].encode(), body, hashlib.sha256).hexdigest()
        return (
            path,
            body,
            {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"},
        )
    if network == "whatsapp":
        sid = "SM" + hashlib.sha256(f"{run}:{n}".encode()).hexdigest()[:32]
        params = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": TWILIO_SID,
            "From": f"whatsapp:+86138{person:08d}",
            "To": "whatsapp:+14155238886",
            "Body": text,
            "NumMedia": "0",
        }
        signature = RequestValidator(SECRETS["BENCH_TWILIO_TOKEN"]).compute_signature(
            f"{plan.base_url}{path}", params
        )
        headers = {
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return path, urlencode(params).encode(), headers
    inner = (
        "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
        f"<FromUserName><![CDATA[o{person:027d}]]></FromUserName>"
        f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{10**15 + n}</MsgId></xml>"
    ).encode()
    encrypted = wechat_crypto.encrypt(inner, WECHAT_AES_KEY, WECHAT_APP_ID)
    nonce, stamp = "1320562132", str(now)
    query = {
        "signature": wechat_crypto.signature(SECRETS["BENCH_WX_TOKEN"], stamp, nonce),
        "timestamp": stamp,
        "nonce": nonce,
        "openid": f"o{person:027d}",
        "encrypt_type": "aes",
        "msg_signature": wechat_crypto.signature(
            SECRETS["BENCH_WX_TOKEN"], stamp, nonce, encrypted
        ),
    }
    body = (
        f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    ).encode()
    return f"{path}?{urlencode(query)}", body, {"Content-Type": "text/xml"}


def schedule(plan: Plan) -> list[int]:
    """The order messages are sent in; every `redeliver`-th is sent again a little later."""
    order: list[int] = []
    repeats: dict[int, list[int]] = {}
    for n in range(plan.messages):
        order.append(n)
        order.extend(repeats.pop(len(order), []))
        if plan.redeliver and n % plan.redeliver == plan.redeliver - 1:
            repeats.setdefault(len(order) + 7, []).append(n)
    for later in repeats.values():
        order.extend(later)
    return order


def load(plan: Plan, run: str, out: Any) -> None:
    """The sending process: its own event loop, so the service's measures only itself."""
    out.send(asyncio.run(_send_all(plan, run)))


async def _send_all(plan: Plan, run: str) -> dict[str, Any]:
    order = schedule(plan)
    latencies: list[float] = []
    late: list[float] = []
    failures: list[str] = []
    gate = asyncio.Semaphore(plan.concurrency)
    connector = aiohttp.TCPConnector(limit=plan.concurrency, force_close=False)
    async with aiohttp.ClientSession(plan.base_url, connector=connector) as http:
        prepared = {n: request_for(plan, n, run) for n in set(order)}  # signed before timing

        async def send(n: int) -> None:
            path, body, headers = prepared[n]
            started = time.perf_counter()  # at a fixed rate, waiting for a connection counts
            async with gate:
                if plan.rate <= 0:  # as fast as possible: the time in service only
                    started = time.perf_counter()
                async with http.post(path, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        failures.append(f"{response.status} {path[:40]}")
                latencies.append(time.perf_counter() - started)

        tasks = []
        began = time.perf_counter()
        for index, n in enumerate(order):
            if plan.rate > 0:
                due = began + index / plan.rate
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                else:
                    late.append(-wait)
            tasks.append(asyncio.create_task(send(n)))
            if plan.rate <= 0:
                await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return {
        "latencies": latencies,
        "elapsed": elapsed,
        "requests": len(order),
        "failures": failures,
        "max_late": max(late, default=0.0),
    }


async def closer(host: GatewayHost, every: float, stop: asyncio.Event) -> None:
    """The listener supervisor's periodic job, as it runs in service."""
    while not stop.is_set():
        for network in NETWORKS:
            await get_kind(KINDS[network]).periodic(host)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def main(args: argparse.Namespace, database_url: str) -> None:
    os.environ.update(SECRETS)
    base_url = f"http://127.0.0.1:{args.port}"
    settings = load_settings(
        database_url=database_url, run_listeners=False, public_base_url=base_url
    )
    await asyncio.to_thread(migrate, settings)
    svc = build_services(settings)
    run = uuid.uuid4().hex[:8]  # fresh accounts each run, so a database can be reused
    accounts = {network: f"bench-{network}-{run}" for network in NETWORKS}
    account_ids = []
    async with svc.sessions.begin() as session:
        for network, name in accounts.items():
            kind = get_kind(KINDS[network])
            row = await add_account(
                session,
                KINDS[network],
                name,
                kind.validate_settings(account_settings(network, args.quiet_seconds)),
            )
            account_ids.append(row.id)
    app = create_app(svc, run_jobs=False)
    handler_seconds: list[float] = []

    @web.middleware
    async def timed(request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            handler_seconds.append(time.perf_counter() - started)

    app.middlewares.insert(0, timed)
    pauses: list[float] = []  # the collector stops the event loop while it runs
    gc_started = [0.0]

    def gc_timer(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            pauses.append(time.perf_counter() - gc_started[0])

    if args.gc_freeze:  # what `serve` does once started: its start-up heap is never scanned again
        freeze_startup_heap()
    gc.callbacks.append(gc_timer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    plan = Plan(
        messages=args.messages,
        rate=args.rate,
        concurrency=args.concurrency,
        people_at_once=args.people_at_once,
        burst=args.burst,
        redeliver=args.redeliver,
        base_url=base_url,
        accounts=accounts,
    )
    host = GatewayHost(svc)
    stop = asyncio.Event()
    closing = asyncio.create_task(closer(host, args.tick, stop))
    receive, send = multiprocessing.get_context("spawn").Pipe(duplex=False)
    sender = multiprocessing.get_context("spawn").Process(target=load, args=(plan, run, send))
    cpu_before = time.process_time()
    sender.start()
    while not receive.poll():
        await asyncio.sleep(0.1)
    result = receive.recv()
    cpu = time.process_time() - cpu_before
    sender.join()
    stop.set()
    await closing
    settled = time.perf_counter()  # every window ends now; close whatever is still open
    async with svc.sessions.begin() as session:
        await session.execute(
            update(ChatConversation)
            .where(ChatConversation.channel_account_id.in_(account_ids))
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
    for _ in range(100):  # a periodic run may leave some for its next run
        for network in NETWORKS:
            await get_kind(KINDS[network]).periodic(host)
        async with svc.sessions() as session:
            still_open = await session.scalar(
                select(func.count()).where(
                    ChatConversation.channel_account_id.in_(account_ids),
                    ChatConversation.state == "open",
                )
            )
        if not still_open:
            break
    settle_seconds = time.perf_counter() - settled
    counts = await tally(svc, account_ids)
    await runner.cleanup()
    await svc.close()
    gc.callbacks.remove(gc_timer)
    result["handler"], result["gc"] = handler_seconds, pauses
    report(args, database_url, result, cpu, settle_seconds, counts)


async def tally(svc: Any, account_ids: list[int]) -> dict[str, int]:
    conversation = ChatConversation.channel_account_id.in_(account_ids)
    raw = RawMessage.channel_account_id.in_(account_ids)
    async with svc.sessions() as session:

        async def count(stmt: Any) -> int:
            return int(await session.scalar(stmt) or 0)

        return {
            "kept": await count(
                select(func.count()).where(raw, RawMessage.provider_id.not_like("conversation:%"))
            ),
            "joined": await count(
                select(func.count(func.distinct(ChatConversationMessage.raw_id)))
                .join(ChatConversation)
                .where(conversation)
            ),
            "joined_rows": await count(
                select(func.count())
                .select_from(ChatConversationMessage)
                .join(ChatConversation)
                .where(conversation)
            ),
            "waiting": await count(
                select(func.count()).where(ChatInbox.channel_account_id.in_(account_ids))
            ),
            "open": await count(
                select(func.count()).where(conversation, ChatConversation.state == "open")
            ),
            "closed": await count(
                select(func.count()).where(conversation, ChatConversation.state == "closed")
            ),
            "in_closed": await count(
                select(func.sum(ChatConversation.message_count)).where(
                    conversation, ChatConversation.state == "closed"
                )
            ),
            "inputs": await count(
                select(func.count()).where(raw, RawMessage.provider_id.like("conversation:%"))
            ),
        }


def report(
    args: argparse.Namespace,
    database_url: str,
    result: dict[str, Any],
    cpu: float,
    settle_seconds: float,
    counts: dict[str, int],
) -> None:
    latencies = sorted(result["latencies"])
    p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)]
    requests, elapsed = result["requests"], result["elapsed"]
    print(
        f"database: {database_url.split('://')[0]}, rate {args.rate or 'open'}/s, "
        f"concurrency {args.concurrency}, quiet {args.quiet_seconds} s"
    )
    print(
        f"webhooks: {requests} requests ({args.messages} messages + "
        f"{requests - args.messages} re-deliveries) in {elapsed:.2f} s = "
        f"{args.messages / elapsed * 60:,.0f} messages/min"
    )
    print(
        f"latency: p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms; sender behind schedule by at most "
        f"{result['max_late'] * 1000:.0f} ms"
    )
    handled = sorted(result["handler"])
    print(
        f"in the service (handler start to answer): p50 {statistics.median(handled) * 1000:.1f}"
        f" ms, p99 {handled[max(int(len(handled) * 0.99) - 1, 0)] * 1000:.1f} ms"
    )
    pauses = result["gc"]
    print(
        f"garbage collector: {len(pauses)} runs, {sum(pauses) * 1000:.0f} ms in all, "
        f"longest {max(pauses, default=0.0) * 1000:.1f} ms"
    )
    print(f"service CPU: {cpu:.2f} s = {cpu / args.messages * 1000:.2f} ms per message")
    print(f"after the load: closing what was still open took {settle_seconds:.2f} s")
    print(
        f"kept {counts['kept']}/{args.messages}; joined {counts['joined']} "
        f"({counts['joined_rows']} rows, {counts['waiting']} waiting); "
        f"{counts['closed']} conversations closed ({counts['open']} open) holding "
        f"{counts['in_closed']} messages; {counts['inputs']} conversation inputs"
    )
    problems = result["failures"][:5]
    assert not problems, f"refused deliveries: {problems}"
    assert counts["kept"] == counts["joined"] == counts["joined_rows"] == args.messages, (
        "lost or doubled"
    )
    assert counts["waiting"] == counts["open"] == 0, "messages left behind"
    assert counts["in_closed"] == args.messages and counts["closed"] == counts["inputs"], (
        "a conversation lost, doubled or not archived"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=10_000 / 60, help="messages/s; 0: open")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight at most")
    parser.add_argument("--people-at-once", type=int, default=100)
    parser.add_argument("--burst", type=int, default=5, help="messages per person")
    parser.add_argument("--redeliver", type=int, default=50, help="every Nth sent twice; 0: none")
    parser.add_argument("--quiet-seconds", type=float, default=3.0)
    parser.add_argument("--tick", type=float, default=1.0, help="seconds between periodic runs")
    parser.add_argument("--port", type=int, default=18082)
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="leave the start-up heap to the collector (serve freezes it)",
    )
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    url = arguments.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    asyncio.run(main(arguments, url))
