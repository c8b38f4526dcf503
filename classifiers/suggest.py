"""Rule suggestions from corrections: terms that separate the corrected label from the one
the classifier gave (zh: Han character 2–4-grams, en: words and word pairs).

A term is proposed for the corrected label's rule group when it occurs in at least
`min_support` corrections toward that label and is much rarer in the examples of the
label that was predicted (smoothed log-odds of document frequencies).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from classifiers.corpus import LabelledExample
from classifiers.text import normalise

HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
WORD = re.compile(r"[a-z][a-z'-]{2,}")
EN_STOP = frozenset(
    [
        "the",
        "and",
        "was",
        "were",
        "with",
        "for",
        "that",
        "this",
        "but",
        "have",
        "has",
        "had",
        "not",
        "are",
        "you",
        "your",
        "our",
        "from",
        "they",
        "them",
        "when",
        "what",
        "which",
        "there",
        "their",
        "just",
        "very",
        "also",
        "into",
        "been",
        "then",
        "than",
        "its",
        "it's",
        "i'm",
        "i've",
    ]
)


@dataclass
class Suggestion:
    group: str  # rules.yaml group, e.g. departments.logistics or flags.safety
    language: str
    phrase: str
    score: float
    support: int
    examples: list[str] = field(default_factory=list)  # references of supporting corrections


def terms(text: str) -> set[tuple[str, str]]:
    """(language, term) pairs of one text, each once."""
    clean = normalise(text)
    found: set[tuple[str, str]] = set()
    for run in HAN_RUN.findall(clean):
        for size in (2, 3, 4):
            found.update(("zh", run[i : i + size]) for i in range(len(run) - size + 1))
    words = [w for w in WORD.findall(clean) if w not in EN_STOP]
    found.update(("en", w) for w in words)
    found.update(("en", f"{a} {b}") for a, b in itertools.pairwise(words))
    return found


def _targets(row: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(group, predicted label) pairs a correction argues for."""
    before = row.get("previous") or {}
    out: list[tuple[str, str | None]] = []
    if row.get("department") and row.get("department") != before.get("department"):
        out.append((f"departments.{row['department']}", before.get("department")))
    for flag in set(row.get("flags") or []) - set(before.get("flags") or []):
        out.append((f"flags.{flag}", None))
    return out


def suggest(
    corrections: Sequence[dict[str, Any]],
    background: Sequence[LabelledExample],
    known: dict[str, set[str]] | None = None,
    *,
    min_support: int = 3,
    per_group: int = 8,
) -> list[Suggestion]:
    """Proposals per rule group, best first; `known` phrases per group are left out."""
    known = known or {}
    positives: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for row in corrections:
        for target in _targets(row):
            positives.setdefault(target, []).append(row)
    out: list[Suggestion] = []
    for (group, predicted), rows in sorted(positives.items(), key=lambda kv: str(kv[0])):
        if len(rows) < min_support:
            continue
        negatives = _negatives(background, group, predicted)
        out.extend(_rank(group, rows, negatives, known.get(group, set()), min_support, per_group))
    return out


def _negatives(
    background: Sequence[LabelledExample], group: str, predicted: str | None
) -> list[str]:
    section, _, label = group.partition(".")
    if section == "departments":
        wanted = predicted
        return [
            e.item.text
            for e in background
            if e.labels.department
            and e.labels.department != label
            and (wanted is None or e.labels.department == wanted)
        ]
    return [e.item.text for e in background if label not in e.labels.flags]


def _rank(
    group: str,
    rows: list[dict[str, Any]],
    negatives: Iterable[str],
    known: set[str],
    min_support: int,
    limit: int,
) -> list[Suggestion]:
    pos: Counter[tuple[str, str]] = Counter()
    refs: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        for term in terms(str(row.get("text") or "")):
            pos[term] += 1
            refs.setdefault(term, []).append(str(row.get("reference") or ""))
    neg_docs = [terms(text) for text in negatives]
    neg: Counter[tuple[str, str]] = Counter()
    for doc in neg_docs:
        neg.update(t for t in doc if t in pos)
    n_pos, n_neg = len(rows), max(len(neg_docs), 1)
    scored: list[Suggestion] = []
    for term, count in pos.items():
        if count < min_support or term[1] in known:
            continue
        odds = math.log((count + 0.5) / (n_pos + 1)) - math.log((neg[term] + 0.5) / (n_neg + 1))
        if odds <= 1.0:
            continue
        scored.append(Suggestion(group, term[0], term[1], round(odds, 3), count, refs[term][:5]))
    scored.sort(key=lambda s: (-s.score, -len(s.phrase), s.phrase))
    chosen: list[Suggestion] = []
    for candidate in scored:  # a shorter term inside a chosen longer one adds nothing
        if any(
            candidate.phrase in kept.phrase and candidate.support <= kept.support for kept in chosen
        ):
            continue
        chosen.append(candidate)
        if len(chosen) >= limit:
            break
    return chosen
