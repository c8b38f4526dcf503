"""Letter fixtures: OCR workers for the session, generated letters, a letter account."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from channels.base import RawInput
from channels.letter import pool
from channels.letter.samples import SampleLetter, render, sample_letters, to_bytes
from channels.registry import get_kind
from storage.records import ComplaintDraft

os.environ.setdefault("LETTER_OCR_PROCESSES", "2")


@pytest.fixture(scope="session", autouse=True)
def ocr_workers() -> Iterator[None]:
    """One pool of OCR processes for the whole run (each loads its engine once)."""
    yield
    pool.shutdown()


@pytest.fixture(scope="session")
def letters() -> list[SampleLetter]:
    """The generated test set: alternating Chinese and English letters with known text."""
    return sample_letters(12, seed=2026)


def read(data: bytes, **settings: Any) -> ComplaintDraft:
    """Run the letter normaliser on `data` as the pipeline would (OCR in the worker pool)."""
    raw = RawInput(
        data=data,
        media_type="application/octet-stream",
        account="letters",
        provider_id="test",
        received_at=datetime(2026, 4, 20, tzinfo=UTC),
        meta={"filename": "scan"},
        settings=settings,
    )
    return get_kind("letter").normalise(raw)


def read_many(files: list[bytes], **settings: Any) -> list[ComplaintDraft]:
    """Several files at once, so both OCR workers are busy."""
    with ThreadPoolExecutor(max_workers=pool.pool_size()) as threads:
        return list(threads.map(lambda data: read(data, **settings), files))


def letter_png(letter: SampleLetter, font_index: int = 0) -> bytes:
    return to_bytes(render(letter, font_index=font_index))
