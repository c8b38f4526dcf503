"""Model versions on disk: `<root>/<version>/` folders and an `ACTIVE` pointer file.

The pointer is replaced atomically (write a sibling, rename), so a reader sees the old
or the new version, never half of one; every running classifier that polls the pointer
picks up a promotion or a rollback without a restart. `shipped` names the model that
comes with the package (`classifiers/model/`).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifiers.model import DEFAULT_MODEL_DIR, META_FILE

SHIPPED = "shipped"
POINTER = "ACTIVE"
EVALUATION = "evaluation.json"
HISTORY = "history.jsonl"


class VersionError(LookupError):
    """An unknown version, or one that is not a complete model."""


@dataclass(frozen=True)
class VersionInfo:
    version: str
    path: Path
    created_at: str
    evaluation: dict[str, Any] = field(default_factory=dict)


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)


class PointerStore:
    """Versions kept under `root`, one of them named by the pointer file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def active(self) -> str | None:
        try:
            return (self.root / POINTER).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def stamp(self) -> tuple[str | None, float]:
        """Cheap change detector for pollers: the pointer's content and mtime."""
        try:
            return self.active(), (self.root / POINTER).stat().st_mtime
        except OSError:
            return None, 0.0

    def point_to(self, version: str, *, actor: str, action: str, note: str = "") -> None:
        previous = self.active()
        write_atomic(self.root / POINTER, version + "\n")
        entry = {
            "at": datetime.now(UTC).isoformat(),
            "actor": actor,
            "action": action,
            "version": version,
            "previous": previous,
            "note": note,
        }
        with (self.root / HISTORY).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def history(self) -> list[dict[str, Any]]:
        try:
            lines = (self.root / HISTORY).read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        return [json.loads(line) for line in lines if line.strip()]


class ModelStore(PointerStore):
    """Trained model versions; the active one is what the classifier loads."""

    def path(self, version: str) -> Path:
        if version == SHIPPED:
            return DEFAULT_MODEL_DIR
        if "/" in version or version.startswith("."):
            raise VersionError(f"bad version name {version!r}")
        return self.root / version

    def active_dir(self) -> Path | None:
        """The folder to load, or None for the default (no version promoted yet)."""
        version = self.active()
        return self.path(version) if version else None

    def exists(self, version: str) -> bool:
        return (self.path(version) / META_FILE).is_file()

    def versions(self) -> list[VersionInfo]:
        """Built versions, newest first (the shipped model last)."""
        found: list[VersionInfo] = []
        if self.root.is_dir():
            for folder in self.root.iterdir():
                if folder.is_dir() and (folder / META_FILE).is_file():
                    found.append(self._info(folder.name, folder))
        found.sort(key=lambda info: info.created_at, reverse=True)
        if (DEFAULT_MODEL_DIR / META_FILE).is_file():
            found.append(self._info(SHIPPED, DEFAULT_MODEL_DIR))
        return found

    def info(self, version: str) -> VersionInfo:
        if not self.exists(version):
            raise VersionError(f"no model version {version!r}")
        return self._info(version, self.path(version))

    def promote(self, version: str, *, actor: str, note: str = "", action: str = "promote") -> None:
        if not self.exists(version):
            raise VersionError(f"no model version {version!r}")
        self.point_to(version, actor=actor, action=action, note=note)

    def _info(self, version: str, folder: Path) -> VersionInfo:
        evaluation: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            evaluation = json.loads((folder / EVALUATION).read_text(encoding="utf-8"))
        created = datetime.fromtimestamp((folder / META_FILE).stat().st_mtime, UTC).isoformat()
        return VersionInfo(version, folder, str(evaluation.get("created_at", created)), evaluation)
