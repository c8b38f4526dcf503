"""`complaint-gateway retrain` and `complaint-gateway models list|promote`."""

from __future__ import annotations

from typing import Any

import click

from classifiers.retrain import RetrainError
from classifiers.versions import ModelStore, VersionError
from gateway.cli import _settings, echo_json, run_with_services
from gateway.services import Services


@click.command()
@click.option("--actor", default="cli", show_default=True, help="Who asks (kept in the run).")
@click.pass_context
def retrain(ctx: click.Context, actor: str) -> None:
    """Build a model version from the shipped corpus plus corrections; promote it if no
    label's F1 falls by more than the margin. Prints the outcome as JSON."""
    from gateway.retraining import RetrainBusy, run_retrain

    async def action(svc: Services) -> dict[str, Any]:
        return await run_retrain(svc, actor)

    try:
        echo_json(run_with_services(ctx, action))
    except (RetrainError, RetrainBusy) as error:
        raise click.ClickException(str(error)) from error


@click.group()
def models() -> None:
    """Model versions: list them, promote one or roll back."""


def _store(ctx: click.Context) -> ModelStore:
    return ModelStore(_settings(ctx).data_dir / "models")


@models.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """One line per version: name, created, active mark, its gate message."""
    store = _store(ctx)
    active = store.active() or "shipped"
    for info in store.versions():
        mark = "*" if info.version == active else " "
        message = info.evaluation.get("message", "")
        click.echo(f"{mark} {info.version}\t{info.created_at[:19]}\t{message}")


@models.command("promote")
@click.argument("version")
@click.option("--actor", default="cli", show_default=True)
@click.pass_context
def promote(ctx: click.Context, version: str, actor: str) -> None:
    """Make VERSION the active one (a rollback is a promote of an older version); running
    services pick it up within seconds."""
    try:
        _store(ctx).promote(version, actor=actor, action="promote")
    except VersionError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{version} is active")


COMMANDS = (retrain, models)
