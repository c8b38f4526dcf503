"""The operator commands, run as a user would: the installed `complaint-gateway` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).parent / "complaint-gateway"


@pytest.fixture
def cli(tmp_path):
    env = {**os.environ, "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/g.db"}
    env.pop("GATEWAY_CONFIG", None)

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(CLI), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    run("migrate")
    return run


def test_channel_accounts_lifecycle(cli):
    added = json.loads(
        cli("channels", "add", "api", "dealer-portal", "--set", "company=恒泰").stdout
    )
    assert added == {**added, "name": "dealer-portal", "kind": "api", "enabled": True}
    assert added["settings"]["company"] == "恒泰"
    assert "dealer-portal\tapi\tenabled" in cli("channels", "list").stdout
    assert "settings valid" in cli("channels", "test", "dealer-portal").stdout
    cli("channels", "disable", "dealer-portal")
    assert "dealer-portal\tapi\tdisabled" in cli("channels", "list").stdout
    cli("channels", "enable", "dealer-portal")
    duplicate = cli("channels", "add", "api", "dealer-portal", ok=False)
    assert duplicate.returncode != 0 and "exists already" in duplicate.stderr
    bad_kind = cli("channels", "add", "fax", "x", ok=False)
    assert "unknown channel kind" in bad_kind.stderr
    bad_setting = cli("channels", "add", "api", "y", "--set", "colour=red", ok=False)
    assert bad_setting.returncode != 0 and "colour" in bad_setting.stderr
    cli("channels", "remove", "dealer-portal")
    assert "dealer-portal" not in cli("channels", "list").stdout


def test_api_keys_are_shown_once_and_stored_hashed(cli, tmp_path):
    key = cli("apikeys", "add", "crm").stdout.strip()
    assert key.startswith("cgk_") and len(key) > 30
    assert cli("apikeys", "list").stdout.strip() == "crm\tenabled"
    database = (tmp_path / "g.db").read_bytes()
    assert key.encode() not in database
    cli("apikeys", "disable", "crm")
    assert cli("apikeys", "list").stdout.strip() == "crm\tdisabled"


def test_ingest_prints_one_record_per_file_and_dedupes(cli, tmp_path):
    first = tmp_path / "a.json"
    first.write_text(
        json.dumps(
            {
                "body": "电热水器JSQ24-HT3漏电，洗澡时被电了一下！",
                "complainant": {"phone": "13912345678"},
            },
            ensure_ascii=False,
        )
    )
    broken = tmp_path / "b.json"
    broken.write_text("{not json")
    result = cli("ingest", "--channel", "api", str(first), str(broken), ok=False)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1  # one file failed
    assert lines[0]["reference"].startswith("QC-")
    assert lines[0]["classification"]["severity"] == "major"
    assert lines[1]["status"] == "failed" and "JSON" in lines[1]["error"]
    again = json.loads(cli("ingest", "--channel", "api", str(first)).stdout)
    assert again["reference"] == lines[0]["reference"]
    replay = cli("replay", "--failed", ok=False)
    replayed = json.loads(replay.stdout)
    assert replayed["status"] == "failed"  # still bad JSON: visible, not lost


def test_a_misconfigured_destination_is_a_clear_error_not_a_traceback(tmp_path):
    config = tmp_path / "gateway.yaml"
    config.write_text(
        f"database_url: sqlite+aiosqlite:///{tmp_path}/g.db\n"
        "destinations:\n  cases: {kind: webhook, url: 'ftp://cases.example', secret: 'env:X'}\n"
        "routing: {default: [cases]}\n"
    )
    result = subprocess.run(
        [str(CLI), "--config", str(config), "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "X": "s"},
    )
    assert result.returncode == 1
    assert "configuration refused" in result.stderr and "http(s) URL" in result.stderr
    assert "Traceback" not in result.stderr
