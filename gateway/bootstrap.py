"""Getting a database ready: migrations and the accounts every deployment has."""

from __future__ import annotations

import asyncio

from gateway.destination_tools import destination_tools
from gateway.live_routing import seed_routing
from gateway.settings import Settings
from storage.accounts import add_account, find_account
from storage.db import create_engine, session_factory
from storage.migrate import upgrade

DEFAULT_ACCOUNTS: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("api", "api", {}),
    ("webform", "webform", {}),  # the complaint page at `/`
)


def migrate(settings: Settings) -> None:
    """Apply migrations (Alembic runs its own event loop, so call this outside one)."""
    upgrade(settings.database_url)
    asyncio.run(ensure_default_accounts(settings))


async def ensure_default_accounts(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine).begin() as session:
            for kind, name, account_settings in DEFAULT_ACCOUNTS:
                if await find_account(session, name) is None:
                    await add_account(session, kind, name, account_settings)
            await seed_routing(session, settings, destination_tools(settings))
    finally:
        await engine.dispose()
