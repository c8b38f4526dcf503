"""`complaint-gateway users add|list|disable|enable|token`: admin UI accounts and tokens."""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli import run_in_session
from gateway.commands import models
from storage.tables_users import ROLES, AdminUser
from storage.users import UserError, add_user, create_token, list_users, set_user_enabled


def _run(ctx: click.Context, action: object) -> object:
    try:
        return run_in_session(ctx, action)  # type: ignore[arg-type]
    except UserError as error:
        raise click.ClickException(str(error)) from error


@click.group()
def users() -> None:
    """People who sign in to /admin/ and their roles."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", "display_name", default="", help="Display name.")
@click.password_option(envvar="GATEWAY_NEW_PASSWORD", help="Prompted when not given.")
@click.pass_context
def add(ctx: click.Context, username: str, role: str, display_name: str, password: str) -> None:
    """Add USERNAME with ROLE (the password is stored only as an argon2 hash)."""

    async def action(session: AsyncSession) -> None:
        await add_user(session, username, role, password, display_name)

    _run(ctx, action)
    click.echo(f"{username} added as {role}")


@users.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """One line per user: name, role, enabled, last sign-in."""

    async def action(session: AsyncSession) -> list[AdminUser]:
        return await list_users(session)

    for user in _run(ctx, action):  # type: ignore[attr-defined]
        state = "enabled" if user.enabled else "disabled"
        last = user.last_login_at.isoformat() if user.last_login_at else "-"
        click.echo(f"{user.username}\t{user.role}\t{state}\t{last}")


def _toggle(enabled: bool) -> click.Command:
    @click.argument("username")
    @click.pass_context
    def command(ctx: click.Context, username: str) -> None:
        async def action(session: AsyncSession) -> None:
            await set_user_enabled(session, username, enabled)

        _run(ctx, action)
        click.echo(f"{username} {'enabled' if enabled else 'disabled'}")

    return command  # type: ignore[return-value]


users.command("disable", help="Stop USERNAME signing in; ends sessions, disables tokens.")(
    _toggle(False)
)
users.command("enable", help="Let USERNAME sign in again.")(_toggle(True))


@users.command("token")
@click.argument("username")
@click.option("--name", "token_name", default="admin-api", show_default=True)
@click.pass_context
def token(ctx: click.Context, username: str, token_name: str) -> None:
    """A new admin API token acting with USERNAME's role; printed once, only its hash kept."""

    async def action(session: AsyncSession) -> str:
        return await create_token(session, username, token_name)

    click.echo(_run(ctx, action))


COMMANDS = (users, *models.COMMANDS)
