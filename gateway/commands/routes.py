"""`complaint-gateway routes …` and `destinations …`: the live routing table.

Edits take effect in every running process within `routing_refresh_seconds`.
"""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli import _settings, echo_json, run_in_session
from gateway.destination_tools import destination_tools
from gateway.routing_admin import put_destination, routing_document, test_routes
from routing.destinations import DestinationError
from storage import routes as table
from storage.records import Classification


@click.group()
def routes() -> None:
    """Show, change and try the routing table (department → destinations)."""


@routes.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Print routes and destinations as JSON (secrets only as references)."""
    echo_json(run_in_session(ctx, routing_document))


@routes.command("set")
@click.argument("selector")
@click.argument("destinations", nargs=-1)
@click.pass_context
def set_(ctx: click.Context, selector: str, destinations: tuple[str, ...]) -> None:
    """Point SELECTOR (department:NAME, default, escalation, review) at DESTINATIONS.

    No destinations: route that selector nowhere.
    """

    async def action(session: AsyncSession) -> None:
        await table.set_route(session, selector, list(destinations))

    try:
        run_in_session(ctx, action)
    except table.RouteError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{selector} → {', '.join(destinations) or '(nowhere)'}")


@routes.command("test")
@click.option("--department", default=None)
@click.option("--severity", default="general", show_default=True)
@click.option("--flag", "flags", multiple=True)
@click.option("--validity", default="valid", show_default=True)
@click.option("--needs-review", is_flag=True)
@click.pass_context
def test(
    ctx: click.Context,
    department: str | None,
    severity: str,
    flags: tuple[str, ...],
    validity: str,
    needs_review: bool,
) -> None:
    """Print where a complaint with this decision would be sent."""
    decision = Classification(
        validity=validity,
        reason=None if validity == "valid" else "not_specific",
        severity=severity,
        flags=list(flags),
        department=department,
        needs_review=needs_review,
    )

    async def action(session: AsyncSession) -> list[dict[str, str]]:
        return await test_routes(session, decision)

    for target in run_in_session(ctx, action):
        click.echo(f"{target['destination']}\t{target['purpose']}")


@routes.command("destination")
@click.argument("name")
@click.argument("settings_json")
@click.pass_context
def destination(ctx: click.Context, name: str, settings_json: str) -> None:
    """Create or replace destination NAME from SETTINGS_JSON ({"kind": "webhook", "url": …}).

    A destination that could not work (bad URL, unknown kind, missing secret) is refused.
    """
    try:
        document: dict[str, Any] = json.loads(settings_json)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"SETTINGS_JSON is not JSON: {exc}") from exc
    tools = destination_tools(_settings(ctx))

    async def action(session: AsyncSession) -> None:
        await put_destination(session, tools, name, document)

    try:
        run_in_session(ctx, action)
    except DestinationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"destination {name} saved")
