"""`complaint-gateway correct REFERENCE …`: a supervisor's correction from the command line."""

from __future__ import annotations

import click

from gateway.cli import echo_json, run_with_services
from gateway.corrections import Correction, CorrectionError, CorrectionResult, apply_correction
from gateway.services import Services


@click.command()
@click.argument("reference")
@click.option("--department", default=None, help="The responsible department.")
@click.option("--severity", type=click.Choice(["minor", "general", "major"]), default=None)
@click.option("--flag", "flags", multiple=True, help="Severity flag (repeatable); implies major.")
@click.option("--validity", type=click.Choice(["valid", "invalid"]), default=None)
@click.option("--invalid-reason", default=None, help="Why it is invalid (with --validity invalid).")
@click.option("--actor", required=True, help="Who corrects (kept in the history).")
@click.option("--reason", "note", required=True, help="Why (kept in the history).")
@click.pass_context
def correct(
    ctx: click.Context,
    reference: str,
    department: str | None,
    severity: str | None,
    flags: tuple[str, ...],
    validity: str | None,
    invalid_reason: str | None,
    actor: str,
    note: str,
) -> None:
    """Correct REFERENCE's decision: re-route it, withdraw it from old destinations,
    record who/when/why, and keep it as a training example."""
    change = Correction(
        validity=validity,
        reason=invalid_reason,
        severity=severity,
        flags=list(flags) if flags else None,
        department=department,
    )

    async def action(svc: Services) -> CorrectionResult:
        return await apply_correction(svc, reference, change, actor=actor, note=note)

    try:
        result = run_with_services(ctx, action)
    except CorrectionError as exc:
        raise click.ClickException(str(exc)) from exc
    echo_json(result.as_dict())
