"""Polling one IMAP mailbox: fetch, archive, then mark done on the server — in that order.

A message is flagged (or moved to the processed folder) only after `host.accept` has
committed its raw copy, so a crash in between loses nothing; the next pass fetches it
again and the content-based provider id makes that a duplicate, not a second record.
UIDs are tracked per UIDVALIDITY so each pass asks only for new mail, and a changed
UIDVALIDITY (a rebuilt mailbox) starts the scan over instead of skipping mail.

imapclient is synchronous; every call runs in a worker thread. Errors propagate, and
the listener supervisor reconnects with back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from imapclient import IMAPClient

from channels.base import AccountView, ChannelHost
from channels.email.identity import header_block, provider_id_for
from channels.email.settings import ImapSettings

log = logging.getLogger(__name__)
MEDIA_TYPE = "message/rfc822"
IDLE_CHECK_SECONDS = 5.0  # how long one blocking IDLE wait may hold its thread
T = TypeVar("T")


@dataclass
class PassResult:
    fetched: int = 0
    archived: int = 0
    duplicates: int = 0
    oversize: int = 0


def connect(settings: ImapSettings, secret: Callable[[str], str]) -> IMAPClient:
    """A logged-in client (TLS, STARTTLS or plain as configured)."""
    context = ssl.create_default_context()
    if not settings.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    client = IMAPClient(
        settings.host,
        port=settings.effective_port,
        ssl=settings.security == "tls",
        ssl_context=context if settings.security == "tls" else None,
        timeout=settings.timeout_seconds,
    )
    client.normalise_times = False
    try:
        if settings.security == "starttls":
            client.starttls(context)
        if settings.oauth2_token:
            client.oauth2_login(settings.username, secret(settings.oauth2_token))
        else:
            client.login(settings.username, secret(settings.password or ""))
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()
        raise
    return client


class MailboxPoller:
    """One account's connection and its UID cursor."""

    def __init__(self, account: AccountView, host: ChannelHost, settings: ImapSettings) -> None:
        self.account = account
        self.host = host
        self.settings = settings
        self.client: IMAPClient | None = None
        self.uidvalidity: int | None = None
        self.last_uid = 0
        self.use_keyword = True
        self.can_move = False

    async def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(function, *args, **kwargs)

    async def open(self) -> IMAPClient:
        client = await self._call(connect, self.settings, self.host.secret)
        self.client = client
        capabilities = await self._call(client.capabilities)
        self.can_move = b"MOVE" in capabilities
        folder = self.settings.processed_folder
        if folder and not await self._call(client.folder_exists, folder):
            await self._call(client.create_folder, folder)
        return client

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._call(client.logout), timeout=5)
        with contextlib.suppress(Exception):
            client.shutdown()

    async def run(self) -> None:
        """Poll until cancelled; raises on connection errors (the caller reconnects)."""
        client = await self.open()
        try:
            idle = self.settings.idle and b"IDLE" in await self._call(client.capabilities)
            while True:
                await self.poll_once()
                if idle:
                    await self._idle(client)
                else:
                    await asyncio.sleep(self.settings.poll_seconds)
        finally:
            await self.close()

    async def _select(self, client: IMAPClient) -> None:
        selected = await self._call(client.select_folder, self.settings.folder)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        if self.uidvalidity is not None and uidvalidity != self.uidvalidity:
            log.warning(
                "UIDVALIDITY changed; rescanning the folder",
                extra={"account": self.account.name, "was": self.uidvalidity, "now": uidvalidity},
            )
        if uidvalidity != self.uidvalidity:
            self.uidvalidity, self.last_uid = uidvalidity, 0
        flags = selected.get(b"PERMANENTFLAGS", ())
        self.use_keyword = bool(self.settings.processed_folder) or b"\\*" in flags

    async def pending_uids(self, client: IMAPClient) -> list[int]:
        """UIDs above the cursor that are not yet marked as archived."""
        await self._select(client)
        criteria: list[Any] = ["UID", f"{self.last_uid + 1}:*"]
        if not self.settings.processed_folder:
            criteria += (
                ["UNKEYWORD", self.settings.processed_flag] if self.use_keyword else ["UNSEEN"]
            )
        uids = await self._call(client.search, criteria)
        return sorted(uid for uid in uids if uid > self.last_uid)

    async def poll_once(self) -> PassResult:
        """One pass over the folder: everything new is archived, then marked done."""
        assert self.client is not None, "open() first"
        client = self.client
        result = PassResult()
        uids = await self.pending_uids(client)
        size = self.settings.batch_size
        for start in range(0, len(uids), size):
            chunk = uids[start : start + size]
            done = await self._archive(client, chunk, result)
            await self._mark_done(client, done)
            self.last_uid = max(self.last_uid, *chunk)
        if result.fetched:
            log.info(
                "mailbox pass",
                extra={"account": self.account.name, **result.__dict__},
            )
        return result

    async def _archive(self, client: IMAPClient, uids: list[int], result: PassResult) -> list[int]:
        """Archive each message of `uids`; returns the UIDs safely stored (or already known)."""
        limit = self.settings.max_message_bytes
        sizes = await self._call(client.fetch, uids, ["RFC822.SIZE", "INTERNALDATE"])
        small = [uid for uid in uids if uid in sizes and sizes[uid][b"RFC822.SIZE"] <= limit]
        large = [uid for uid in uids if uid in sizes and uid not in small]
        bodies = await self._call(client.fetch, small, ["BODY.PEEK[]"]) if small else {}
        heads = await self._call(client.fetch, large, ["BODY.PEEK[HEADER]"]) if large else {}
        done = []
        for uid in uids:
            if uid not in sizes:
                continue  # expunged meanwhile
            info = sizes[uid]
            meta: dict[str, Any] = {
                "imap": {
                    "folder": self.settings.folder,
                    "uid": uid,
                    "uidvalidity": self.uidvalidity,
                }
            }
            if uid in small:
                data = bytes(bodies.get(uid, {}).get(b"BODY[]") or b"")
                provider_id = provider_id_for(data)
            else:
                size = int(info[b"RFC822.SIZE"])
                data = header_block(bytes(heads.get(uid, {}).get(b"BODY[HEADER]") or b""))
                provider_id = provider_id_for(data, suffix=f"/oversize-{size}")
                meta["oversize"] = {"size": size, "limit": limit}
                result.oversize += 1
            result.fetched += 1
            accepted = await self.host.accept(
                self.account,
                provider_id=provider_id,
                data=data,
                media_type=MEDIA_TYPE,
                meta=meta,
                received_at=_aware(info.get(b"INTERNALDATE")),
            )
            result.duplicates += accepted.duplicate
            result.archived += not accepted.duplicate
            done.append(uid)
        return done

    async def _mark_done(self, client: IMAPClient, uids: list[int]) -> None:
        if not uids:
            return
        folder = self.settings.processed_folder
        if folder is None:
            flag = self.settings.processed_flag if self.use_keyword else "\\Seen"
            await self._call(client.add_flags, uids, [flag.encode()], True)
        elif self.can_move:
            await self._call(client.move, uids, folder)
        else:
            await self._call(client.copy, uids, folder)
            await self._call(client.delete_messages, uids, True)
            if client.has_capability("UIDPLUS"):
                await self._call(client.uid_expunge, uids)
            else:
                await self._call(client.expunge)

    async def _idle(self, client: IMAPClient) -> None:
        """Wait in IDLE until the server reports new mail or `idle_seconds` pass."""
        await self._call(client.idle)
        deadline = asyncio.get_running_loop().time() + self.settings.idle_seconds
        try:
            while asyncio.get_running_loop().time() < deadline:
                responses = await self._call(client.idle_check, IDLE_CHECK_SECONDS)
                if any(_is_new_mail(item) for item in responses):
                    break
        except asyncio.CancelledError:
            # A worker thread may still be blocked reading: closing the socket frees it.
            self.client = None
            with contextlib.suppress(Exception):
                client.shutdown()
            raise
        await self._call(client.idle_done)


