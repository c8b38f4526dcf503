"""Per-flag model thresholds, calibrated on a held-out split of the training corpus.

The multi-label flag scores of a bag-of-words model start from a bias (0.2-0.45 by channel),
so one shared threshold lets a text with few words raise flags it never mentions. Each flag
instead gets a threshold from the held-out fifth of the training corpus, scored by a model
trained on the other four fifths:
- never below the model's score for a text with no words (the channel marker alone, highest
  over channels): below it, the bias would speak, not the text;
- above that floor, the F-beta (beta 2: a missed major complaint costs more than a needless
  escalation) of the final flag decision (rules + model) is maximised; the threshold is the
  middle of the best-scoring range, the widest margin either side.
Never run on evaluation data.

    python -m classifiers.training --holdout 0.2 --out /tmp/holdout-model
    python -m classifiers.calibration --model /tmp/holdout-model   # → data/calibration.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.classifier import Classifier, load_classifier
from classifiers.corpus import DEFAULT_TRAIN_DIRS, LabelledExample, load_examples
from classifiers.inputs import ClassifierInput
from classifiers.model import CALIBRATION_FILE, model_text
from classifiers.training import load_train_config, split_holdout

BETA = 2.0
GRID = [round(0.01 * step, 2) for step in range(1, 96)]  # 0.01 … 0.95
CHANNELS = ("api", "email", "hotline", "social", "webform", "letter")


@dataclass(frozen=True)
class Row:
    """What the flag decision sees for one held-out record."""

    gold: frozenset[str]
    rule: dict[str, float]
    prob: dict[str, float]
    evidence: bool  # enough known words for a model-only flag
    flaggable: bool  # the record is not decided spam / not_a_complaint


def collect(classifier: Classifier, examples: Sequence[LabelledExample]) -> list[Row]:
    """Rule scores, model probabilities and the evidence gate for every held-out record."""
    flags = classifier.taxonomy.flags
    least = int(classifier.decider.config["flags"].get("min_known_tokens", 0))
    rows: list[Row] = []
    decisions = classifier.classify_many([e.item for e in examples])
    docs = [classifier.nlp.make_doc(model_text(e.item)) for e in examples]
    cats = classifier.model.predict(docs) if classifier.model else [{} for _ in docs]
    for example, doc, cat, decision in zip(examples, docs, cats, decisions, strict=True):
        rules = classifier.rules.apply(doc)
        known = classifier.known_tokens(doc, example.item.channel)
        rows.append(
            Row(
                gold=frozenset(example.labels.flags),
                rule={f: rules.score(f"flag:{f}") for f in flags},
                prob={f: cat.get(f"flag:{f}", 0.0) for f in flags},
                evidence=known >= least,
                flaggable=decision.reason not in classifier.taxonomy.minor_reasons,
            )
        )
    return rows


def fires(row: Row, flag: str, threshold: float, weak: float) -> bool:
    """The flag decision of `Decider.flags` for one flag at one model threshold."""
    if not row.flaggable:
        return False
    rule, prob = row.rule[flag], row.prob[flag]
    if rule >= 1.0:
        return True
    return row.evidence and (prob >= threshold or (rule >= 0.5 and prob >= weak))


def f_beta(rows: Sequence[Row], flag: str, threshold: float, weak: float) -> dict[str, float]:
    tp = fp = fn = 0
    for row in rows:
        predicted, gold = fires(row, flag, threshold, weak), flag in row.gold
        tp += predicted and gold
        fp += predicted and not gold
        fn += gold and not predicted
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    b2 = BETA * BETA
    score = (1 + b2) * precision * recall / (b2 * precision + recall) if tp else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f_beta": round(score, 4)}


def choose(rows: Sequence[Row], flag: str, weak: float, floor: float = 0.0) -> float:
    """The middle of the best F-beta range of thresholds above `floor` on the held-out rows."""
    grid = [t for t in GRID if t > floor] or GRID[-1:]
    scores = [f_beta(rows, flag, threshold, weak)["f_beta"] for threshold in grid]
    best = max(scores)
    # The first maximal run of thresholds: all separate the held-out rows equally well.
    start = scores.index(best)
    end = start
    while end + 1 < len(grid) and scores[end + 1] == best:
        end += 1
    return round((grid[start] + grid[end]) / 2, 2)


def content_free(classifier: Classifier) -> dict[str, float]:
    """Per flag, the model's highest score for a text with no words (channel marker only)."""
    if classifier.model is None:
        return {}
    items = [ClassifierInput(text="", channel=channel) for channel in CHANNELS]
    cats = classifier.model.predict([classifier.nlp.make_doc(model_text(i)) for i in items])
    return {
        flag: round(max(cat.get(f"flag:{flag}", 0.0) for cat in cats), 3)
        for flag in classifier.taxonomy.flags
    }


def major_recall(rows: Sequence[Row], thresholds: dict[str, float], weak: float) -> float:
    gold_major = [row for row in rows if row.gold]
    hit = sum(1 for row in gold_major if any(fires(row, f, thresholds[f], weak) for f in row.prob))
    return round(hit / len(gold_major), 3) if gold_major else 1.0


def calibrate(model_dir: Path, fraction: float = 0.2) -> dict[str, Any]:
    """Thresholds and the held-out figures behind them (before: one shared threshold)."""
    seed = int(load_train_config()["seed"])
    _, held = split_holdout(load_examples(DEFAULT_TRAIN_DIRS), fraction, seed)
    classifier = load_classifier(model_dir=model_dir)
    if classifier.model is None:
        raise SystemExit(f"no model in {model_dir}: {classifier.status['model']}")
    cfg = classifier.decider.config["flags"]
    weak, shared = float(cfg["weak_rule_model"]), float(cfg["model_threshold"])
    rows = collect(classifier, held)
    flags = classifier.taxonomy.flags
    floor = content_free(classifier)
    chosen = {flag: choose(rows, flag, weak, floor.get(flag, 0.0)) for flag in flags}
    before = {flag: f_beta(rows, flag, shared, weak) for flag in flags}
    after = {flag: f_beta(rows, flag, chosen[flag], weak) for flag in flags}
    return {
        "method": f"F{BETA:g} per flag on a {fraction:g} held-out split (seed {seed})",
        "held_out_records": len(rows),
        "holdout_model": classifier.status["model_version"],
        "flag_thresholds": chosen,
        "content_free_scores": floor,
        "held_out": {
            "shared_threshold": shared,
            "before": before,
            "after": after,
            "major_recall_before": major_recall(rows, dict.fromkeys(flags, shared), weak),
            "major_recall_after": major_recall(rows, chosen, weak),
        },
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Calibrate per-flag model thresholds.")
    parser.add_argument("--model", type=Path, required=True, help="model trained with --holdout")
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args(argv)
    result = calibrate(args.model, args.holdout)
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
