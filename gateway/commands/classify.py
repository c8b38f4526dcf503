"""`complaint-gateway classify`, `evaluate` and `train`: the classifier on JSONL files.

Input lines follow ../shared/LABELS.md: `text` plus optional `id`, `channel`, `subject`,
`complainant`, `received_at`, `hints`; `evaluate` also needs `labels`. These commands touch no
database and no network, so they run anywhere the package is installed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

_CONFIG = click.option(
    "--taxonomy",
    "taxonomy_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Taxonomy YAML (rules.yaml / decision.yaml beside it override the shipped ones).",
)
_MODEL = click.option(
    "--model-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Trained model directory (default: the package's classifiers/model).",
)
_BATCH = 256


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(line number, record or None for a line that is not a JSON object)."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                yield number, None
                continue
            yield number, record if isinstance(record, dict) else None


def _decision_json(record_id: Any, decision: Any) -> dict[str, Any]:
    return {
        "id": record_id,
        "validity": decision.validity,
        "reason": decision.reason,
        "severity": decision.severity,
        "flags": decision.flags,
        "department": decision.department,
        "confidence": decision.confidence,
        "needs_review": decision.needs_review,
        "explanation": decision.explanation,
        "entities": decision.entities,
        "rules_version": decision.rules_version,
        "model_version": decision.model_version,
    }


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_CONFIG
@_MODEL
def classify(file: Path, taxonomy_path: Path | None, model_dir: Path | None) -> None:
    """Print one decision per input line (JSON), in input order."""
    from classifiers import ClassifierInput, load_classifier

    clf = load_classifier(config_path=taxonomy_path, model_dir=model_dir)
    pending: list[tuple[Any, ClassifierInput]] = []

    def flush() -> None:
        decisions = clf.classify_many([item for _, item in pending])
        for (record_id, _), decision in zip(pending, decisions, strict=True):
            click.echo(json.dumps(_decision_json(record_id, decision), ensure_ascii=False))
        pending.clear()

    for number, record in _records(file):
        if record is None:
            flush()
            click.echo(json.dumps({"id": None, "line": number, "error": "not a JSON object"}))
            continue
        pending.append((record.get("id"), ClassifierInput.from_record(record)))
        if len(pending) >= _BATCH:
            flush()
    flush()


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_CONFIG
@_MODEL
@click.option(
    "--min-department-f1", type=float, default=None, help="Fail below this department macro-F1."
)
@click.option(
    "--min-major-recall", type=float, default=None, help="Fail below this major-severity recall."
)
@click.option(
    "--min-validity-acc", type=float, default=None, help="Fail below this validity accuracy."
)
@click.option(
    "--min-reason-f1", type=float, default=None, help="Fail below this invalid-reason macro-F1."
)
@click.option(
    "--min-severity-f1", type=float, default=None, help="Fail below this severity macro-F1."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary figures as JSON.")
def evaluate(
    file: Path,
    taxonomy_path: Path | None,
    model_dir: Path | None,
    min_department_f1: float | None,
    min_major_recall: float | None,
    min_validity_acc: float | None,
    min_reason_f1: float | None,
    min_severity_f1: float | None,
    as_json: bool,
) -> None:
    """Score the classifier on a labelled file; exit 1 when below a given threshold."""
    from classifiers import ClassifierInput, load_classifier
    from classifiers.corpus import Labels
    from classifiers.evaluation import evaluate as score
    from classifiers.evaluation import format_report

    clf = load_classifier(config_path=taxonomy_path, model_dir=model_dir)
    items: list[ClassifierInput] = []
    golds: list[Labels] = []
    for _number, record in _records(file):
        if record is None or not isinstance(record.get("labels"), dict):
            continue
        items.append(ClassifierInput.from_record(record))
        golds.append(Labels.from_dict(record["labels"]))
    if not items:
        raise click.ClickException(f"no labelled records in {file}")
    report = score(golds, clf.classify_many(items), clf.taxonomy)
    summary = report.summary()
    if as_json:
        click.echo(json.dumps({**summary, "records": report.count, "status": clf.status}))
    else:
        click.echo(f"classifier: {json.dumps(clf.status)}")
        click.echo(format_report(report))
    limits = {
        "department_macro_f1": min_department_f1,
        "major_recall": min_major_recall,
        "validity_accuracy": min_validity_acc,
        "reason_macro_f1": min_reason_f1,
        "severity_macro_f1": min_severity_f1,
    }
    failed = [
        f"{key} {summary[key]:.4f} < {limit}"
        for key, limit in limits.items()
        if limit is not None and summary[key] < limit
    ]
    if failed:
        click.echo("below threshold: " + "; ".join(failed), err=True)
        sys.exit(1)


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the model (default: the package's classifiers/model).",
)
@click.option(
    "--data",
    type=click.Path(exists=True, path_type=Path),
    multiple=True,
    help="Labelled JSONL files or folders (default: the shipped corpus and corrections).",
)
@click.option(
    "--if-changed",
    is_flag=True,
    help="Do nothing when the installed model was built from the same data and config.",
)
@_CONFIG
def train(
    out: Path | None, data: tuple[Path, ...], if_changed: bool, taxonomy_path: Path | None
) -> None:
    """Train the learned model from labelled data (reproducible, CPU only)."""
    from classifiers.corpus import DEFAULT_TRAIN_DIRS
    from classifiers.model import DEFAULT_MODEL_DIR
    from classifiers.training import train_default

    report = train_default(
        out_dir=out or DEFAULT_MODEL_DIR,
        data=list(data) or list(DEFAULT_TRAIN_DIRS),
        taxonomy_path=taxonomy_path,
        only_if_changed=if_changed,
    )
    if report is None:
        click.echo("model is up to date with its training data")
        return
    click.echo(
        f"trained {report.model_version} on {report.examples} examples "
        f"in {report.seconds:.1f}s -> {report.model_dir}"
    )


COMMANDS = [classify, evaluate, train]
