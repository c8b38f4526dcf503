"""`complaint-gateway apikeys …`: keys for API clients; only their hashes are stored."""

from __future__ import annotations

import click
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli import run_in_session
from storage import accounts
from storage.tables import ApiKey


@click.group()
def apikeys() -> None:
    """Create, list and disable API keys."""


@apikeys.command("add")
@click.argument("name")
@click.pass_context
def add(ctx: click.Context, name: str) -> None:
    """Create a key for client NAME and print it once."""

    async def action(session: AsyncSession) -> str:
        return await accounts.create_api_key(session, name)

    try:
        key = run_in_session(ctx, action)
    except IntegrityError as exc:
        raise click.ClickException(f"an API key named {name!r} exists already") from exc
    click.echo(key)
    click.echo("store it now: it is not shown again", err=True)


@apikeys.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Client names and whether their key is enabled (never the keys)."""

    async def action(session: AsyncSession) -> list[ApiKey]:
        return await accounts.list_api_keys(session)

    for key in run_in_session(ctx, action):
        click.echo(f"{key.name}\t{'enabled' if key.enabled else 'disabled'}")


@apikeys.command("disable")
@click.argument("name")
@click.pass_context
def disable(ctx: click.Context, name: str) -> None:
    """Disable client NAME's key (takes effect within a few seconds)."""

    async def action(session: AsyncSession) -> None:
        await accounts.disable_api_key(session, name)

    try:
        run_in_session(ctx, action)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{name} disabled")
