"""The drop folder: complete files only, once each, filed to done/ or failed/ with a reason."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from channels.letter.folder import DropFolder, safe_name
from channels.letter.samples import render, sample_letters, to_bytes
from channels.letter.settings import LetterSettings
from gateway.channel_host import GatewayHost
from storage.accounts import add_account
from storage.tables import RawMessage
from tests.channels.letter.files import empty_pages_pdf, encrypted_pdf, png_bomb, truncated
from tests.conftest import make_settings
from tests.gateway.harness import running_gateway


@pytest.fixture
def letter_file() -> bytes:
    return to_bytes(render(sample_letters(1, seed=5)[0], dpi=150), dpi=150)


async def _folder(gw, tmp_path: Path, **overrides) -> DropFolder:
    settings = {"drop_folder": str(tmp_path / "drop"), "stable_seconds": 0.3, **overrides}
    async with gw.svc.sessions.begin() as session:
        await add_account(session, "letter", "scanner", LetterSettings(**settings).model_dump())
    host = GatewayHost(gw.svc)
    account = await host.account("scanner")
    assert account is not None
    folder = DropFolder(account, host, LetterSettings.model_validate(account.settings))
    folder.ensure_folders()
    return folder


async def _raw_count(gw) -> int:
    async with gw.svc.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(RawMessage)) or 0)


async def test_a_file_still_being_written_is_left_until_it_is_complete(
    sqlite_url, classify_step, tmp_path, letter_file
):
    async with running_gateway(make_settings(sqlite_url), classify_step, run_jobs=False) as gw:
        folder = await _folder(gw, tmp_path)
        target = folder.drop / "scan-001.png"
        half = len(letter_file) // 2
        target.write_bytes(letter_file[:half])
        (folder.drop / "scan-002.png.part").write_bytes(letter_file)  # a copy in progress
        assert await folder.poll_once() == []
        await asyncio.sleep(0.2)
        with target.open("ab") as growing:  # the scanner writes on
            growing.write(letter_file[half:])
        assert await folder.poll_once() == []
        await asyncio.sleep(0.2)
        assert await folder.poll_once() == []  # changed 0.2 s ago: not yet stable
        await asyncio.sleep(0.35)
        assert await folder.poll_once() == ["done"]
        assert (folder.done / "scan-001.png").read_bytes() == letter_file
        assert not target.exists()
        assert (folder.drop / "scan-002.png.part").exists()
        assert await _raw_count(gw) == 1


async def test_a_restart_between_archiving_and_filing_does_not_take_the_file_twice(
    sqlite_url, classify_step, tmp_path, letter_file, monkeypatch
):
    async with running_gateway(make_settings(sqlite_url), classify_step, run_jobs=False) as gw:
        folder = await _folder(gw, tmp_path, stable_seconds=0)
        (folder.drop / "letter.png").write_bytes(letter_file)

        def crash(*_args: object) -> Path:
            raise KeyboardInterrupt("power cut after the archive, before the move")

        monkeypatch.setattr(folder, "_move", crash)
        with pytest.raises(KeyboardInterrupt):
            await folder.poll_once()
        assert (folder.drop / "letter.png").exists() and await _raw_count(gw) == 1
        restarted = await _folder_again(gw, folder)
        assert await restarted.poll_once() == ["done"]
        assert await _raw_count(gw) == 1  # the second take was a duplicate
        assert (folder.done / "letter.png").exists()
        (folder.drop / "letter-again.png").write_bytes(letter_file)  # the same scan dropped again
        assert await restarted.poll_once() == ["done"]
        assert await _raw_count(gw) == 1
        assert (folder.done / "letter-again.png").exists()


async def _folder_again(gw, old: DropFolder) -> DropFolder:
    host = GatewayHost(gw.svc)
    account = await host.account("scanner")
    assert account is not None
    return DropFolder(account, host, LetterSettings.model_validate(account.settings))


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("torn.png", "truncated", "corrupt"),
        ("secret.pdf", "encrypted", "encrypted"),
        ("archive.pdf", "500 pages", "500 pages, more than 50"),
        ("huge.png", "bomb", "decode safely"),
        ("notes.txt", "text", "not a JPEG, PNG, TIFF or PDF"),
        ("信函 (副本) #1.png", "truncated", "corrupt"),
    ],
)
async def test_a_bad_file_is_archived_and_moved_to_failed_with_its_reason(
    sqlite_url, classify_step, tmp_path, letter_file, name, data, reason
):
    content = {
        "truncated": truncated(letter_file),
        "encrypted": encrypted_pdf(),
        "500 pages": empty_pages_pdf(500),
        "bomb": png_bomb(10_000, 10_000),
        "text": "请处理我的投诉".encode(),
    }[data]
    async with running_gateway(make_settings(sqlite_url), classify_step, run_jobs=False) as gw:
        folder = await _folder(gw, tmp_path, stable_seconds=0)
        (folder.drop / name).write_bytes(content)
        assert await folder.poll_once() == ["failed"]
        assert (folder.failed / name).read_bytes() == content
        explanation = (folder.failed / f"{name}.reason.txt").read_text()
        assert reason in explanation and "raw_id: 1" in explanation
        assert await _raw_count(gw) == 1  # archived all the same, for replay


async def test_an_oversize_file_is_moved_to_failed_without_loading_it(
    sqlite_url, classify_step, tmp_path, letter_file
):
    async with running_gateway(make_settings(sqlite_url), classify_step, run_jobs=False) as gw:
        folder = await _folder(gw, tmp_path, stable_seconds=0, max_file_bytes=1000)
        (folder.drop / "big.png").write_bytes(letter_file)
        assert await folder.poll_once() == ["failed"]
        assert "over 1,000" in (folder.failed / "big.png.reason.txt").read_text()
        assert await _raw_count(gw) == 0


def test_file_names_are_made_safe_for_metadata():
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\..\\scan.png") == "scan.png"
    assert safe_name("信函\n\x00.png") == "信函__.png"
    assert safe_name("..") == "letter"


async def test_the_running_service_watches_a_letter_accounts_folder(
    sqlite_url, classify_step, tmp_path, letter_file
):
    from storage.tables import Complaint

    settings = make_settings(sqlite_url, listener_sync_seconds=0.2)
    drop = tmp_path / "drop"
    async with running_gateway(settings, classify_step) as gw:
        async with gw.svc.sessions.begin() as session:
            values = {"drop_folder": str(drop), "stable_seconds": 0.2, "poll_seconds": 0.2}
            await add_account(
                session, "letter", "front-desk", LetterSettings(**values).model_dump()
            )
        deadline = asyncio.get_running_loop().time() + 30
        while not drop.exists():  # the listener starts at the next sync and makes the folders
            assert asyncio.get_running_loop().time() < deadline, "no listener started"
            await asyncio.sleep(0.1)
        (drop / "visit.png").write_bytes(letter_file)
        deadline = asyncio.get_running_loop().time() + 120
        while True:
            async with gw.svc.sessions() as session:
                row = await session.scalar(select(Complaint).where(Complaint.channel == "letter"))
            if row is not None:
                break
            assert asyncio.get_running_loop().time() < deadline, "the dropped letter was not read"
            await asyncio.sleep(0.2)
        assert (drop / "done" / "visit.png").exists()
        assert row.channel_account == "front-desk"
        assert row.record["channel_detail"]["filename"] == "visit.png"
