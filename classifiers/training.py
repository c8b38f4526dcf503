"""Train the learned model from the labelled corpus (+ supervisors' corrections).

`python -m classifiers.training [--out DIR] [--data PATH ...] [--holdout 0.2]`.
Reproducible: a fixed seed (config/model.yaml), files read in sorted order, examples sorted
by id before a seeded shuffle. Each component is updated with its own examples, because spaCy's
exclusive text classifier rejects a document that carries positive labels of several tasks.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import math
import random
import shutil
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spacy
import yaml
from spacy.language import Language
from spacy.training import Example
from spacy.util import minibatch

from classifiers.augment import augment
from classifiers.corpus import DEFAULT_TRAIN_DIRS, LabelledExample, load_examples
from classifiers.model import (
    COMPONENTS,
    DEFAULT_MODEL_DIR,
    META_FILE,
    STRUCTURAL_REASONS,
    model_text,
    textcat_config,
)
from classifiers.taxonomy import CONFIG_DIR, Taxonomy, load_taxonomy
from classifiers.tokenizer import blank_pipeline

log = logging.getLogger(__name__)

DEFAULT_TRAIN_CONFIG = CONFIG_DIR / "model.yaml"


@dataclass
class TrainReport:
    model_dir: Path
    model_version: str
    examples: int
    seconds: float
    losses: dict[str, float] = field(default_factory=dict)


def targets(example: LabelledExample, taxonomy: Taxonomy) -> dict[str, dict[str, float]]:
    """Per-component cats for one example (a component is left out when it has no label)."""
    labels = example.labels
    out: dict[str, dict[str, float]] = {}
    reason = labels.reason if labels.validity == "invalid" else None
    content_class = "valid" if reason is None or reason in STRUCTURAL_REASONS else reason
    validity_classes = [
        "valid",
        *[r for r in taxonomy.invalid_reasons if r not in STRUCTURAL_REASONS],
    ]
    if content_class in validity_classes:
        out["validity"] = {f"validity:{c}": float(c == content_class) for c in validity_classes}
    if labels.severity in taxonomy.severities:
        out["severity"] = {
            f"severity:{s}": float(s == labels.severity) for s in taxonomy.severities
        }
    if labels.validity == "valid" and labels.department in taxonomy.departments:
        out["department"] = {
            f"department:{d}": float(d == labels.department) for d in taxonomy.department_names
        }
    out["flag"] = {f"flag:{f}": float(f in labels.flags) for f in taxonomy.flags}
    if example.tasks is not None:
        out = {task: cats for task, cats in out.items() if task in example.tasks}
    return out


def load_train_config(path: Path | None = None) -> dict[str, Any]:
    with (path or DEFAULT_TRAIN_CONFIG).open(encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle))


def build_pipeline(taxonomy: Taxonomy, config: dict[str, Any]) -> Language:
    nlp = blank_pipeline()
    ngram, length = int(config["ngram_size"]), int(config["length"])
    for task, name in COMPONENTS.items():
        factory = "textcat_multilabel" if task == "flag" else "textcat"
        nlp.add_pipe(factory, name=name, config=textcat_config(task != "flag", ngram, length))
    return nlp


def _labels(task: str, taxonomy: Taxonomy) -> list[str]:
    if task == "validity":
        return [
            f"validity:{c}"
            for c in ["valid", *taxonomy.invalid_reasons]
            if c not in STRUCTURAL_REASONS
        ]
    if task == "severity":
        return [f"severity:{s}" for s in taxonomy.severities]
    if task == "department":
        return [f"department:{d}" for d in taxonomy.department_names]
    return [f"flag:{f}" for f in taxonomy.flags]


def train(
    examples: Sequence[LabelledExample],
    out_dir: Path,
    taxonomy: Taxonomy,
    config: dict[str, Any],
    *,
    version: str | None = None,
) -> TrainReport:
    """Fit every component and write the pipeline plus `classifier.json` to `out_dir`
    (`version`: the name, by default the data version)."""
    started = time.perf_counter()
    seed = int(config["seed"])
    spacy.util.fix_random_seed(seed)
    ordered = _ordered(examples)
    nlp = build_pipeline(taxonomy, config)
    per_task = _task_examples(nlp, ordered, taxonomy, config)
    for task, name in COMPONENTS.items():
        component = nlp.get_pipe(name)
        task_examples = per_task[task]
        component.initialize(lambda t=task_examples: t, nlp=nlp, labels=_labels(task, taxonomy))  # type: ignore[attr-defined]
    optimizer = nlp.create_optimizer()
    losses = _fit(nlp, per_task, optimizer, int(config["epochs"]), config)
    version = version or data_version(ordered, config)
    _write(nlp, out_dir, version, len(ordered), config)
    return TrainReport(out_dir, version, len(ordered), time.perf_counter() - started, losses)


def fine_tune(
    base: Path,
    corrections: Sequence[LabelledExample],
    rehearsal: Sequence[LabelledExample],
    out_dir: Path,
    taxonomy: Taxonomy,
    config: dict[str, Any],
    *,
    tasks: Collection[str],
    version: str,
) -> TrainReport:
    """The model in `base` with the components of `tasks` updated on `corrections` beside a
    seeded sample of `rehearsal` (the corpus it was trained on), `config["replay"]` times the
    corrections' size, for `config["finetune_epochs"]` passes of `finetune_batch_size`-sized
    steps (0: one step over the whole set) at `finetune_learn_rate`; the rest copied as is.

    Why not from scratch: a component trained again from scratch on the corpus plus a few
    dozen corrections lands elsewhere (another order of the examples): tens of regression
    decisions flip, several per label, which no per-label F1 gate can tell from damage. An
    update that starts from the live weights and keeps replaying the corpus moves what the
    corrections push on and little else.
    """
    started = time.perf_counter()
    seed = int(config["seed"])
    spacy.util.fix_random_seed(seed)
    nlp = spacy.load(base)
    for task in tasks:
        have = set(nlp.get_pipe(COMPONENTS[task]).labels)  # type: ignore[attr-defined]
        if have != set(_labels(task, taxonomy)):
            raise ValueError(f"{COMPONENTS[task]} of {base} has other labels than the taxonomy")
    unbalanced = {**config, "balance_departments": 0}
    fixes = _task_examples(nlp, _ordered(corrections), taxonomy, unbalanced)
    corpus = _task_examples(nlp, _ordered(rehearsal), taxonomy, config)
    rng = random.Random(seed)
    per_task: dict[str, list[Example]] = {}
    for task in COMPONENTS:
        if task in tasks and fixes[task]:
            total = round(len(fixes[task]) * (1 + float(config["replay"])))
            per_task[task] = fixes[task] + _rehearsal(
                fixes[task], corpus[task], total, rng, float(config.get("hard_negatives", 0))
            )
    optimizer = nlp.resume_training()
    # Few large steps: Adam moves every weight a batch touches by about the learning rate
    # whatever its gradient, so many small batches led by the corrections' loss push all their
    # words (also "the", "delivered", 订单号) toward the corrected label, and long texts with
    # many such words flip. A large batch sums the corrections with the replayed examples
    # first, so only what they do not cancel moves.
    tuned = {
        **config,
        "learn_rate": float(config.get("finetune_learn_rate") or config["learn_rate"]),
        "batch_size": int(config.get("finetune_batch_size") or 0)
        or max((len(v) for v in per_task.values()), default=1),
    }
    losses = _fit(nlp, per_task, optimizer, int(config["finetune_epochs"]), tuned)
    count = len(corrections) + len(rehearsal)
    _write(nlp, out_dir, version, count, config)
    return TrainReport(out_dir, version, count, time.perf_counter() - started, losses)


def _rehearsal(
    fixes: list[Example],
    corpus: list[Example],
    total: int,
    rng: random.Random,
    hard: float = 0.0,
) -> list[Example]:
    """A seeded sample of `corpus` that brings `fixes` up to `total` examples with each
    class's share as in the corpus.

    Why by class: corrections usually all point at one label; replayed at random beside
    them, that label's share of the update grows and the model starts to give it to
    everything (its precision falls). Topping every class up to its corpus share keeps the
    prior near where it was, so the update moves the words, not the label's base rate; the
    corrected class still replays at least half its share of its own corpus examples, or
    the model would forget them for the corrections' wording. With `hard` > 0 that share of
    every other class's quota is the examples that share most of the corrections' salient
    words (hard negatives; measured: no gain on the retrain bench, so off by default).
    """

    def label(example: Example) -> str:
        cats = example.reference.cats
        return max(cats, key=lambda key: cats[key]) if cats else ""

    by_class: dict[str, list[Example]] = {}
    for example in corpus:
        by_class.setdefault(label(example), []).append(example)
    have: dict[str, int] = {}
    for example in fixes:
        have[label(example)] = have.get(label(example), 0) + 1
    salient = _salient_features(fixes, corpus)
    out: list[Example] = []
    for name in sorted(by_class):
        pool = by_class[name]
        share = round(total * len(pool) / len(corpus))
        want = max(0, min(max(share - have.get(name, 0), share // 2), len(pool)))
        if name in have or not salient or hard <= 0:
            out.extend(rng.sample(pool, want))
            continue
        matched = _matching(pool, salient, round(want * hard), rng)
        taken = {id(example) for example in matched}
        rest = [example for example in pool if id(example) not in taken]
        out.extend(matched + rng.sample(rest, max(0, min(want - len(matched), len(rest)))))
    return out


def _features(example: Example) -> set[str]:
    """The words (and word pairs: Han character bigrams) of an example, lowercased."""
    words = [t.lower_ for t in example.reference if not (t.is_punct or t.is_space)]
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def _salient_features(
    fixes: list[Example], corpus: list[Example], top: int = 40
) -> dict[str, float]:
    """The features the corrections share and the corpus rarely has, with their weight
    (share among the corrections × inverse corpus frequency).

    Why: these are what an update on the corrections pushes toward the corrected label; a
    word that recurs in them only by chance ("delivered", an order number) is pushed as hard
    as the words that carry the meaning.
    """
    if not fixes:
        return {}
    in_fixes: dict[str, int] = {}
    for example in fixes:
        for feature in _features(example):
            in_fixes[feature] = in_fixes.get(feature, 0) + 1
    frequent = {f: n / len(fixes) for f, n in in_fixes.items() if n / len(fixes) >= 0.1}
    in_corpus: dict[str, int] = dict.fromkeys(frequent, 0)
    unique = {id(e): e for e in corpus}
    for example in unique.values():
        for feature in _features(example) & frequent.keys():
            in_corpus[feature] += 1
    size = len(unique) + 1
    # A feature the corpus never has (a template's order number) finds no example to learn
    # from; one most examples have ("the", "的") is replayed plenty already.
    weights = {
        f: share * math.log(size / (in_corpus[f] + 1))
        for f, share in frequent.items()
        if 3 <= in_corpus[f] <= 0.2 * size
    }
    best = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:top]
    return {feature: weight for feature, weight in best if weight > 0}


def _matching(
    pool: list[Example], salient: dict[str, float], count: int, rng: random.Random
) -> list[Example]:
    """Up to `count` distinct examples of `pool` that share most of the `salient` features
    (ties in seeded random order); only examples that share at least one.

    Why: replayed beside the corrections with their own label, they show the update that
    those words alone do not mean the corrected label (hard negatives).
    """
    unique = list({id(example): example for example in pool}.values())
    keys = [rng.random() for _ in unique]
    scored = [
        (sum(salient.get(f, 0.0) for f in _features(example)), key, index)
        for index, (example, key) in enumerate(zip(unique, keys, strict=True))
    ]
    ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
    return [unique[index] for _score, _key, index in ranked[:count]]


def _ordered(examples: Sequence[LabelledExample]) -> list[LabelledExample]:
    return sorted(examples, key=lambda e: (e.source, e.item.id or "", e.item.text))


def _task_examples(
    nlp: Language,
    ordered: Sequence[LabelledExample],
    taxonomy: Taxonomy,
    config: dict[str, Any],
) -> dict[str, list[Example]]:
    """Per-component spaCy examples: the data, its channel-style variants, balanced."""
    seed = int(config["seed"])
    expanded = list(ordered)
    for copy in range(int(config.get("augment_copies", 0))):
        expanded.extend(augment(ordered, seed=seed + copy))
    per_task: dict[str, list[Example]] = {task: [] for task in COMPONENTS}
    for example in expanded:
        doc = nlp.make_doc(model_text(example.item))
        for task, cats in targets(example, taxonomy).items():
            reference = doc.copy()
            reference.cats = cats
            per_task[task].append(Example(doc, reference))
    if config.get("balance_departments"):
        per_task["department"] = _balanced(
            per_task["department"], float(config["balance_departments"])
        )
    return per_task


def _fit(
    nlp: Language,
    per_task: dict[str, list[Example]],
    optimizer: Any,
    epochs: int,
    config: dict[str, Any],
) -> dict[str, float]:
    """Seeded shuffled minibatch updates, component by component, for `epochs` passes
    (only the components `per_task` names)."""
    rng = random.Random(int(config["seed"]))
    optimizer.learn_rate = float(config["learn_rate"])
    losses: dict[str, float] = {}
    for _epoch in range(epochs):
        losses = {}
        for task, name in COMPONENTS.items():
            if task not in per_task:
                continue
            component = nlp.get_pipe(name)
            batch_pool = list(per_task[task])
            rng.shuffle(batch_pool)
            for batch in minibatch(batch_pool, size=int(config["batch_size"])):
                component.update(batch, sgd=optimizer, drop=float(config["dropout"]), losses=losses)  # type: ignore[attr-defined]
    return losses


def _balanced(examples: list[Example], up_to: float) -> list[Example]:
    """Repeat examples of rare classes (up to `up_to` copies) toward the largest class size,
    so a department with few examples is not drowned by `quality`."""
    by_class: dict[str, list[Example]] = {}
    for example in examples:
        cats = example.reference.cats
        label = max(cats, key=lambda key: cats[key])
        by_class.setdefault(label, []).append(example)
    largest = max((len(v) for v in by_class.values()), default=0)
    out: list[Example] = []
    for label in sorted(by_class):
        items = by_class[label]
        factor = min(up_to, largest / len(items))
        whole, part = int(factor), factor - int(factor)
        out.extend(items * whole + items[: round(part * len(items))])
    return out


def data_version(examples: Sequence[LabelledExample], config: dict[str, Any]) -> str:
    """The model version the data and config give: the same inputs, the same version."""
    ordered = sorted(examples, key=lambda e: (e.source, e.item.id or "", e.item.text))
    digest = hashlib.sha256()
    digest.update(json.dumps(config, sort_keys=True).encode())
    for example in ordered:
        digest.update(model_text(example.item).encode())
        digest.update(repr(example.labels).encode())
        if example.tasks is not None:
            digest.update(repr(sorted(example.tasks)).encode())
    return f"model-{digest.hexdigest()[:12]}"


def installed_version(model_dir: Path) -> str | None:
    """The version of the model in `model_dir`, or None when there is none to read."""
    try:
        meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = meta.get("model_version") if isinstance(meta, dict) else None
    return str(version) if version else None


def _write(nlp: Language, out_dir: Path, version: str, count: int, config: dict[str, Any]) -> None:
    """Write to a temporary sibling first so a crash never leaves a half-written model."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(out_dir.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)
    nlp.meta["name"] = "hengtai_complaints"
    nlp.meta["version"] = "0.0.0"
    nlp.to_disk(staging)
    meta = {
        "model_version": version,
        "examples": count,
        "config": config,
        "spacy": spacy.__version__,
    }
    (staging / META_FILE).write_text(
        json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)


