"""`complaint-gateway channels …`: manage channel accounts while the service runs.

The service reads accounts from the database on each use, so a change made
here takes effect without a restart.
"""

from __future__ import annotations

import json
from typing import Any

import click
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.registry import UnknownChannelKind, all_kinds, get_kind
from gateway.channel_host import GatewayHost, account_view
from gateway.cli import echo_json, run_in_session, run_with_services
from gateway.services import Services
from storage import accounts
from storage.tables import ChannelAccount


def _parse_settings(pairs: tuple[str, ...], settings_json: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = json.loads(settings_json) if settings_json else {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--set")
        try:
            settings[key] = json.loads(value)
        except json.JSONDecodeError:
            settings[key] = value
    return settings


def _describe(account: ChannelAccount) -> dict[str, Any]:
    return {
        "name": account.name,
        "kind": account.kind,
        "enabled": account.enabled,
        "settings": account.settings,  # secrets are references only, safe to show
        "created_at": account.created_at.isoformat(),
    }


def _run(ctx: click.Context, action: Any) -> Any:
    try:
        return run_in_session(ctx, action)
    except (accounts.AccountError, UnknownChannelKind) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def channels() -> None:
    """Add, list, test, enable, disable and remove channel accounts."""


@channels.command("kinds")
def kinds() -> None:
    """List the channel kinds this build knows."""
    for kind in all_kinds():
        click.echo(f"{kind.kind}\t{kind.family.value}\t{kind.description}")


@channels.command("add")
@click.argument("kind")
@click.argument("name")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="A setting (repeatable).")
@click.option("--settings-json", default=None, help="All settings as one JSON object.")
@click.option("--disabled", is_flag=True, help="Add it switched off.")
@click.pass_context
def add(
    ctx: click.Context,
    kind: str,
    name: str,
    pairs: tuple[str, ...],
    settings_json: str | None,
    disabled: bool,
) -> None:
    """Add channel account NAME of KIND."""
    try:
        channel_kind = get_kind(kind)
        settings = channel_kind.validate_settings(_parse_settings(pairs, settings_json))
    except (UnknownChannelKind, ValidationError, json.JSONDecodeError) as exc:
        raise click.ClickException(str(exc)) from exc

    async def action(session: AsyncSession) -> dict[str, Any]:
        return _describe(await accounts.add_account(session, kind, name, settings, not disabled))

    echo_json(_run(ctx, action))


@channels.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """One line per account: name, kind, enabled."""

    async def action(session: AsyncSession) -> list[ChannelAccount]:
        return await accounts.list_accounts(session)

    for account in _run(ctx, action):
        state = "enabled" if account.enabled else "disabled"
        click.echo(f"{account.name}\t{account.kind}\t{state}")


@channels.command("show")
@click.argument("name")
@click.pass_context
def show(ctx: click.Context, name: str) -> None:
    """An account's settings (secret references, never their values)."""

    async def action(session: AsyncSession) -> dict[str, Any]:
        return _describe(await accounts.get_account(session, name))

    echo_json(_run(ctx, action))


@channels.command("test")
@click.argument("name")
@click.pass_context
def test(ctx: click.Context, name: str) -> None:
    """Check an account's settings and report what its kind can see."""

    async def action(session: AsyncSession) -> ChannelAccount:
        return await accounts.get_account(session, name)

    account = _run(ctx, action)
    kind = get_kind(account.kind)
    try:
        kind.validate_settings(account.settings)
    except ValidationError as exc:
        raise click.ClickException(f"{name}: {exc}") from exc

    async def probe(svc: Services) -> list[str]:
        return await kind.test(account_view(account), GatewayHost(svc))

    try:
        lines = run_with_services(ctx, probe)
    except Exception as exc:  # a failed login or unreachable server is the answer here
        raise click.ClickException(f"{name}: {type(exc).__name__}: {exc}") from exc
    for line in lines:
        click.echo(line)
    if not account.enabled:
        click.echo(f"note: {name} is disabled")


def _toggle(enabled: bool) -> Any:
    @click.argument("name")
    @click.pass_context
    def command(ctx: click.Context, name: str) -> None:
        async def action(session: AsyncSession) -> None:
            await accounts.set_enabled(session, name, enabled)

        _run(ctx, action)
        click.echo(f"{name} {'enabled' if enabled else 'disabled'}")

    return command


channels.command("enable", help="Start taking input on NAME.")(_toggle(True))
channels.command("disable", help="Stop taking input on NAME (kept, with its history).")(
    _toggle(False)
)


@channels.command("remove")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Remove NAME; an account with archived input can only be disabled."""

    async def action(session: AsyncSession) -> None:
        await accounts.remove_account(session, name)

    _run(ctx, action)
    click.echo(f"{name} removed")
