"""`complaint-gateway`: the service and its operator tools in one command."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from gateway.settings import Settings, load_settings

T = TypeVar("T")


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj.get("settings")
    if settings is None:
        try:
            settings = load_settings(ctx.obj.get("config"))
        except (FileNotFoundError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        ctx.obj["settings"] = settings
    return settings


@click.group()
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="GATEWAY_CONFIG",
    help="YAML settings file (default: none; GATEWAY_* environment variables apply on top).",
)
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """Omnichannel complaint-intake gateway."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply database migrations and create the default channel accounts."""
    _migrate_or_fail(_settings(ctx))
    click.echo("database is up to date")


def _migrate_or_fail(settings: Settings) -> None:
    """Migrate; a destination in the config file that does not check out is a clear error."""
    from gateway.bootstrap import migrate as run_migrations
    from routing.destinations import DestinationError

    try:
        run_migrations(settings)
    except DestinationError as exc:  # the config file's destinations are checked when seeded
        raise click.ClickException(f"configuration refused: {exc}") from exc


@main.command()
@click.option("--host", default=None, help="Listen address (default from settings).")
@click.option("--port", type=int, default=None, help="Listen port (default from settings).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the service: HTTP API and, in embedded mode, the workers."""
    from aiohttp import web

    from gateway.app import create_app
    from gateway.heap import freeze_startup_heap
    from gateway.logs import configure_logging
    from gateway.services import build_services

    settings = _settings(ctx)
    configure_logging(settings.log_level)
    if not settings.scale_out:
        _migrate_or_fail(settings)
    svc = build_services(settings)
    app = create_app(svc)
    app.on_cleanup.append(lambda _app: svc.close())
    freeze_startup_heap()
    web.run_app(
        app,
        host=host or settings.host,
        port=port or settings.port,
        shutdown_timeout=15,
        print=lambda text: click.echo(text, err=True),
    )


@main.command()
@click.option("--max-jobs", type=int, default=20, show_default=True)
@click.option("--metrics-port", type=int, default=None, help="Expose this worker's metrics.")
@click.pass_context
def worker(ctx: click.Context, max_jobs: int, metrics_port: int | None) -> None:
    """Run an arq worker (scale-out mode; needs redis_url)."""
    from arq.worker import run_worker

    from gateway.worker import worker_settings

    settings = _settings(ctx)
    if metrics_port:
        from prometheus_client import start_http_server

        from gateway.metrics import REGISTRY

        start_http_server(metrics_port, registry=REGISTRY)
    try:
        run_worker(worker_settings(settings, max_jobs=max_jobs))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def run_with_services(ctx: click.Context, action: Callable[[Any], Awaitable[T]]) -> T:
    """Run `action(svc)` with full services whose jobs run inline, in this process."""
    from gateway.jobs import InlineQueue
    from gateway.pipeline import run_job
    from gateway.services import build_services

    settings = _settings(ctx)

    async def runner() -> T:
        svc = build_services(settings)
        svc.queue = InlineQueue(lambda job, row_id: run_job(svc, job, row_id))
        try:
            return await action(svc)
        finally:
            await svc.close()

    return asyncio.run(runner())


def run_in_session(ctx: click.Context, action: Callable[[Any], Awaitable[T]]) -> T:
    """Run `action(session)` in one committed transaction (management commands)."""
    from storage.db import create_engine, session_factory

    settings = _settings(ctx)

    async def runner() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine).begin() as session:
                return await action(session)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


def echo_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, default=str))


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _register_subcommands() -> None:
    from gateway.commands import apikeys, channels, ingest

    main.add_command(channels.channels)
    main.add_command(apikeys.apikeys)
    main.add_command(ingest.ingest)
    main.add_command(ingest.replay)
    from gateway.commands import correct, deliveries, routes

    main.add_command(routes.routes)
    main.add_command(deliveries.deliveries)
    main.add_command(correct.correct)
    for command in _classifier_commands():
        main.add_command(command)
    from gateway.commands import users

    for command in users.COMMANDS:
        main.add_command(command)


def _classifier_commands() -> list[click.Command]:
    from gateway.commands.classify import COMMANDS

    return list(COMMANDS)


_register_subcommands()
