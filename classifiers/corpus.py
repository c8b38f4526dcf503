"""Labelled examples: reading LABELS.md-format JSONL files for training and evaluation."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.inputs import ClassifierInput

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_TRAIN_DIRS = (DATA_DIR / "train", DATA_DIR / "extra", DATA_DIR / "corrections")


@dataclass(frozen=True)
class Labels:
    validity: str
    reason: str | None
    severity: str
    flags: tuple[str, ...]
    department: str | None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Labels:
        return cls(
            validity=str(raw.get("validity") or "valid"),
            reason=raw.get("reason"),
            severity=str(raw.get("severity") or "general"),
            flags=tuple(raw.get("flags") or ()),
            department=raw.get("department"),
        )


@dataclass(frozen=True)
class LabelledExample:
    item: ClassifierInput
    labels: Labels
    source: str
    # The model components this example teaches ("validity", "severity", "department",
    # "flag"); None: all its labels. A correction's extra copies teach only what changed.
    tasks: frozenset[str] | None = None


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of one file; a broken line is logged and skipped, never fatal."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                log.warning("skipping %s:%d: %s", path.name, number, error)
                continue
            if isinstance(record, dict):
                yield record


def load_examples(paths: Iterable[Path]) -> list[LabelledExample]:
    """Labelled records from files or directories of `*.jsonl` (missing paths are skipped)."""
    examples: list[LabelledExample] = []
    for path in paths:
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path] if path.exists() else []
        for file in files:
            for record in read_jsonl(file):
                labels = record.get("labels")
                if not isinstance(labels, dict):
                    continue
                examples.append(
                    LabelledExample(
                        ClassifierInput.from_record(record), Labels.from_dict(labels), file.name
                    )
                )
    return examples
