"""`routes`, `deliveries` and `correct` from the command line, against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from sqlalchemy import select, update

from gateway.bootstrap import migrate
from gateway.cli import main
from gateway.pipeline import deliver, process
from storage.tables import Outbox
from tests.conftest import make_settings
from tests.gateway.harness import running_gateway

FRIDGE = {
    "body": "冰箱BCD-520W不制冷，订单HT20261015-0042",
    "complainant": {"phone": "13811112222"},
}


def _config(tmp_path: Path, db: str, url: str) -> Path:
    hook = {"url": url, "secret": "env:TEST_HOOK_SECRET"}
    path = tmp_path / "gateway.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "database_url": db,
                "destinations": {"qa": hook, "logi": hook},
                "routing": {"departments": {"quality": ["qa"], "logistics": ["logi"]}},
            }
        )
    )
    return path


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_routes_list_set_and_test(tmp_path, sqlite_url, hook_secret):
    config = _config(tmp_path, sqlite_url, "http://127.0.0.1:1/hook")
    migrate(make_settings(**yaml.safe_load(config.read_text())))
    before = json.loads(run(config, "routes", "list"))
    run(config, "routes", "set", "department:quality", "logi", "qa")
    refused = CliRunner().invoke(main, ["--config", str(config), "routes", "set", "sales", "qa"])
    unknown = CliRunner().invoke(
        main, ["--config", str(config), "routes", "set", "default", "nowhere"]
    )
    bad = CliRunner().invoke(
        main, ["--config", str(config), "routes", "destination", "x", '{"kind": "fax"}']
    )
    planned = run(config, "routes", "test", "--department", "quality")
    assert before["routes"]["department:quality"] == ["qa"]
    assert planned.splitlines() == ["logi\troute", "qa\troute"]
    assert refused.exit_code == 1 and "selector must be one of" in refused.output
    assert unknown.exit_code == 1 and "unknown destinations: nowhere" in unknown.output
    assert bad.exit_code == 1 and "unknown destination kind 'fax'" in bad.output
    migrate(make_settings(**yaml.safe_load(config.read_text())))  # a re-seed keeps the edit
    after = json.loads(run(config, "routes", "list"))
    assert after["routes"]["department:quality"] == ["logi", "qa"]


async def test_dead_letters_are_listed_and_replayed_with_the_same_key(
    tmp_path, sqlite_url, sink, hook_secret, classify_step
):
    config = _config(tmp_path, sqlite_url, sink.url)
    settings = make_settings(**yaml.safe_load(config.read_text()))
    sink.statuses = [404]
    async with running_gateway(settings, classify_step, run_jobs=False) as gw:
        _, body = await gw.post(FRIDGE)
        reference = await process(gw.svc, body["raw_id"])
        async with gw.svc.sessions() as session:
            row = (await session.execute(select(Outbox))).scalars().one()
        await deliver(gw.svc, row.id)
    listed = [json.loads(line) for line in (await _cli(config, "deliveries", "list")).splitlines()]
    shown = json.loads(await _cli(config, "deliveries", "show", str(row.id)))
    replayed = json.loads((await _cli(config, "deliveries", "replay", str(row.id))).splitlines()[0])
    assert [(d["reference"], d["state"]) for d in listed] == [(reference, "dead")]
    assert shown["payload"]["complaint"]["reference"] == reference
    assert "HTTP 404" in shown["last_error"]
    assert replayed["state"] == "delivered"
    assert sink.keys() == [f"{reference}/qa/route/1"] * 2


async def test_correct_command_reroutes(tmp_path, sqlite_url, sink, hook_secret, classify_step):
    config = _config(tmp_path, sqlite_url, sink.url)
    settings = make_settings(**yaml.safe_load(config.read_text()))
    async with running_gateway(settings, classify_step, run_jobs=False) as gw:
        _, body = await gw.post(FRIDGE)
        reference = await process(gw.svc, body["raw_id"])
        async with gw.svc.sessions.begin() as session:
            await session.execute(update(Outbox).values(state="delivered"))
    output = await _cli(
        config,
        "correct",
        reference,
        "--department",
        "logistics",
        "--actor",
        "li",
        "--reason",
        "boxes",
    )
    result = json.loads(output.splitlines()[-1])
    assert result["withdrawn"] == ["qa"] and result["routed"] == ["logi"]
    events = sorted(json.loads(item["body"])["event"] for item in sink.received)
    assert events == ["complaint.corrected", "complaint.withdrawn"]


async def _cli(config: Path, *args: str) -> str:
    import asyncio

    return await asyncio.to_thread(run, config, *args)
