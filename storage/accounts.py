"""Channel accounts and API keys: rows operators add and change while the service runs."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.tables import ApiKey, ChannelAccount


class AccountError(LookupError):
    pass


async def add_account(
    session: AsyncSession, kind: str, name: str, settings: dict[str, Any], enabled: bool = True
) -> ChannelAccount:
    if await find_account(session, name) is not None:
        raise AccountError(f"channel account {name!r} exists already")
    now = utcnow()
    account = ChannelAccount(
        kind=kind, name=name, settings=settings, enabled=enabled, created_at=now, updated_at=now
    )
    session.add(account)
    await session.flush()
    return account


async def find_account(session: AsyncSession, name: str) -> ChannelAccount | None:
    return (
        await session.execute(select(ChannelAccount).where(ChannelAccount.name == name))
    ).scalar_one_or_none()


async def get_account(session: AsyncSession, name: str) -> ChannelAccount:
    account = await find_account(session, name)
    if account is None:
        raise AccountError(f"no channel account named {name!r}")
    return account


async def list_accounts(session: AsyncSession) -> list[ChannelAccount]:
    return list(
        (await session.execute(select(ChannelAccount).order_by(ChannelAccount.name))).scalars()
    )


async def set_enabled(session: AsyncSession, name: str, enabled: bool) -> None:
    result = await session.execute(
        update(ChannelAccount)
        .where(ChannelAccount.name == name)
        .values(enabled=enabled, updated_at=utcnow())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise AccountError(f"no channel account named {name!r}")


async def remove_account(session: AsyncSession, name: str) -> None:
    """Remove an account with no archived input; one with history is disabled instead."""
    from storage.tables import RawMessage

    account = await get_account(session, name)
    used = await session.scalar(
        select(RawMessage.id).where(RawMessage.channel_account_id == account.id).limit(1)
    )
    if used is not None:
        raise AccountError(
            f"channel account {name!r} has archived messages; disable it instead of removing"
        )
    await session.execute(delete(ChannelAccount).where(ChannelAccount.id == account.id))


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(session: AsyncSession, name: str) -> str:
    """Store a new key's hash and return the key itself (shown once, never again)."""
    key = "cgk_" + secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, key_hash=hash_api_key(key), enabled=True, created_at=utcnow()))
    await session.flush()
    return key


async def api_key_owner(session: AsyncSession, key: str) -> str | None:
    """The client name for a valid, enabled key, else None."""
    return (
        await session.execute(
            select(ApiKey.name).where(ApiKey.key_hash == hash_api_key(key), ApiKey.enabled)
        )
    ).scalar_one_or_none()


async def list_api_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.execute(select(ApiKey).order_by(ApiKey.name))).scalars())


async def disable_api_key(session: AsyncSession, name: str) -> None:
    result = await session.execute(update(ApiKey).where(ApiKey.name == name).values(enabled=False))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise AccountError(f"no API key named {name!r}")