def _is_new_mail(response: Any) -> bool:
    return (
        isinstance(response, tuple) and len(response) > 1 and response[1] in (b"EXISTS", b"RECENT")
    )


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    return None


async def describe_mailbox(settings: ImapSettings, secret: Callable[[str], str]) -> list[str]:
    """What `channels test` prints: login, folder state, what would be fetched."""

    def probe() -> list[str]:
        client = connect(settings, secret)
        try:
            capabilities = client.capabilities()
            selected = client.select_folder(settings.folder, readonly=True)
            total = int(selected.get(b"EXISTS", 0))
            if settings.processed_folder:
                waiting = total
            else:
                waiting = len(client.search(["UNKEYWORD", settings.processed_flag]))
            lines = [
                f"logged in to {settings.host}:{settings.effective_port} as {settings.username} "
                f"({settings.security})",
                f"folder {settings.folder}: {total} messages, {waiting} not yet archived, "
                f"UIDVALIDITY {int(selected[b'UIDVALIDITY'])}",
                f"IDLE: {'yes' if b'IDLE' in capabilities else 'no (polling every '}"
                + ("" if b"IDLE" in capabilities else f"{settings.poll_seconds:g} s)"),
            ]
            if settings.processed_folder:
                exists = client.folder_exists(settings.processed_folder)
                lines.append(
                    f"processed folder {settings.processed_folder}: "
                    f"{'exists' if exists else 'will be created'}"
                )
            else:
                lines.append(f"archived mail is flagged {settings.processed_flag}")
            return lines
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    return await asyncio.to_thread(probe)
