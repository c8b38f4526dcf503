"""Operator actions on routing, shared by the CLI and the admin API: the routing table,
destinations, and dead letters (listed, inspected, replayed with the same key)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.live_routing import save_checked_destination, table_from_rows
from gateway.services import Services
from routing.destinations import DestinationTools
from routing.router import plan_routes
from storage import routes as table
from storage.deliveries import dead_ids
from storage.records import Classification
from storage.work import replay_dead


async def routing_document(session: AsyncSession) -> dict[str, Any]:
    """The live table: routes by selector and destinations (secrets only as references)."""
    destinations = await table.list_destinations(session)
    return {
        "routes": await table.list_routes(session),
        "destinations": [
            {
                "name": row.name,
                "kind": row.kind,
                "enabled": row.enabled,
                "origin": row.origin,
                "settings": row.settings,
            }
            for row in destinations
        ],
    }


async def test_routes(session: AsyncSession, decision: Classification) -> list[dict[str, str]]:
    """Where a complaint with `decision` would go under the live table."""
    rows = await table.list_destinations(session)
    live = table_from_rows(await table.list_routes(session), {r.name for r in rows if r.enabled})
    return [
        {"destination": target.destination, "purpose": target.purpose}
        for target in plan_routes(decision, live)
    ]


async def put_destination(
    session: AsyncSession, tools: DestinationTools, name: str, document: dict[str, Any]
) -> None:
    """Create or replace a destination from `{kind, enabled?, …kind settings}`."""
    values = dict(document)
    kind = str(values.pop("kind", "webhook"))
    enabled = bool(values.pop("enabled", True))
    await save_checked_destination(session, tools, name, kind, values, enabled=enabled)


async def replay(
    svc: Services, outbox_ids: list[int] | None, destination: str | None = None
) -> list[int]:
    """Dead deliveries back to pending (same idempotency key) and queued; returns their ids."""
    async with svc.sessions.begin() as session:
        ids = outbox_ids if outbox_ids is not None else await dead_ids(session, destination)
        replayed = await replay_dead(session, ids) if ids else []
    for outbox_id in replayed:
        await svc.enqueue("deliver", outbox_id)
    return replayed