def split_holdout(
    examples: Sequence[LabelledExample], fraction: float, seed: int
) -> tuple[list[LabelledExample], list[LabelledExample]]:
    """A seeded, stratified-by-label split of the training corpus (never the dev set)."""
    groups: dict[str, list[LabelledExample]] = {}
    for example in sorted(examples, key=lambda e: (e.source, e.item.id or "", e.item.text)):
        key = f"{example.labels.reason}|{example.labels.department}|{example.labels.severity}"
        groups.setdefault(key, []).append(example)
    rng = random.Random(seed)
    train_part: list[LabelledExample] = []
    held: list[LabelledExample] = []
    for key in sorted(groups):
        items = groups[key]
        rng.shuffle(items)
        cut = round(len(items) * fraction)
        held.extend(items[:cut])
        train_part.extend(items[cut:])
    return train_part, held


def train_default(
    out_dir: Path = DEFAULT_MODEL_DIR,
    data: Sequence[Path] = DEFAULT_TRAIN_DIRS,
    config_path: Path | None = None,
    taxonomy_path: Path | None = None,
    holdout: float = 0.0,
    only_if_changed: bool = False,
) -> TrainReport | None:
    """Train from files; with `only_if_changed`, None when the installed model is current."""
    taxonomy = load_taxonomy(taxonomy_path)
    config = load_train_config(config_path)
    examples = load_examples(data)
    if holdout > 0:
        examples, _ = split_holdout(examples, holdout, int(config["seed"]))
    if not examples:
        raise SystemExit(f"no labelled examples found in {', '.join(map(str, data))}")
    if only_if_changed and installed_version(out_dir) == data_version(examples, config):
        return None
    return train(examples, out_dir, taxonomy, config)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the complaint classifier model.")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--data", type=Path, nargs="*", default=list(DEFAULT_TRAIN_DIRS))
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--taxonomy", type=Path, default=None)
    parser.add_argument(
        "--holdout", type=float, default=0.0, help="leave this share out (for checks)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    report = train_default(args.out, args.data, args.config, args.taxonomy, args.holdout)
    assert report is not None
    print(
        f"trained {report.model_version} on {report.examples} examples "
        f"in {report.seconds:.1f}s -> {report.model_dir}"
    )


if __name__ == "__main__":
    main()
