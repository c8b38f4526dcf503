"""Uploads, the pipeline end to end, the review queue round trip, and back-filling by CLI."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from channels.letter.samples import SampleLetter, render, sample_letters, to_bytes
from gateway.pipeline import process
from storage.accounts import add_account
from storage.tables import RawMessage
from tests.channels.letter.files import truncated
from tests.conftest import make_settings
from tests.gateway.harness import Gateway, running_gateway

CLI = Path(sys.executable).parent / "complaint-gateway"


async def _account(gw: Gateway, name: str = "letter", **settings: object) -> None:
    async with gw.svc.sessions.begin() as session:
        await add_account(session, "letter", name, dict(settings))


async def _upload(gw: Gateway, data: bytes, filename: str = "scan.png", **headers: str):
    form = aiohttp.FormData()
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    response = await gw.client.post("/api/v1/letters", data=form, headers={**gw.auth, **headers})
    return response.status, await response.json()


def _letter(seed: int = 31, language: str = "zh") -> SampleLetter:
    return sample_letters(1, seed=seed, languages=(language,))[0]


async def test_an_uploaded_letter_becomes_a_classified_record(sqlite_url, classify_step):
    letter = _letter()
    data = to_bytes(render(letter))
    async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
        await _account(gw)
        status, body = await _upload(gw, data, filename="../../信函 1.png")
        assert status == 202 and body["reference"].startswith("QC-")
        slowest, checks = 0.0, 0  # OCR runs in worker processes: the service answers meanwhile
        deadline = asyncio.get_running_loop().time() + 120
        while (
            await gw.client.get(f"/api/v1/complaints/{body['reference']}", headers=gw.auth)
        ).status != 200:
            started = asyncio.get_running_loop().time()
            assert started < deadline, "the letter was not processed"
            assert (await gw.client.get("/healthz")).status == 200
            slowest = max(slowest, asyncio.get_running_loop().time() - started)
            checks += 1
            await asyncio.sleep(0.05)
        assert checks > 0 and slowest < 1.0, (checks, slowest)
        record = await gw.record(body["reference"], timeout=120)
        assert record["channel"] == "letter"
        assert record["complainant"]["phones"] == [letter.phone]
        assert record["order_number"] == letter.order_number
        assert record["channel_detail"]["filename"] == "信函 1.png"
        assert record["attachments"][0]["name"] == "page-1.jpg"
        assert record["classification"]["validity"] == "valid"
        again_status, again = await _upload(gw, data)
        assert (
            again_status == 200 and again["duplicate"] and again["reference"] == body["reference"]
        )


async def test_upload_errors_are_clear_and_bad_files_are_archived(sqlite_url, classify_step):
    data = to_bytes(render(_letter(), dpi=100), dpi=100)
    async with running_gateway(make_settings(sqlite_url), classify_step, run_jobs=False) as gw:
        await _account(gw, max_file_bytes=len(data) - 1)
        await _account(gw, "letters-off")
        status, body = await _upload(gw, data)
        assert status == 413 and body["error"]["code"] == "file_too_large"
        status, body = await _upload(gw, truncated(data))
        assert status == 422 and "corrupt" in body["error"]["message"]
        raw_id = body["error"]["raw_id"]
        await process(gw.svc, raw_id)  # the pipeline refuses it too, with the same reason
        async with gw.svc.sessions() as session:
            raw = await session.get(RawMessage, raw_id)
        assert raw is not None and raw.state == "failed" and "corrupt" in (raw.error or "")
        no_key = await gw.client.post("/api/v1/letters", data={"file": io.BytesIO(b"x")})
        assert no_key.status == 401
        unknown = await gw.client.post(
            "/api/v1/letters?account=nowhere", data={"file": io.BytesIO(b"x")}, headers=gw.auth
        )
        assert unknown.status == 404
        not_multipart = await gw.client.post("/api/v1/letters", json={}, headers=gw.auth)
        assert not_multipart.status == 415


async def test_an_unsure_reading_waits_for_review_and_the_correction_reclassifies(
    any_db_url, classify_step
):
    letter = _letter(seed=44)
    async with running_gateway(make_settings(any_db_url), classify_step) as gw:
        await _account(gw, min_confidence=0.9999)  # nothing is read that surely
        status, body = await _upload(gw, to_bytes(render(letter)))
        assert status == 202
        reference = body["reference"]
        record = await gw.record(reference, timeout=120)
        assert "ocr_low_confidence" in record["hints"]
        assert record["classification"]["needs_review"] is True
        queue = await (await gw.client.get("/api/v1/admin/letters/review", headers=gw.auth)).json()
        assert [item["reference"] for item in queue["letters"]] == [reference]
        page = await gw.client.get(queue["letters"][0]["pages"][0], headers=gw.auth)
        assert page.status == 200 and (await page.read())[:3] == b"\xff\xd8\xff"

        corrected = record["channel_detail"]["transcript"].replace(letter.phone, "13900001111")
        review = {"text": corrected, "note": "phone checked against the scan"}
        # The reviewer is whoever authenticated: a body naming someone else changes nothing.
        forged = await gw.client.post(
            f"/api/v1/admin/letters/{reference}/review",
            json={**review, "actor": "li"},
            headers=gw.auth,
        )
        assert forged.status == 422, await forged.text()
        assert (await gw.record(reference))["complainant"]["phones"] != ["13900001111"]
        response = await gw.client.post(
            f"/api/v1/admin/letters/{reference}/review", json=review, headers=gw.auth
        )
        result = await response.json()
        assert response.status == 200, result
        assert "complainant" in result["changed"]
        after = await gw.record(reference)
        assert after["complainant"]["phones"] == ["13900001111"]
        assert after["classification"]["needs_review"] is False
        assert "ocr_low_confidence" not in after["hints"] and "ocr_reviewed" in after["hints"]
        actions = [entry["action"] for entry in after["history"]]
        assert "letter_reviewed" in actions and "corrected" in actions
        reviewed = next(e for e in after["history"] if e["action"] == "letter_reviewed")
        assert reviewed["actor"] == "tests"  # the API key's owner
        queue = await (await gw.client.get("/api/v1/admin/letters/review", headers=gw.auth)).json()
        assert queue["letters"] == []
        missing = await gw.client.post(
            "/api/v1/admin/letters/QC-209901-000001/review", json={}, headers=gw.auth
        )
        assert missing.status == 404


async def test_a_letter_without_a_readable_contact_is_held_for_review(sqlite_url, classify_step):
    letter = _letter(seed=45, language="en")
    letter.labelled = []  # no address, no phone: nobody to answer
    async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
        await _account(gw)
        status, body = await _upload(gw, to_bytes(render(letter)))
        assert status == 202
        record = await gw.record(body["reference"], timeout=120)
        assert "contact_unreadable" in record["hints"]
        assert record["classification"]["needs_review"] is True
        response = await gw.client.post(
            f"/api/v1/admin/letters/{body['reference']}/review",
            json={"complainant": {"phones": ["13812345678"]}, "note": "phoned the sender"},
            headers=gw.auth,
        )
        assert response.status == 200, await response.text()
        after = await gw.record(body["reference"])
        assert after["complainant"]["phones"] == ["13812345678"]
        assert after["classification"]["needs_review"] is False


def test_ingest_back_fills_scans_through_the_pipeline(tmp_path):
    letter = _letter(seed=46)
    scan = tmp_path / "old-scan.png"
    scan.write_bytes(to_bytes(render(letter)))
    env = {**os.environ, "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/g.db"}
    env.pop("GATEWAY_CONFIG", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLI), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )

    assert run("migrate").returncode == 0
    result = run("ingest", "--channel", "letter", str(scan))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout.strip().splitlines()[-1])
    assert document["channel"] == "letter"
    assert document["order_number"] == letter.order_number
    assert document["complainant"]["phones"] == [letter.phone]


async def test_a_scan_mailed_in_is_read_and_joins_the_mails_complaint(sqlite_url, classify_step):
    from datetime import UTC, datetime

    from gateway.letter_handover import hand_over_documents
    from storage.records import ChannelKind, ComplaintDraft
    from tests.channels.letter.files import image_pdf

    letter = _letter(seed=47)
    async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
        await _account(gw)
        status, body = await gw.post(
            {"body": "冰箱漏水，详见附件扫描件", "complainant": {"phone": letter.phone}}
        )
        assert status == 202
        mail = ComplaintDraft(
            channel=ChannelKind.EMAIL,
            channel_account="support",
            received_at=datetime.now(UTC),
            hints=["documents"],
        )
        mail.add_attachment("letter.pdf", "application/pdf", image_pdf([render(letter)]))
        mail.add_attachment("photo.jpg", "image/jpeg", b"\xff\xd8\xff not a letter")
        await gw.record(body["reference"])
        raw_ids = await hand_over_documents(gw.svc, body["reference"], mail)
        assert len(raw_ids) == 1  # the PDF only; photos of defects are not letters
        assert await hand_over_documents(gw.svc, body["reference"], mail) == []  # once
        deadline = asyncio.get_running_loop().time() + 120
        while not (record := await gw.record(body["reference"]))["follow_ups"]:
            assert asyncio.get_running_loop().time() < deadline, "the scan was not read"
            await asyncio.sleep(0.2)
        follow_up = record["follow_ups"][0]
        assert letter.order_number in follow_up["body"]
        assert follow_up["attachments"][0]["name"] == "page-1.jpg"
