"""Build a model version from the shipped corpus plus supervisors' corrections, and decide
whether it may go live.

The gate: on a fixed regression slice of the shipped corpus (never trained on by any
retrained version) no label's F1 may fall by more than `margin` against the baseline, and on
the held-out corrections (a stable hash picks them, so a correction is held out in every run
or in none) the candidate must be at least as right as the baseline. The baseline is the
active version; when the active model is the shipped one (trained on the regression slice
too, so its scores there flatter it) a `base-…` version is built once from the same split
without corrections and stands in for it.

The candidate is the baseline updated (`training.fine_tune`): only the components whose
labels the corrections changed, on the corrections beside a replayed sample of the corpus;
training from scratch is the fallback when the baseline cannot be read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from classifiers.corpus import LabelledExample, Labels, load_examples
from classifiers.evaluation import Report, evaluate
from classifiers.inputs import ClassifierInput
from classifiers.taxonomy import Taxonomy
from classifiers.training import (
    data_version,
    fine_tune,
    load_train_config,
    split_holdout,
    train,
)
from classifiers.versions import EVALUATION, SHIPPED, ModelStore, write_atomic
from storage.records import Classification

log = logging.getLogger(__name__)
ON_FILE = {"email": "on-file@example.invalid"}


class RetrainError(ValueError):
    """The retrain cannot run (too few corrections, no training data)."""


class Predictor(Protocol):
    def classify_many(self, items: Sequence[ClassifierInput]) -> list[Classification]: ...


@dataclass(frozen=True)
class RetrainOptions:
    margin: float = 0.02
    min_corrections: int = 10
    holdout_every: int = 4
    correction_weight: int = 1
    regression_fraction: float = 0.15
    epochs: int | None = None
    finetune_epochs: int = 6
    replay: float = 6.0
    finetune_batch_size: int = 0  # 0: one step per pass over the whole set
    finetune_learn_rate: float = 0.002
    hard_negatives: float = 0.0


@dataclass
class RetrainOutcome:
    version: str
    promoted: bool
    baseline: str
    message: str
    seconds: float
    examples: int
    corrections_trained: int
    corrections_held_out: int
    regression: dict[str, dict[str, float]] = field(default_factory=dict)  # label → before/after
    heldout: dict[str, float] = field(default_factory=dict)  # baseline/candidate accuracy
    drops: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def held_out(reference: str, every: int) -> bool:
    """Stable membership: the same correction is held out in every retrain."""
    return int(hashlib.sha256(reference.encode()).hexdigest()[:8], 16) % every == 0


def correction_examples(rows: Sequence[dict[str, Any]]) -> list[LabelledExample]:
    """Rows of `storage.corrections.examples_since` as labelled examples (latest per record)."""
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        latest[str(row.get("reference") or row.get("text"))] = row
    return [
        LabelledExample(
            ClassifierInput(
                text=str(row.get("text") or ""),
                id=key,
                # The record had its contact details; only the text was kept for training.
                complainant={} if row.get("reason") == "no_contact" else ON_FILE,
            ),
            Labels.from_dict(row),
            "correction",
            # Read by `weighted`: only the changed labels get the extra weight.
            tasks=corrected_tasks(row) or None,
        )
        for key, row in sorted(latest.items())
    ]


def changed_tasks(examples: Sequence[LabelledExample]) -> list[str]:
    """The components any of the corrections changed a label of.

    Why only those: a component none of the corrections changed would be refitted on the
    baseline's own data plus examples of its own guesses, which teaches it nothing; fitted
    again from scratch it comes out different anyway (another order of the examples) and
    flips some of its borderline decisions at random. On a regression set with twenty-odd
    examples per label one flip moves F1 by more than the margin, so the gate would judge
    that noise instead of the correction. The baseline's component is kept as it is.
    """
    found: set[str] = set()
    for example in examples:
        found |= example.tasks if example.tasks is not None else set(TASK_FIELDS)
    return sorted(found)


def weighted(examples: Sequence[LabelledExample], weight: int) -> list[LabelledExample]:
    """Corrections as training data: once with all their labels, as any example, plus
    `weight - 1` copies that teach only the labels the supervisor changed.

    Why: a correction that moves a department leaves severity, flags and validity as the
    model guessed them; repeating those guesses `weight` times would teach the model its own
    guesses as strongly as the supervisor's fix, and move labels nobody corrected.
    """
    out = [LabelledExample(e.item, e.labels, "correction-0") for e in examples]
    for copy in range(1, weight):
        out.extend(
            LabelledExample(e.item, e.labels, f"correction-{copy}", e.tasks)
            for e in examples
            if e.tasks
        )
    return out


TASK_FIELDS = {
    "validity": ("validity", "reason"),
    "severity": ("severity",),
    "flag": ("flags",),
    "department": ("department",),
}


def corrected_tasks(row: dict[str, Any]) -> frozenset[str]:
    """The model components whose labels the supervisor changed (all when unknown)."""
    previous = row.get("previous")
    if not isinstance(previous, dict):
        return frozenset(TASK_FIELDS)

    def same(name: str) -> bool:
        before, after = previous.get(name), row.get(name)
        if name == "flags":
            return sorted(before or []) == sorted(after or [])
        return before == after

    return frozenset(task for task, names in TASK_FIELDS.items() if not all(same(n) for n in names))


def per_label_f1(report: Report) -> dict[str, float]:
    """F1 of every label that has support in the evaluation set."""
    out: dict[str, float] = {}
    for family, scores in (
        ("department", report.department),
        ("reason", report.reason),
        ("severity", report.severity),
        ("flag", report.flags),
    ):
        for label, score in scores.items():
            if score.support:
                out[f"{family}:{label}"] = score.f1
    return out


def corrected_accuracy(
    examples: Sequence[LabelledExample], preds: Sequence[Classification]
) -> float:
    """Share of corrections whose corrected labels the model now gives (department for a
    valid record, the reason for an invalid one, severity and flags)."""
    if not examples:
        return 0.0
    right = 0
    for example, pred in zip(examples, preds, strict=True):
        gold = example.labels
        if gold.validity == "valid":
            ok = pred.validity == "valid" and pred.department == gold.department
        else:
            ok = pred.validity == "invalid" and pred.reason == gold.reason
        right += ok and pred.severity == gold.severity
    return right / len(examples)


def gate(before: dict[str, float], after: dict[str, float], margin: float) -> list[str]:
    """Labels whose F1 fell by more than `margin` (empty: the candidate may go live)."""
    return [
        f"{label}: {before[label]:.3f} → {after.get(label, 0.0):.3f}"
        for label in sorted(before)
        if after.get(label, 0.0) < before[label] - margin - 1e-9
    ]


@dataclass
class Retrainer:
    """Everything a retrain needs; `classifier_for(model_dir)` builds a predictor with the
    deployment's live rules, so evaluation sees what production would decide."""

    store: ModelStore
    taxonomy: Taxonomy
    train_dirs: Sequence[Path]
    classifier_for: Callable[[Path], Predictor]
    options: RetrainOptions = field(default_factory=RetrainOptions)
    config_path: Path | None = None

    def config(self) -> dict[str, Any]:
        config = load_train_config(self.config_path)
        if self.options.epochs is not None:
            config["epochs"] = self.options.epochs
        return config

    def split(self) -> tuple[list[LabelledExample], list[LabelledExample]]:
        shipped = load_examples(self.train_dirs)
        if not shipped:
            raise RetrainError(f"no training data in {', '.join(map(str, self.train_dirs))}")
        seed = int(self.config()["seed"])
        return split_holdout(shipped, self.options.regression_fraction, seed)

    def run(self, corrections: Sequence[dict[str, Any]], *, actor: str) -> RetrainOutcome:
        """Train, evaluate, promote when the gate passes; raise RetrainError before any work
        when the data are not enough."""
        started = time.perf_counter()
        examples = correction_examples(corrections)
        if len(examples) < self.options.min_corrections:
            raise RetrainError(
                f"{len(examples)} corrections; a retrain needs at least "
                f"{self.options.min_corrections}"
            )
        every = self.options.holdout_every
        held = [e for e in examples if held_out(e.item.id or "", every)]
        fitted = [e for e in examples if not held_out(e.item.id or "", every)]
        shipped_train, regression = self.split()
        config = self.config()
        baseline = self._baseline(shipped_train, regression, config)
        fixes = weighted(fitted, self.options.correction_weight)
        data = shipped_train + fixes
        changed = changed_tasks(fitted)
        # The baseline updated where the corrections changed labels; the rest kept as is.
        tuning = {
            **config,
            "finetune_epochs": self.options.finetune_epochs,
            "replay": self.options.replay,
            "hard_negatives": self.options.hard_negatives,
            "finetune_learn_rate": self.options.finetune_learn_rate,
            "finetune_batch_size": self.options.finetune_batch_size,
        }
        version = data_version(data, {**tuning, "from": baseline.name, "tasks": changed})
        folder = self.store.path(version)
        if not self.store.exists(version):
            try:
                fine_tune(
                    baseline, fixes, shipped_train, folder, self.taxonomy, tuning,
                    tasks=changed, version=version,
                )  # fmt: skip
            except (OSError, ValueError, KeyError) as error:  # unreadable or other labels
                log.warning("cannot update %s (%s); training from scratch", baseline, error)
                train(data, folder, self.taxonomy, config, version=version)
        before_reg = self._scores(baseline, regression)
        after_reg = self._scores(folder, regression)
        drops = gate(before_reg, after_reg, self.options.margin)
        heldout = {}
        if held:
            heldout = {
                "baseline": round(self._accuracy(baseline, held), 4),
                "candidate": round(self._accuracy(folder, held), 4),
            }
            if heldout["candidate"] < heldout["baseline"]:
                drops.append(
                    f"held-out corrections: {heldout['baseline']:.3f} → {heldout['candidate']:.3f}"
                )
        promoted = not drops
        outcome = RetrainOutcome(
            version=version,
            promoted=promoted,
            baseline=baseline.name,
            message=(
                "promoted: no label fell more than the margin"
                if promoted
                else "kept the current version: " + "; ".join(drops)
            ),
            seconds=round(time.perf_counter() - started, 1),
            examples=len(data),
            corrections_trained=len(fitted),
            corrections_held_out=len(held),
            regression={
                label: {"before": before_reg[label], "after": after_reg.get(label, 0.0)}
                for label in sorted(before_reg)
            },
            heldout=heldout,
            drops=drops,
        )
        self._write_evaluation(folder, outcome, actor)
        if promoted:
            self.store.promote(version, actor=actor, note=outcome.message)
        return outcome

    def _baseline(
        self,
        shipped_train: list[LabelledExample],
        regression: list[LabelledExample],
        config: dict[str, Any],
    ) -> Path:
        active = self.store.active()
        if active and active != SHIPPED and self.store.exists(active):
            return self.store.path(active)
        version = "base-" + data_version(shipped_train, config).removeprefix("model-")
        folder = self.store.path(version)
        if not self.store.exists(version):
            train(shipped_train, folder, self.taxonomy, config)
            scores = self._scores(folder, regression)
            write_atomic(
                folder / EVALUATION,
                json.dumps({"created_at": _now(), "base": True, "regression_f1": scores}),
            )
        return folder

    def _predict(self, model_dir: Path, items: Sequence[LabelledExample]) -> list[Classification]:
        return self.classifier_for(model_dir).classify_many([e.item for e in items])

    def _scores(self, model_dir: Path, items: Sequence[LabelledExample]) -> dict[str, float]:
        preds = self._predict(model_dir, items)
        return per_label_f1(evaluate([e.labels for e in items], preds, self.taxonomy))

    def _accuracy(self, model_dir: Path, items: Sequence[LabelledExample]) -> float:
        return corrected_accuracy(items, self._predict(model_dir, items))

    def _write_evaluation(self, folder: Path, outcome: RetrainOutcome, actor: str) -> None:
        document = {
            "created_at": _now(),
            "actor": actor,
            **outcome.as_dict(),
            "regression_f1": {k: v["after"] for k, v in outcome.regression.items()},
        }
        write_atomic(folder / EVALUATION, json.dumps(document, ensure_ascii=False, indent=1))


def _now() -> str:
    return datetime.now(UTC).isoformat()
