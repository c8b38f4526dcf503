"""Transcript import: JSON and CSV files through `ingest` and the HTTP API."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from channels.hotline.batch import split
from storage.tables import Complaint, Outbox, RawMessage
from tests.channels.hotline.conftest import Caller, counts, reference_of
from tests.gateway.harness import Gateway

CLI = Path(sys.executable).parent / "complaint-gateway"
CALLS: list[dict[str, Any]] = [
    {
        "call_id": "CC-0001",
        "number": "021-6123 4567",
        "started_at": "2026-03-15T10:20:00+08:00",
        "agent": "李娜",
        "language": "cmn-CN",
        "turns": [
            {"speaker": "agent", "text": "您好，恒泰电器，请讲。"},
            {
                "speaker": "caller",
                "text": "我买的燃气热水器JSQ24-HT3打不着火，订单号H T 二零二六零三一五 杠 零零四二",
            },
        ],
    },
    {
        "call_id": "CC-0002",
        "number": "+14155550123",
        "started_at": "2026-03-16T09:00:00Z",
        "language": "en-US",
        "turns": [{"speaker": "caller", "text": "My rice cooker burnt my hand, the lid came off."}],
    },
    {
        "call_id": "CC-0003",
        "number": "13812345678",
        "started_at": "2026-03-16T09:00:00+08:00",
        "language": "fr",
        "turns": [{"speaker": "caller", "text": "Le frigo ne marche pas."}],
    },
]


@pytest.fixture
def cli(tmp_path: Path):
    env = {**os.environ, "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/g.db"}
    env.pop("GATEWAY_CONFIG", None)

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLI), *args],
            env={**env, **extra_env},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )

    assert run("migrate").returncode == 0
    return run


def lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_json_import_makes_records_reports_bad_calls_and_is_idempotent(cli, tmp_path) -> None:
    path = tmp_path / "calls.json"
    path.write_text(json.dumps({"calls": CALLS}, ensure_ascii=False), encoding="utf-8")
    first = cli("ingest", "--channel", "hotline.twilio", str(path))
    assert first.returncode == 1, first.stderr  # one bad call
    zh, en, bad = lines(first)
    assert zh["channel"] == "hotline" and zh["language"] == "zh"
    assert zh["complainant"]["phones"] == ["+862161234567"]
    assert zh["order_number"] == "HT20260315-0042"
    assert "恒泰电器，请讲" not in zh["body"]  # the agent's words are not the complaint
    assert en["language"] == "en" and en["complainant"]["phones"] == ["+14155550123"]
    assert bad["status"] == "failed" and "calls[2]" in bad["error"]
    assert "unknown language 'fr'" in bad["error"]

    again = lines(cli("ingest", "--channel", "hotline.twilio", str(path)))
    assert [d.get("reference") or d["raw_id"] for d in again] == [
        d.get("reference") or d["raw_id"] for d in (zh, en, bad)
    ]


def csv_file(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["call_id", "number", "started_at", "agent", "language", "transcript"])
    writer.writerows(rows)
    return out.getvalue()


BROKEN_CSV = csv_file(
    [
        ["A-1", "13812345678", "2026-03-01T08:00:00+08:00", "王芳", "zh",
         "客服：您好\n来电：冰箱BCD-520W不制冷，买了三天\n幺三九 八七六五 四三二一"],
        ["A-2", "", "2026-03-01T09:00:00+08:00", "", "zh", "来电：空调外机噪音大"],
        ["A-3", "13812345678", "yesterday", "", "zh", "来电：微波炉冒烟"],
        ["A-4", "13812345678"],
        ["A-5", "13812345678", "2026-03-01T10:00:00+08:00", "", "de", "caller: Hallo"],
        ["A-6", "+8613700000000", "2026-03-01T11:00:00+08:00", "", "en",
         "caller: E-bike EB-HT60 battery swelled"],
    ]
)  # fmt: skip


def test_csv_rows_are_split_with_their_line_numbers() -> None:
    items = split(BROKEN_CSV.encode(), "export.csv")
    assert [item.where for item in items] == [
        "line 2",
        "line 5",
        "line 6",
        "line 7",
        "line 8",
        "line 9",
    ]  # fmt: skip  (A-1's transcript spans three lines)
    assert [item.error is None for item in items] == [True, True, False, False, False, True]
    assert "started_at" in (items[2].error or "")
    assert "expected 6 fields, got 2" in (items[3].error or "")
    assert "unknown language 'de'" in (items[4].error or "")
    assert items[0].provider_id == "import:A-1"


def test_csv_import_keeps_good_rows_and_reports_bad_ones(cli, tmp_path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(BROKEN_CSV, encoding="utf-8")
    result = lines(cli("ingest", "--channel", "hotline.twilio", str(path)))
    assert [d.get("status") for d in result] == [
        "open",
        "open",
        "failed",
        "failed",
        "failed",
        "open",
    ]
    assert "13987654321" in result[0]["body"]
    assert "caller_withheld" in result[1]["hints"]
    assert result[2]["error"].startswith("NormaliseError: line 6: started_at")
    assert "line 7" in result[3]["error"] and "line 8" in result[4]["error"]


def test_a_thousand_calls_import_once(cli, tmp_path) -> None:
    rows = [
        [f"BULK-{i:05d}", f"1381234{i:04d}", "2026-03-02T08:00:00+08:00", "", "zh",
         f"来电：第{i}台洗衣机XQG100-HT8漏水，订单号HT20260302-{i:04d}"]
        for i in range(1000)
    ]  # fmt: skip
    path = tmp_path / "bulk.csv"
    path.write_text(csv_file(rows), encoding="utf-8")
    started = time.perf_counter()
    first = cli("ingest", "--channel", "hotline.twilio", str(path))
    elapsed = time.perf_counter() - started
    assert first.returncode == 0, first.stderr
    records = lines(first)
    assert len({d["reference"] for d in records}) == 1000
    assert records[999]["order_number"] == "HT20260302-0999"
    again = lines(cli("ingest", "--channel", "hotline.twilio", str(path)))
    assert [d["reference"] for d in again] == [d["reference"] for d in records]
    print(f"1000 calls imported in {elapsed:.1f} s")


async def test_http_import_api(hotline: Gateway) -> None:
    body = json.dumps(CALLS, ensure_ascii=False).encode()
    url = "/api/v1/hotline/transcripts?account=hotline-cn"
    headers = {**hotline.auth, "Content-Type": "application/json"}
    unauthorised = await hotline.client.post(url, data=body)
    assert unauthorised.status == 401
    response = await hotline.client.post(url, data=body, headers=headers)
    assert response.status == 202
    report = await response.json()
    assert (report["accepted"], report["duplicates"]) == (2, 0)
    assert report["rejected"][0]["where"] == "calls[2]"
    again = await (await hotline.client.post(url, data=body, headers=headers)).json()
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert (await counts(hotline))[1] == 3  # two calls and one archived bad call
    csv_response = await hotline.client.post(
        url, data=BROKEN_CSV.encode(), headers={**hotline.auth, "Content-Type": "text/csv"}
    )
    assert (await csv_response.json())["accepted"] == 3
    missing = await hotline.client.post(
        "/api/v1/hotline/transcripts?account=nope", data=body, headers=headers
    )
    assert missing.status == 404


async def _stored(gw: Gateway, provider_id: str) -> str:
    """The reference of the record made from raw input `provider_id`, once it is made
    (an imported call has no reference before)."""
    for _ in range(400):
        async with gw.svc.sessions() as session:
            reference = await session.scalar(
                select(Complaint.reference)
                .join(RawMessage, RawMessage.id == Complaint.raw_id)
                .where(RawMessage.provider_id == provider_id)
            )
        if reference:
            return str(reference)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no record from {provider_id}")


async def _acknowledgements(gw: Gateway, reference: str) -> int:
    async with gw.svc.sessions() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(Outbox)
            .join(Complaint, Complaint.id == Outbox.complaint_id)
            .where(Complaint.reference == reference, Outbox.purpose == "ack")
        )
    return int(found or 0)


async def test_imported_calls_queue_no_acknowledgement_but_live_calls_do(hotline: Gateway) -> None:
    body = json.dumps(CALLS[:2], ensure_ascii=False).encode()
    response = await hotline.client.post(
        "/api/v1/hotline/transcripts?account=hotline-cn",
        data=body,
        headers={**hotline.auth, "Content-Type": "application/json"},
    )
    assert response.status == 202
    for call in CALLS[:2]:
        reference = await _stored(hotline, f"import:{call['call_id']}")
        record = await hotline.record(reference)
        assert record["complainant"]["phones"]  # a caller who could be answered, yet is not
        assert await _acknowledgements(hotline, reference) == 0

    caller = Caller(hotline, number="+14155550123")
    await caller.complain("The washing machine leaks water all over the floor.")
    live = await reference_of(hotline, caller.sid)
    await hotline.record(live)
    assert await _acknowledgements(hotline, live) == 1


def test_channels_add_and_test_print_the_webhook_urls(cli) -> None:
    added = cli(
        "channels", "add", "hotline.twilio", "hotline-cn",
        "--set", "number=+86 571 8888 0000", "--set", "auth_token=env:CLI_TWILIO_TOKEN",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    unreadable = cli("channels", "test", "hotline-cn")
    assert unreadable.returncode != 0 and "CLI_TWILIO_TOKEN is not set" in unreadable.stderr
    tested = cli("channels", "test", "hotline-cn", CLI_TWILIO_TOKEN="t")
    assert "number +8657188880000" in tested.stdout
    assert "/hotline/twilio/hotline-cn/voice" in tested.stdout
    assert "/hotline/twilio/hotline-cn/status" in tested.stdout
    leaked = cli(
        "channels", "add", "hotline.twilio", "x", "--set", "auth_token=sk-live-secret-value"
    )  # fmt: skip
    assert leaked.returncode != 0 and "sk-live-secret-value" not in leaked.stderr + leaked.stdout
