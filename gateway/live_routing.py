"""The routing table as the database holds it now, with one sender per destination.

The configuration file seeds the tables (`seed_routing`, run by `migrate`);
the CLI and the admin API edit them while the service runs. Every process
re-reads them when their fingerprint changes, checked at most every
`routing_refresh_seconds`, so an edit reaches all workers within seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.settings import DestinationSettings, Settings
from routing.destinations import (
    DestinationError,
    DestinationTools,
    Sender,
    build_sender,
    check_destination,
)
from routing.router import RoutingTable
from storage.routes import (
    DestinationRow,
    department_selector,
    list_destinations,
    list_routes,
    save_destination,
    seed_from_config,
    table_version,
)

log = logging.getLogger(__name__)


def destination_settings(destination: DestinationSettings) -> dict[str, Any]:
    """A configured destination as the kind's settings (kind and unset fields left out)."""
    return destination.model_dump(exclude_none=True, exclude={"kind"})


def config_routes(settings: Settings) -> dict[str, list[str]]:
    table = settings.routing
    routes = {department_selector(dept): list(names) for dept, names in table.departments.items()}
    for selector in ("default", "escalation", "review"):
        routes[selector] = list(getattr(table, selector))
    return routes


async def seed_routing(session: AsyncSession, settings: Settings, tools: DestinationTools) -> None:
    """Bring config-origin rows in line with the file; each destination is checked first."""
    destinations = {}
    for name, destination in settings.destinations.items():
        values = destination_settings(destination)
        await check_destination(name, destination.kind, values, tools)
        destinations[name] = (destination.kind, values)
    await seed_from_config(session, destinations, config_routes(settings))


async def save_checked_destination(
    session: AsyncSession,
    tools: DestinationTools,
    name: str,
    kind: str,
    values: dict[str, Any],
    *,
    enabled: bool = True,
) -> None:
    """Save a destination edited at run time, refusing one that could not work."""
    if not name or len(name) > 128 or name.startswith("channel:"):
        raise DestinationError(f"destination name {name!r} is not allowed")
    await check_destination(name, kind, values, tools)
    await save_destination(session, name, kind, values, enabled=enabled)


def table_from_rows(routes: dict[str, list[str]], enabled: set[str]) -> RoutingTable:
    departments: dict[str, list[str]] = {}
    for selector, names in routes.items():
        prefix, _, department = selector.partition(":")
        if prefix == "department":
            departments[department] = [n for n in names if n in enabled]
    return RoutingTable(
        departments=departments,
        default=[n for n in routes.get("default", []) if n in enabled],
        escalation=[n for n in routes.get("escalation", []) if n in enabled],
        review=[n for n in routes.get("review", []) if n in enabled],
    )


@dataclass
class RoutingSnapshot:
    table: RoutingTable
    destinations: dict[str, DestinationRow] = field(default_factory=dict)

    def allowed_fields(self, name: str) -> list[str] | None:
        row = self.destinations.get(name)
        fields = row.settings.get("fields") if row else None
        return list(fields) if isinstance(fields, list) else None


class LiveRouting:
    """Per-process cache of the routing tables and the senders built from them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        tools: DestinationTools,
        fallback: RoutingTable,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self.tools = tools
        self._fallback = RoutingSnapshot(
            fallback,
            {
                name: DestinationRow(name, d.kind, destination_settings(d), True, "config")
                for name, d in settings.destinations.items()
            },
        )
        self._snapshot: RoutingSnapshot | None = None
        self._version: tuple[Any, ...] | None = None
        self._checked = 0.0
        self._senders: dict[str, tuple[tuple[str, str], Sender | None, str]] = {}
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Re-read the tables at the next look (after an edit in this process)."""
        self._checked = 0.0
        self._version = None

    async def snapshot(self) -> RoutingSnapshot:
        if (
            self._snapshot is not None
            and time.monotonic() - self._checked < self._settings.routing_refresh_seconds
        ):
            return self._snapshot
        async with self._lock:
            if (
                self._snapshot is None
                or time.monotonic() - self._checked >= self._settings.routing_refresh_seconds
            ):
                await self._reload()
        assert self._snapshot is not None
        return self._snapshot

    async def _reload(self) -> None:
        try:
            async with self._sessions() as session:
                version = await table_version(session)
                if version == self._version and self._snapshot is not None:
                    self._checked = time.monotonic()
                    return
                rows = await list_destinations(session)
                routes = await list_routes(session)
        except SQLAlchemyError:
            log.warning("routing tables unreadable; using the configuration", exc_info=True)
            self._snapshot, self._checked = self._fallback, time.monotonic()
            return
        if not rows and not routes:
            snapshot = self._fallback
        else:
            enabled = {row.name for row in rows if row.enabled}
            snapshot = RoutingSnapshot(
                table_from_rows(routes, enabled), {row.name: row for row in rows}
            )
        self._snapshot, self._version, self._checked = snapshot, version, time.monotonic()

    async def sender(self, name: str) -> tuple[Sender | None, str]:
        """The sender for `name`, or None with the reason it cannot send now."""
        snapshot = await self.snapshot()
        row = snapshot.destinations.get(name)
        if row is None:
            return None, f"destination {name!r} is not configured"
        if not row.enabled:
            return None, f"destination {name!r} is disabled"
        fingerprint = (row.kind, repr(sorted(row.settings.items())))
        cached = self._senders.get(name)
        if cached is not None and cached[0] == fingerprint:
            return cached[1], cached[2]
        if cached is not None and cached[1] is not None:
            await cached[1].close()
        try:
            sender: Sender | None = build_sender(name, row.kind, row.settings, self.tools)
            problem = ""
        except DestinationError as exc:
            log.warning("destination cannot be built", extra={"destination": name})
            sender, problem = None, str(exc)
        self._senders[name] = (fingerprint, sender, problem)
        return sender, problem

    async def close(self) -> None:
        for _fingerprint, sender, _problem in self._senders.values():
            if sender is not None:
                await sender.close()
        self._senders.clear()
