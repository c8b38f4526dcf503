"""The learned model: a spaCy pipeline of text classifiers, one per decision.

Components (all `spacy.TextCatBOW.v3` over the script tokenizer, see tokenizer.py):
`textcat_validity` (exclusive: valid + content reasons), `textcat_severity` (exclusive),
`textcat_department` (exclusive, trained on valid records only) and `textcat_flags`
(multi-label). Every score lands in `doc.cats` under a prefixed key ("department:quality"),
so the components never collide. A missing or unreadable model is reported, never raised:
the classifier then runs on rules alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

import classifiers.tokenizer  # noqa: F401  (registers the tokenizer spacy.load needs)
from classifiers.inputs import ClassifierInput
from classifiers.text import normalise

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).parent / "model"
META_FILE = "classifier.json"
# Per-flag thresholds calibrated on a held-out split of the training corpus
# (`python -m classifiers.calibration`); a model's own meta, when it has them, wins.
CALIBRATION_FILE = Path(__file__).parent / "data" / "calibration.json"
CHANNEL_MARKER = "channel"

COMPONENTS = {
    "validity": "textcat_validity",
    "severity": "textcat_severity",
    "department": "textcat_department",
    "flag": "textcat_flags",
}
# Reasons the model learns from text. `no_contact` is structural (is there a contact?), so
# its records train as the content they carry.
STRUCTURAL_REASONS = frozenset({"no_contact"})


def model_text(item: ClassifierInput) -> str:
    """The one string both rules and model read: channel marker, subject and body, normalised."""
    marker = f"{CHANNEL_MARKER}{item.channel}" if item.channel else ""
    parts = [marker, item.subject or "", item.text or ""]
    return normalise("\n".join(part for part in parts if part))


class ModelError(Exception):
    """The model directory is missing or unusable."""


@dataclass
class TextModel:
    """A loaded model pipeline and its metadata."""

    nlp: Language
    version: str
    meta: dict[str, Any]

    @classmethod
    def load(cls, model_dir: Path) -> TextModel:
        """Load or raise `ModelError` with a one-line reason."""
        meta_path = model_dir / META_FILE
        if not meta_path.is_file():
            raise ModelError(f"missing: no {META_FILE} in {model_dir}")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            nlp = spacy.load(model_dir)
        except Exception as error:  # any unreadable file means "corrupt", not a crash
            raise ModelError(f"corrupt: {type(error).__name__}: {str(error)[:200]}") from error
        missing = [name for name in COMPONENTS.values() if name not in nlp.pipe_names]
        if missing:
            raise ModelError(f"corrupt: components missing: {', '.join(missing)}")
        return cls(nlp=nlp, version=str(meta.get("model_version", "unknown")), meta=meta)

    def predict(self, docs: Sequence[Doc]) -> list[dict[str, float]]:
        """Scores for already tokenised docs (tokenised by `self.nlp.make_doc`)."""
        stream = list(docs)
        for _name, component in self.nlp.pipeline:
            stream = list(component.pipe(stream, batch_size=256))  # type: ignore[attr-defined]
        return [dict(doc.cats) for doc in stream]


def read_calibration(path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    """The stored calibration (empty when there is none or it cannot be read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def flag_thresholds(meta: dict[str, Any] | None, path: Path = CALIBRATION_FILE) -> dict[str, float]:
    """Per-flag model thresholds: the model meta's `flag_thresholds`, else the stored file's."""
    raw = (meta or {}).get("flag_thresholds") or read_calibration(path).get("flag_thresholds")
    if not isinstance(raw, dict):
        return {}
    return {str(flag): float(value) for flag, value in raw.items()}


def attach_calibration(model_dir: Path, path: Path = CALIBRATION_FILE) -> dict[str, float]:
    """Copy the stored per-flag thresholds into a trained model's meta, so the model carries
    them wherever it is promoted. Training calls this after writing `classifier.json`."""
    thresholds = flag_thresholds(None, path)
    meta_path = model_dir / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if thresholds:
        meta["flag_thresholds"] = thresholds
        meta["calibration"] = read_calibration(path).get("method", "")
        meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    return thresholds


def textcat_config(exclusive: bool, ngram_size: int, length: int) -> dict[str, Any]:
    return {
        "threshold": 0.5,
        "model": {
            "@architectures": "spacy.TextCatBOW.v3",
            "exclusive_classes": exclusive,
            "ngram_size": ngram_size,
            "no_output_layer": False,
            "length": length,
        },
    }


def log_status(status: str) -> None:
    if status != "loaded":
        log.warning("classifier model %s; running on rules only", status)
