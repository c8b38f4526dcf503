"""The composition root: settings, database, classifier, senders and the job queue."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.classification import ClassifyStep
from gateway.destination_tools import destination_tools
from gateway.jobs import JobQueue
from gateway.live_routing import LiveRouting, destination_settings
from gateway.settings import Settings
from routing.destinations import DestinationTools, Sender, build_sender
from routing.router import RoutingTable
from storage.db import create_engine, session_factory

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    classify: ClassifyStep
    senders: dict[str, Sender]
    routing: RoutingTable
    queue: JobQueue | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    live: LiveRouting | None = None  # the database's routing table (None: configuration only)

    async def enqueue(self, job: str, row_id: int) -> None:
        if self.queue is not None:
            await self.queue.enqueue(job, row_id)

    async def close(self) -> None:
        for sender in self.senders.values():
            await sender.close()
        if self.live is not None:
            await self.live.close()
        await self.engine.dispose()


def build_senders(settings: Settings, tools: DestinationTools) -> dict[str, Sender]:
    senders: dict[str, Sender] = {}
    for name, destination in settings.destinations.items():
        senders[name] = build_sender(
            name, destination.kind, destination_settings(destination), tools
        )
    return senders


def build_services(settings: Settings, classify: ClassifyStep | None = None) -> Services:
    engine = create_engine(settings.database_url)
    routing = RoutingTable(
        departments=settings.routing.departments,
        default=settings.routing.default,
        escalation=settings.routing.escalation,
        review=settings.routing.review,
    )
    sessions = session_factory(engine)
    tools = destination_tools(settings, sessions)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        classify=classify
        or ClassifyStep(
            config_path=settings.classifier_config,
            model_dir=settings.model_dir,
            data_dir=settings.data_dir,
        ),
        senders=build_senders(settings, tools),
        routing=routing,
        live=LiveRouting(sessions, settings, tools, routing),
    )
