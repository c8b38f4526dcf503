"""`complaint-gateway deliveries list|show|replay`: the dead-letter list and its replay."""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli import echo_json, run_in_session, run_with_services
from gateway.routing_admin import replay as replay_deliveries
from gateway.services import Services
from storage.deliveries import DeliveryView, get_delivery, list_deliveries


@click.group()
def deliveries() -> None:
    """Outbox deliveries: list dead letters, inspect one, replay them."""


@deliveries.command("list")
@click.option("--state", default="dead", show_default=True, help="'' for every state.")
@click.option("--destination", default=None)
@click.option("--reference", default=None)
@click.option("--limit", type=int, default=100, show_default=True)
@click.pass_context
def list_(
    ctx: click.Context, state: str, destination: str | None, reference: str | None, limit: int
) -> None:
    """One JSON line per delivery, newest first."""

    async def action(session: AsyncSession) -> list[DeliveryView]:
        return await list_deliveries(
            session, state=state or None, destination=destination, reference=reference, limit=limit
        )

    for row in run_in_session(ctx, action):
        echo_json(row.summary())


@deliveries.command("show")
@click.argument("outbox_id", type=int)
@click.pass_context
def show(ctx: click.Context, outbox_id: int) -> None:
    """One delivery with its payload and last error."""

    async def action(session: AsyncSession) -> DeliveryView | None:
        return await get_delivery(session, outbox_id)

    row = run_in_session(ctx, action)
    if row is None:
        raise click.ClickException(f"no delivery {outbox_id}")
    echo_json(row.summary())


@deliveries.command("replay")
@click.argument("outbox_ids", type=int, nargs=-1)
@click.option("--all", "replay_all", is_flag=True, help="Every dead delivery.")
@click.option("--destination", default=None, help="With --all: only this destination's.")
@click.pass_context
def replay(
    ctx: click.Context, outbox_ids: tuple[int, ...], replay_all: bool, destination: str | None
) -> None:
    """Send dead deliveries again, now, with their original idempotency keys."""
    if not outbox_ids and not replay_all:
        raise click.ClickException("name delivery ids or use --all")

    async def action(svc: Services) -> list[DeliveryView]:
        ids = None if replay_all else list(outbox_ids)
        replayed = await replay_deliveries(svc, ids, destination)
        async with svc.sessions() as session:
            return [v for i in replayed if (v := await get_delivery(session, i)) is not None]

    rows = run_with_services(ctx, action)
    for row in rows:
        echo_json({k: v for k, v in row.summary().items() if k != "payload"})
    click.echo(f"{len(rows)} replayed", err=True)
