"""`complaint-gateway ingest` and `replay`: files and failed inputs through the same pipeline."""

from __future__ import annotations

import mimetypes
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from channels.base import BatchItem
from channels.registry import UnknownChannelKind, get_kind
from gateway.batch_import import accept_batch, outcomes, process_new
from gateway.cli import echo_json, run_with_services
from gateway.intake import accept
from gateway.record_view import record_document
from gateway.services import Services
from storage import accounts
from storage.archive import content_hash
from storage.tables import ChannelAccount, Complaint, RawMessage
from storage.work import failed_raw_ids, reset_raw_for_replay


async def _ingest_account(svc: Services, kind: str, name: str) -> ChannelAccount:
    async with svc.sessions.begin() as session:
        account = await accounts.find_account(session, name)
        if account is None:
            settings = get_kind(kind).validate_settings({})
            account = await accounts.add_account(session, kind, name, settings)
            click.echo(f"created channel account {name} ({kind})", err=True)
        elif account.kind != kind:
            raise click.ClickException(f"account {name} is of kind {account.kind}, not {kind}")
        return account


async def outcome_of(svc: Services, raw_id: int) -> dict[str, Any]:
    """The stored record for `raw_id`, or its pipeline state when there is none."""
    async with svc.sessions() as session:
        row = await session.scalar(select(Complaint).where(Complaint.raw_id == raw_id))
        if row is not None:
            return await record_document(session, row)
        raw = await session.get(RawMessage, raw_id)
    assert raw is not None
    return {"raw_id": raw_id, "status": raw.state, "error": raw.error}


async def _ingest_batch(
    svc: Services, target: ChannelAccount, family: str, path: Path, batch: list[BatchItem]
) -> int:
    """Accept the parts of a split file in bulk (each under its own provider id), process
    the new ones in batches, then print each outcome."""
    accepted = await accept_batch(svc, target, batch, {"filename": path.name})
    await process_new(svc, [done.raw_id for done in accepted if not done.duplicate])
    failures = 0
    documents = await outcomes(svc, [done.raw_id for done in accepted])
    for item, document in zip(batch, documents, strict=True):
        document["source_file"] = f"{path} ({item.where})"
        failures += document.get("status") == "failed"
        echo_json(document)
    return failures


@click.command()
@click.option("--channel", "kind", required=True, help="Channel kind, e.g. api, email.imap.")
@click.option("--account", default=None, help="Channel account (default: named after the kind).")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.pass_context
def ingest(ctx: click.Context, kind: str, account: str | None, files: tuple[Path, ...]) -> None:
    """Run FILES through the pipeline and print one JSON record per line."""
    try:
        family = get_kind(kind).family.value
    except UnknownChannelKind as exc:
        raise click.ClickException(str(exc)) from exc

    async def action(svc: Services) -> int:
        target = await _ingest_account(svc, kind, account or kind)
        failures = 0
        for path in files:
            raw_file = path.read_bytes()
            batch = get_kind(kind).split_batch(raw_file, path.name)  # transcripts: many
            if batch is not None:
                failures += await _ingest_batch(svc, target, family, path, batch)
                continue
            items = get_kind(kind).split_file(path.name, raw_file)  # mbox: many
            guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            for index, data in enumerate(items):
                accepted = await accept(
                    svc,
                    target,
                    family,
                    provider_id=f"file:{content_hash(data)}",
                    data=data,
                    media_type="message/rfc822" if len(items) > 1 else guessed,
                    meta={"filename": path.name, **({"index": index} if len(items) > 1 else {})},
                    enqueue=False,
                )
                if not accepted.duplicate:
                    await svc.enqueue("process", accepted.raw_id)
                document = await outcome_of(svc, accepted.raw_id)
                document["source_file"] = str(path)
                failures += document.get("status") == "failed"
                echo_json(document)
        return failures

    if run_with_services(ctx, action):
        sys.exit(1)


@click.command()
@click.argument("raw_ids", nargs=-1, type=int)
@click.option("--failed", "all_failed", is_flag=True, help="Replay every failed input.")
@click.pass_context
def replay(ctx: click.Context, raw_ids: tuple[int, ...], all_failed: bool) -> None:
    """Process failed inputs RAW_IDS (or all with --failed) again."""
    if not raw_ids and not all_failed:
        raise click.UsageError("give RAW_ID… or --failed")

    async def action(svc: Services) -> int:
        async with svc.sessions.begin() as session:
            wanted = list(raw_ids) or await failed_raw_ids(session)
            reset = await reset_raw_for_replay(session, wanted)
        for raw_id in sorted(set(wanted) - set(reset)):
            echo_json({"raw_id": raw_id, "status": "skipped", "error": "not in the failed state"})
        failures = 0
        for raw_id in reset:
            await svc.enqueue("process", raw_id)
            document = await outcome_of(svc, raw_id)
            failures += document.get("status") == "failed"
            echo_json(document)
        return failures

    if run_with_services(ctx, action):
        sys.exit(1)
