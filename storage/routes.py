"""The live routing table: destinations and routes as rows, seeded from configuration.

Rows seeded from the configuration file carry `origin = "config"` and follow
the file on every seed (a changed URL takes effect, a removed entry goes);
a row changed at run time carries `origin = "runtime"` and is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.tables_routing import RoutingDestination, RoutingRoute

CONFIG = "config"
RUNTIME = "runtime"
FIXED_SELECTORS = ("default", "escalation", "review")


class RouteError(ValueError):
    """A routing-table edit that cannot be saved (unknown selector or destination)."""


def department_selector(department: str) -> str:
    return f"department:{department}"


def check_selector(selector: str) -> str:
    if selector in FIXED_SELECTORS:
        return selector
    prefix, _, name = selector.partition(":")
    if prefix == "department" and name:
        return selector
    raise RouteError(
        f"selector must be one of {', '.join(FIXED_SELECTORS)} or department:<name>, "
        f"got {selector!r}"
    )


@dataclass(frozen=True)
class DestinationRow:
    name: str
    kind: str
    settings: dict[str, Any]
    enabled: bool
    origin: str


async def list_destinations(session: AsyncSession) -> list[DestinationRow]:
    rows = (
        await session.execute(select(RoutingDestination).order_by(RoutingDestination.name))
    ).scalars()
    return [
        DestinationRow(row.name, row.kind, dict(row.settings), row.enabled, row.origin)
        for row in rows
    ]


async def list_routes(session: AsyncSession) -> dict[str, list[str]]:
    rows = (await session.execute(select(RoutingRoute).order_by(RoutingRoute.selector))).scalars()
    return {row.selector: list(row.destinations) for row in rows}


async def table_version(session: AsyncSession) -> tuple[Any, ...]:
    """A cheap fingerprint that changes whenever either table changes."""
    dest = (
        await session.execute(
            select(func.count(), func.max(RoutingDestination.updated_at)).select_from(
                RoutingDestination
            )
        )
    ).one()
    route = (
        await session.execute(
            select(func.count(), func.max(RoutingRoute.updated_at)).select_from(RoutingRoute)
        )
    ).one()
    return (*dest, *route)


async def save_destination(
    session: AsyncSession,
    name: str,
    kind: str,
    settings: Mapping[str, Any],
    *,
    enabled: bool = True,
    origin: str = RUNTIME,
) -> None:
    """Insert or replace destination `name` (validate it before calling)."""
    now = utcnow()
    row = await session.scalar(select(RoutingDestination).where(RoutingDestination.name == name))
    if row is None:
        session.add(
            RoutingDestination(
                name=name,
                kind=kind,
                settings=dict(settings),
                enabled=enabled,
                origin=origin,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        row.kind, row.settings, row.enabled = kind, dict(settings), enabled
        row.origin, row.updated_at = origin, now
    await session.flush()


async def set_destination_enabled(session: AsyncSession, name: str, enabled: bool) -> None:
    row = await session.scalar(select(RoutingDestination).where(RoutingDestination.name == name))
    if row is None:
        raise RouteError(f"no destination named {name!r}")
    row.enabled, row.origin, row.updated_at = enabled, RUNTIME, utcnow()


async def remove_destination(session: AsyncSession, name: str) -> None:
    """Delete a destination that no route names any more."""
    users = [sel for sel, names in (await list_routes(session)).items() if name in names]
    if users:
        raise RouteError(f"destination {name!r} is still used by routes: {', '.join(users)}")
    result = await session.execute(
        delete(RoutingDestination).where(RoutingDestination.name == name)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise RouteError(f"no destination named {name!r}")


async def set_route(
    session: AsyncSession, selector: str, destinations: Sequence[str], *, origin: str = RUNTIME
) -> None:
    """Point `selector` at `destinations` (each must exist); an empty list routes nowhere."""
    check_selector(selector)
    known = {row.name for row in await list_destinations(session)}
    unknown = sorted(set(destinations) - known)
    if unknown:
        raise RouteError(f"unknown destinations: {', '.join(unknown)}")
    now = utcnow()
    row = await session.scalar(select(RoutingRoute).where(RoutingRoute.selector == selector))
    if row is None:
        session.add(
            RoutingRoute(
                selector=selector, destinations=list(destinations), origin=origin, updated_at=now
            )
        )
    else:
        row.destinations, row.origin, row.updated_at = list(destinations), origin, now
    await session.flush()


async def seed_from_config(
    session: AsyncSession,
    destinations: Mapping[str, tuple[str, dict[str, Any]]],
    routes: Mapping[str, Sequence[str]],
    now: datetime | None = None,
) -> None:
    """Make config-origin rows match the file; leave runtime-edited rows alone."""
    existing = {
        row.name: row for row in (await session.execute(select(RoutingDestination))).scalars()
    }
    for name, (kind, settings) in destinations.items():
        row = existing.get(name)
        if row is None or (row.origin == CONFIG and (row.kind, row.settings) != (kind, settings)):
            await save_destination(session, name, kind, settings, origin=CONFIG)
    current_routes = {
        row.selector: row for row in (await session.execute(select(RoutingRoute))).scalars()
    }
    for selector, names in routes.items():
        route = current_routes.get(selector)
        if route is None or (route.origin == CONFIG and list(route.destinations) != list(names)):
            await set_route(session, selector, names, origin=CONFIG)
    for selector, route in current_routes.items():
        if route.origin == CONFIG and selector not in routes:
            await session.delete(route)
    await session.flush()
    for name, row in existing.items():
        if row.origin == CONFIG and name not in destinations:
            still_used = any(name in names for names in (await list_routes(session)).values())
            if not still_used:
                await session.delete(row)
