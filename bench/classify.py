"""Classifier benchmark: quality on a labelled set and the speed / load / memory targets.

    .venv/bin/python bench/classify.py [FILE.jsonl] [--model-dir DIR]

Prints department macro-F1, validity accuracy, invalid-reason macro-F1, severity macro-F1,
major-severity recall, the department confusion matrix, classifications per second on one
core (entity extraction included), model load time and the resident memory of a process with
the model loaded. Default file: ../shared/devset/complaints.jsonl (evaluation only).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_FILE = ROOT.parent / "shared" / "devset" / "complaints.jsonl"
TARGETS = {
    "department_macro_f1": 0.85,
    "validity_accuracy": 0.90,
    "reason_macro_f1": 0.75,
    "severity_macro_f1": 0.80,
    "major_recall": 0.97,
}


def _rss_probe(model_dir: str | None) -> dict[str, float]:
    """Load time and RSS measured in a fresh process, so this script's own imports don't count."""
    code = (
        "import time, resource, json, sys\n"
        "t = time.perf_counter()\n"
        "from pathlib import Path\n"
        "from classifiers import load_classifier, ClassifierInput\n"
        "imported = time.perf_counter()\n"
        f"clf = load_classifier(model_dir={model_dir!r} and Path({model_dir!r}))\n"
        "loaded = time.perf_counter()\n"
        "clf.classify(ClassifierInput(text='冰箱漏水', complainant={'phone': '13812345678'}))\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'import_s': imported - t, 'load_s': loaded - imported, 'rss_mb': rss,"
        " 'model': clf.status['model']}))\n"
    )
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--model-dir", default=None)
    parser.add_argument(
        "--repeat", type=int, default=5, help="passes over the file for the speed test"
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    from classifiers import ClassifierInput, load_classifier
    from classifiers.corpus import Labels, read_jsonl
    from classifiers.evaluation import evaluate, format_report

    probe = _rss_probe(args.model_dir)
    clf = load_classifier(model_dir=Path(args.model_dir) if args.model_dir else None)
    records = list(read_jsonl(args.file))
    items = [ClassifierInput.from_record(r) for r in records]
    labelled = [
        (item, Labels.from_dict(r["labels"]))
        for item, r in zip(items, records, strict=True)
        if isinstance(r.get("labels"), dict)
    ]

    print(f"classifier: {json.dumps(clf.status)}")
    print(f"file: {args.file} ({len(items)} records)\n")
    if labelled:
        report = evaluate(
            [g for _, g in labelled], clf.classify_many([i for i, _ in labelled]), clf.taxonomy
        )
        print(format_report(report))
        print()
        for key, target in TARGETS.items():
            value = report.summary()[key]
            verdict = "ok" if value >= target else "BELOW"
            print(f"  {key:<22} {value:.4f}  target >= {target:.2f}  {verdict}")

    clf.classify_many(items[:50])  # warm-up
    started = time.perf_counter()
    done = 0
    for _ in range(args.repeat):
        done += len(clf.classify_many(items))
    per_second = done / (time.perf_counter() - started)
    started = time.perf_counter()
    for item in items[:200]:
        clf.classify(item)
    single = min(200, len(items)) / (time.perf_counter() - started)
    print()
    print(f"  throughput (batch, one core)  {per_second:,.0f} classifications/s  target >= 500")
    print(f"  throughput (one at a time)    {single:,.0f} classifications/s")
    load, imports, rss = probe["load_s"], probe["import_s"], probe["rss_mb"]
    own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  model load                    {load:.2f} s (imports {imports:.2f} s)  target < 2 s")
    print(f"  worker RSS with model         {rss:.0f} MB  target < 400 MB  ({probe['model']})")
    print(f"  this process max RSS          {own_rss:.0f} MB")


if __name__ == "__main__":
    main()
