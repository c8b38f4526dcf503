"""E-mail channel benchmark: parse + normalise speed, and IMAP to records end to end.

1. Parses and normalises typical ~20 KB mails (a mix of multipart/alternative replies
   with quoted history, plain mail with a photo, HTML-only mail, GBK mail) on one core
   and prints messages per second (target: >= 300/s).
2. Starts a throw-away Dovecot on a loopback port, queues N messages in its INBOX, and
   times one mailbox pass plus the pipeline until every message is a stored record
   (embedded mode, SQLite; target: 1,000 messages in under 30 s).

    python bench/mail.py --normalise 2000 --imap 1000
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named email.py: keep its folder off the path so `import email` is the stdlib's.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import base64  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels.base import RawInput  # noqa: E402
from channels.email.normalise import normalise_mail  # noqa: E402

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
ZH = "我买的热水器JSQ24-HT3漏水严重，订单号HT20260315-{n:04d}，请尽快派人维修。"
EN = "My washing machine XQG100-HT8 leaks water. Order HT20260315-{n:04d}. Please repair."
HISTORY = "\n".join(
    f"> 第{i}行：之前的邮件内容，客服说会安排师傅上门，但是一直没有人来。" for i in range(150)
)


def typical_mail(n: int) -> bytes:
    """One of four shapes, each about 20 KB."""
    shape = n % 4
    head = (
        f"From: 客户{n} <c{n}@example.cn>\r\nTo: service@hengtai.example\r\n"
        f"Message-ID: <bench-{n}@example.cn>\r\nDate: Mon, 16 Mar 2026 10:00:00 +0800\r\n"
        f"MIME-Version: 1.0\r\n"
    )
    if shape == 0:  # a reply with quoted history, plain + HTML
        plain = (
            f"{ZH.format(n=n)}\n\n在 2026年3月10日，恒泰客服 <s@hengtai.example> 写道：\n{HISTORY}"
        )
        html = "<div>" + plain.replace("\n", "<br>") + "</div>"
        body = (
            'Content-Type: multipart/alternative; boundary="b"\r\n\r\n--b\r\n'
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(plain.encode()).decode()
            + "\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(html.encode()).decode()
            + "\r\n--b--\r\n"
        )
        return (head + f"Subject: 回复：热水器 {n}\r\n" + body).encode()
    if shape == 1:  # plain text with a photo
        photo = base64.encodebytes(PNG * 200).decode()
        body = (
            'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\n'
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            + EN.format(n=n)
            * 40
            + "\r\n--m\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
            'Content-Disposition: attachment; filename="leak.png"\r\n\r\n' + photo + "\r\n--m--\r\n"
        )
        return (head + f"Subject: Leak {n}\r\n" + body).encode()
    if shape == 2:  # HTML only
        rows = "".join(f"<tr><td>第{i}项</td><td>{ZH.format(n=n)}</td></tr>" for i in range(75))
        html = f"<html><body><p>{ZH.format(n=n)}</p><table>{rows}</table></body></html>"
        return (
            head + f"Subject: html {n}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html
        ).encode()
    text = (ZH.format(n=n) + "\n") * 200  # GBK labelled GB2312
    return (
        head.encode()
        + (
            f"Subject: gbk {n}\r\nContent-Type: text/plain; charset=gb2312\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
        ).encode()
        + text.encode("gbk")
    )


def bench_normalise(count: int) -> None:
    mails = [typical_mail(n) for n in range(count)]
    average = sum(map(len, mails)) / len(mails)
    now = datetime.now(UTC)
    for data in mails[:20]:  # warm-up
        normalise_mail(RawInput(data, "message/rfc822", "bench", "<x>/y", now))
    started = time.perf_counter()
    for data in mails:
        normalise_mail(RawInput(data, "message/rfc822", "bench", "<x>/y", now))
    elapsed = time.perf_counter() - started
    print(
        f"parse+normalise: {count} mails of {average / 1024:.1f} KB average in {elapsed:.2f} s "
        f"= {count / elapsed:.0f} messages/s (one core)"
    )


async def bench_imap(count: int) -> None:
    from sqlalchemy import func, select

    from channels.email.imap import MailboxPoller
    from channels.email.settings import ImapSettings
    from channels.registry import get_kind
    from gateway.bootstrap import migrate
    from gateway.channel_host import GatewayHost
    from gateway.runtime import EmbeddedRuntime
    from gateway.services import build_services
    from gateway.settings import load_settings
    from storage.accounts import add_account
    from storage.tables import Complaint
    from tests.channels.email.servers import PASSWORD, Dovecot

    os.environ["BENCH_IMAP_PASSWORD"] = PASSWORD
    dovecot = Dovecot()
    dovecot.start()
    folder = tempfile.mkdtemp(prefix="bench-email")
    try:
        with dovecot.client() as client:
            started = time.perf_counter()
            for n in range(count):
                client.append("INBOX", typical_mail(n))
            print(f"queued {count} messages in Dovecot in {time.perf_counter() - started:.1f} s")
        settings = load_settings(database_url=f"sqlite+aiosqlite:///{folder}/gateway.db")
        await asyncio.to_thread(migrate, settings)
        svc = build_services(settings)
        runtime = EmbeddedRuntime(svc)
        await runtime.start()
        values = get_kind("email.imap").validate_settings(
            dovecot.settings(password="env:BENCH_IMAP_PASSWORD", batch_size=100)
        )
        async with svc.sessions.begin() as session:
            await add_account(session, "email.imap", "bench-box", values)
        host = GatewayHost(svc)
        account = await host.account("bench-box")
        assert account is not None
        poller = MailboxPoller(account, host, ImapSettings.model_validate(values))
        started = time.perf_counter()
        await poller.open()
        result = await poller.poll_once()
        fetched = time.perf_counter() - started
        await poller.close()
        while True:
            async with svc.sessions() as session:
                stored = await session.scalar(select(func.count()).select_from(Complaint))
            if stored >= count:
                break
            await asyncio.sleep(0.1)
        total = time.perf_counter() - started
        print(
            f"IMAP: the mailbox pass (fetch, archive, flag) archived {result.archived} messages "
            f"and ended after {fetched:.1f} s, with the pipeline running alongside; all {count} "
            f"were stored as classified records after {total:.1f} s ({count / total:.0f}/s), "
            f"embedded mode, SQLite"
        )
        await runtime.stop()
        await svc.close()
    finally:
        dovecot.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--normalise", type=int, default=2000, help="mails to normalise")
    parser.add_argument("--imap", type=int, default=1000, help="mails through IMAP (0: skip)")
    args = parser.parse_args()
    bench_normalise(args.normalise)
    if args.imap:
        asyncio.run(bench_imap(args.imap))


if __name__ == "__main__":
    main()
