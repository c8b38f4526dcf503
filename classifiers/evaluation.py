"""Scoring decisions against labels: per-label precision/recall/F1, macro-F1, major recall,
validity accuracy and the department confusion matrix (the figures issue 4 asks for)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from classifiers.corpus import Labels
from classifiers.taxonomy import Taxonomy
from storage.records import Classification

NONE = "-"


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    count: int
    validity_accuracy: float
    reason: dict[str, Score]
    severity: dict[str, Score]
    department: dict[str, Score]
    flags: dict[str, Score]
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)

    @staticmethod
    def macro(scores: dict[str, Score]) -> float:
        values = [s.f1 for s in scores.values()]
        return sum(values) / len(values) if values else 0.0

    @property
    def department_macro_f1(self) -> float:
        return self.macro(self.department)

    @property
    def reason_macro_f1(self) -> float:
        return self.macro(self.reason)

    @property
    def severity_macro_f1(self) -> float:
        return self.macro(self.severity)

    @property
    def major_recall(self) -> float:
        return self.severity["major"].recall if "major" in self.severity else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "department_macro_f1": round(self.department_macro_f1, 4),
            "validity_accuracy": round(self.validity_accuracy, 4),
            "reason_macro_f1": round(self.reason_macro_f1, 4),
            "severity_macro_f1": round(self.severity_macro_f1, 4),
            "major_recall": round(self.major_recall, 4),
        }


def _scores(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, Score]:
    """One-vs-rest scores; values outside `labels` (e.g. "-") only count as errors."""
    out: dict[str, Score] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = Score(round(precision, 4), round(recall, 4), round(f1, 4), tp + fn)
    return out


def evaluate(
    golds: Sequence[Labels], preds: Sequence[Classification], taxonomy: Taxonomy
) -> Report:
    """Compare decisions with labels, record by record (same order)."""
    if len(golds) != len(preds):
        raise ValueError("golds and preds differ in length")
    count = len(golds)
    validity_ok = sum(1 for g, p in zip(golds, preds, strict=True) if g.validity == p.validity)
    gold_reason = [g.reason if g.validity == "invalid" and g.reason else NONE for g in golds]
    pred_reason = [p.reason if p.validity == "invalid" and p.reason else NONE for p in preds]
    gold_dept = [g.department or NONE for g in golds]
    pred_dept = [p.department or NONE for p in preds]
    departments = taxonomy.department_names
    confusion = {g: {p: 0 for p in [*departments, NONE]} for g in [*departments, NONE]}
    for g, p in zip(gold_dept, pred_dept, strict=True):
        confusion.setdefault(g, {}).setdefault(p, 0)
        confusion[g][p] += 1
    flags: dict[str, Score] = {}
    for flag in taxonomy.flags:
        gold_flag = [flag if flag in g.flags else NONE for g in golds]
        pred_flag = [flag if flag in p.flags else NONE for p in preds]
        flags.update(_scores(gold_flag, pred_flag, [flag]))
    return Report(
        count=count,
        validity_accuracy=validity_ok / count if count else 0.0,
        reason=_scores(gold_reason, pred_reason, taxonomy.invalid_reasons),
        severity=_scores(
            [g.severity for g in golds], [p.severity for p in preds], taxonomy.severities
        ),
        department=_scores(gold_dept, pred_dept, departments),
        flags=flags,
        confusion=confusion,
    )


def _table(title: str, scores: dict[str, Score]) -> list[str]:
    lines = [f"{title:<18} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}"]
    for label, s in scores.items():
        lines.append(
            f"  {label:<16} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} {s.support:>7d}"
        )
    lines.append(f"  {'macro-F1':<16} {'':>9} {'':>7} {Report.macro(scores):>6.3f}")
    return lines


def format_report(report: Report) -> str:
    """A plain-text report for the terminal."""
    lines = [f"records: {report.count}", ""]
    lines += [*_table("validity reason", report.reason), ""]
    lines += [*_table("severity", report.severity), ""]
    lines += [*_table("flag", report.flags), ""]
    lines += [*_table("department", report.department), ""]
    labels = list(report.confusion)
    width = max(6, *(len(label) for label in labels)) + 1
    header = "gold \\ pred".ljust(width + 2) + "".join(label[:8].rjust(9) for label in labels)
    lines += ["department confusion (rows: gold, columns: predicted; - = none/invalid)", header]
    for gold in labels:
        row = report.confusion[gold]
        lines.append(f"  {gold:<{width}}" + "".join(f"{row.get(p, 0):>9d}" for p in labels))
    lines += [""] + [f"{key}: {value:.4f}" for key, value in report.summary().items()]
    return "\n".join(lines)
