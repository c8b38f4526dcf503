"""The drop folder: scanners and people put files in, each is archived once, then filed away.

A file is taken only when it is complete: its size and modification time have not
changed for `stable_seconds` (a scanner or a copy still writing it is left alone), and
names that mark partial files (`.part`, `.tmp`, `~`, hidden dot-files) are skipped. The
provider id is the content hash (as for `ingest`), so a restart between archiving and
moving a file finds it already archived and only moves it: nothing is processed twice. The
file goes to `done/` after its copy is stored, or to `failed/` with a `.reason.txt` beside
it when it cannot be read as a letter (it is archived all the same and fails in the pipeline too).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from channels.base import AccountView, ChannelHost
from channels.letter.pages import UnreadableLetter, count_pages, sniff
from channels.letter.settings import LetterSettings

log = logging.getLogger(__name__)
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", "~")


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


def safe_name(name: str, limit: int = 120) -> str:
    """A file name fit for metadata and logs: no directories, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch if ch.isprintable() else "_" for ch in base).strip().lstrip(".")
    return (cleaned or "letter")[:limit]


def is_candidate(path: Path) -> bool:
    name = path.name
    return not name.startswith(".") and not name.lower().endswith(PARTIAL_SUFFIXES)


def probe(data: bytes, settings: LetterSettings) -> str | None:
    """Why `data` cannot be a letter, or None when it looks readable (no OCR yet)."""
    if len(data) > settings.max_file_bytes:
        return (
            f"the file is {len(data):,} bytes, more than the limit of {settings.max_file_bytes:,}"
        )
    try:
        count_pages(data, settings.limits())
    except UnreadableLetter as exc:
        return str(exc)
    return None


def media_type_of(data: bytes) -> str:
    try:
        return sniff(data)
    except UnreadableLetter:
        return "application/octet-stream"


def _unique(folder: Path, name: str, digest: str) -> Path:
    target = folder / name
    if not target.exists():
        return target
    stem, dot, suffix = name.rpartition(".")
    return folder / (f"{stem}.{digest[:12]}.{suffix}" if dot else f"{name}.{digest[:12]}")


class DropFolder:
    """Watches one account's folder; `poll_once` is one pass (the tests drive it directly)."""

    def __init__(self, account: AccountView, host: ChannelHost, settings: LetterSettings) -> None:
        self.account = account
        self.host = host
        self.settings = settings
        self.drop, self.done, self.failed = settings.folders()
        self._seen: dict[str, _Seen] = {}

    def ensure_folders(self) -> None:
        for folder in (self.drop, self.done, self.failed):
            folder.mkdir(parents=True, exist_ok=True)

    async def run(self) -> None:
        self.ensure_folders()
        while True:
            await self.poll_once()
            await asyncio.sleep(self.settings.poll_seconds)

    async def poll_once(self) -> list[str]:
        """Take every complete file now in the folder; returns what became of each."""
        outcomes = []
        now = time.monotonic()
        present = set()
        for path in sorted(self.drop.iterdir()):
            if not path.is_file() or path.is_symlink() or not is_candidate(path):
                continue
            present.add(path.name)
            if self._stable(path, now):
                outcomes.append(await self.take(path))
        for name in set(self._seen) - present:
            del self._seen[name]
        return outcomes

    def _stable(self, path: Path, now: float) -> bool:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return False
        seen = self._seen.get(path.name)
        if seen is None or (seen.size, seen.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
            self._seen[path.name] = _Seen(stat.st_size, stat.st_mtime_ns, now)
            return self.settings.stable_seconds == 0 and stat.st_size > 0
        return now - seen.since >= self.settings.stable_seconds and stat.st_size > 0

    async def take(self, path: Path) -> str:
        """Archive `path`, then move it to done/ or failed/; returns "done" or "failed".

        A file over `max_file_bytes` is not loaded into the archive at all: it is
        moved to failed/ as it is, which keeps the only copy safe.
        """
        self._seen.pop(path.name, None)
        size = path.stat().st_size
        if size > self.settings.max_file_bytes:
            limit = self.settings.max_file_bytes
            return await self._refuse(path, None, f"the file is {size:,} bytes, over {limit:,}")
        data = await asyncio.to_thread(path.read_bytes)
        result = await self.host.accept(
            self.account,
            provider_id=f"file:{hashlib.sha256(data).hexdigest()}",
            data=data,
            media_type=media_type_of(data),
            meta={"filename": safe_name(path.name), "source": "drop_folder", "bytes": len(data)},
        )
        problem = await asyncio.to_thread(probe, data, self.settings)
        if problem is not None:
            return await self._refuse(path, result.raw_id, problem)
        await asyncio.to_thread(self._move, path, self.done, result.sha256)
        log.info("letter filed", extra={"account": self.account.name, "raw_id": result.raw_id})
        return "done"

    async def _refuse(self, path: Path, raw_id: int | None, problem: str) -> str:
        digest = hashlib.sha256(path.name.encode()).hexdigest()
        target = await asyncio.to_thread(self._move, path, self.failed, digest)
        reason = f"{problem}\nraw_id: {raw_id if raw_id is not None else 'not archived'}\n"
        await asyncio.to_thread(target.with_name(target.name + ".reason.txt").write_text, reason)
        log.warning(
            "letter refused",
            extra={"account": self.account.name, "raw_id": raw_id, "error": problem},
        )
        return "failed"

    def _move(self, path: Path, folder: Path, digest: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        target = _unique(folder, path.name, digest)
        os.replace(path, target)
        return target
