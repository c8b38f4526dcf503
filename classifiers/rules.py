"""The rule layer: weighted keyword and pattern rules with negation and figurative guards.

Rules are configuration (`config/rules.yaml`, format documented there and in
docs/classification.md). Phrases run through one spaCy PhraseMatcher over the normalised,
script-tokenised text; counted phrasing ("修了3次") runs as regexes. A group's score is the sum
of the weights of the distinct phrases that matched and survived the guards:

- figurative: a match lying inside a figurative span ("火速", "killing me") does not count;
- negation: in a negatable group, a negation cue ending at most `window` tokens before the
  match, with no clause breaker in between, cancels it ("没有冒烟", "no fire, just noise").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from classifiers.taxonomy import Taxonomy
from classifiers.text import normalise

_BRACES = re.compile(r"\{([^{}]*)\}")

FIGURATIVE = "guard:figurative"
NEGATION = {"zh": "guard:negation:zh", "en": "guard:negation:en"}
NEGATION_EXCEPTION = "guard:negation:exception"


def expand(phrase: str) -> list[str]:
    """`"leak{,s,ed}"` → `["leak", "leaks", "leaked"]` (one brace group per phrase at a time)."""
    match = _BRACES.search(phrase)
    if not match:
        return [phrase]
    head, tail = phrase[: match.start()], phrase[match.end() :]
    out: list[str] = []
    for option in match.group(1).split(","):
        out.extend(expand(head + option + tail))
    return out


@dataclass(frozen=True, slots=True)
class Hit:
    """One rule that counted: which group, the words that matched, and their weight."""

    group: str
    phrase: str
    weight: float


@dataclass
class RuleResult:
    """Scores per group and the hits behind them (for explanations)."""

    scores: dict[str, float] = field(default_factory=dict)
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    suppressed: list[str] = field(default_factory=list)

    def score(self, group: str) -> float:
        return self.scores.get(group, 0.0)

    def phrases(self, group: str) -> list[str]:
        return [hit.phrase for hit in self.hits.get(group, [])]


@dataclass(frozen=True)
class _Negation:
    window: int
    breakers: frozenset[str]


@dataclass
class RuleGroup:
    """One label's rules as configured."""

    name: str
    threshold: float
    negatable: bool
    tiers: list[tuple[float, list[str]]]
    patterns: list[tuple[float, re.Pattern[str]]]


@dataclass
class RuleSet:
    """The parsed rule file plus the taxonomy's scope lexicons."""

    version: str
    groups: dict[str, RuleGroup]
    figurative: list[str]
    negation_cues: dict[str, list[str]]
    negation_exceptions: list[str]
    negation: dict[str, _Negation]

    @classmethod
    def load(cls, path: Path, taxonomy: Taxonomy) -> RuleSet:
        with path.open(encoding="utf-8") as handle:
            raw: dict[str, Any] = yaml.safe_load(handle)
        groups: dict[str, RuleGroup] = {}
        sections = {"flags": "flag", "validity": "validity", "severity": "severity",
                    "departments": "department", "signals": "signal"}  # fmt: skip
        for section, prefix in sections.items():
            for name, spec in (raw.get(section) or {}).items():
                group = _parse_group(f"{prefix}:{name}", spec or {}, negatable=prefix == "flag")
                groups[group.name] = group
        scope = taxonomy.scope
        groups["scope:own"] = RuleGroup("scope:own", 1.0, False, [(1.0, scope.own_brands)], [])
        groups["scope:other_brand"] = RuleGroup(
            "scope:other_brand", 1.0, False, [(1.0, scope.other_brands)], []
        )
        lines = [p for phrases in scope.product_lines.values() for p in phrases]
        groups["scope:product"] = RuleGroup("scope:product", 1.0, False, [(1.0, lines)], [])
        guards = raw.get("guards") or {}
        figurative = [
            p for lang in ("zh", "en") for p in (guards.get("figurative") or {}).get(lang, [])
        ]
        negation_raw = guards.get("negation") or {}
        return cls(
            version=str(raw.get("version", "rules")),
            groups=groups,
            figurative=figurative,
            negation_cues={lang: list(spec.get("cues", [])) for lang, spec in negation_raw.items()},
            negation_exceptions=[
                p for spec in negation_raw.values() for p in spec.get("exceptions", [])
            ],
            negation={
                lang: _Negation(int(spec.get("window", 4)), frozenset(spec.get("breakers", [])))
                for lang, spec in negation_raw.items()
            },
        )

    def compile(self, nlp: Language) -> CompiledRules:
        return CompiledRules(self, nlp)


def _parse_group(name: str, spec: dict[str, Any], negatable: bool) -> RuleGroup:
    tiers: list[tuple[float, list[str]]] = []
    for tier in spec.get("phrases") or []:
        weight = float(tier.get("weight", 1.0))
        phrases = [str(p) for lang in ("zh", "en") for p in tier.get(lang) or []]
        tiers.append((weight, phrases))
    patterns = [
        (float(item.get("weight", 1.0)), re.compile(item["regex"], re.I))
        for item in spec.get("patterns") or []
    ]
    return RuleGroup(
        name=name,
        threshold=float(spec.get("threshold", 1.0)),
        negatable=bool(spec.get("negatable", negatable)),
        tiers=tiers,
        patterns=patterns,
    )


class CompiledRules:
    """The rule set bound to one spaCy vocabulary, ready to run on documents."""

    def __init__(self, rules: RuleSet, nlp: Language) -> None:
        self.rules = rules
        self.version = rules.version
        self._matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._weights: dict[int, tuple[str, float]] = {}

        def add(key: str, phrases: list[str]) -> int:
            docs = [
                nlp.make_doc(text)
                for phrase in phrases
                for text in {normalise(variant) for variant in expand(phrase)}
                if text
            ]
            if docs:
                self._matcher.add(key, docs)
            return int(nlp.vocab.strings.add(key))

        for group in rules.groups.values():
            for index, (weight, phrases) in enumerate(group.tiers):
                key_id = add(f"{group.name}|{index}", phrases)
                self._weights[key_id] = (group.name, weight)
        self._figurative = add(FIGURATIVE, rules.figurative)
        self._negation = {
            add(NEGATION[lang], cues): lang for lang, cues in rules.negation_cues.items()
        }
        self._exception = add(NEGATION_EXCEPTION, rules.negation_exceptions)

    def apply(self, doc: Doc) -> RuleResult:
        """Score every group on one document (its text is the normalised text)."""
        figurative: list[tuple[int, int]] = []
        exceptions: list[tuple[int, int]] = []
        cues: list[tuple[int, int, str]] = []
        keyword_matches: list[tuple[int, int, int]] = []
        for key_id, start, end in self._matcher(doc):
            if key_id == self._figurative:
                figurative.append((start, end))
            elif key_id == self._exception:
                exceptions.append((start, end))
            elif key_id in self._negation:
                cues.append((start, end, self._negation[key_id]))
            else:
                keyword_matches.append((key_id, start, end))
        cues = [
            (s, e, lang) for s, e, lang in cues
            if not any(xs <= s and e <= xe for xs, xe in exceptions)
        ]  # fmt: skip

        result = RuleResult()
        seen: set[tuple[str, str]] = set()
        for key_id, start, end in keyword_matches:
            group_name, weight = self._weights[key_id]
            phrase = doc[start:end].text
            group = self.rules.groups[group_name]
            # Guards apply to negatable groups (flags, severity, problem cues); lexicon groups
            # such as out-of-scope industries must still see "银行" inside "工商银行".
            if group.negatable and any(fs <= start and end <= fe for fs, fe in figurative):
                result.suppressed.append(f"{group_name}: '{phrase}' figurative")
                continue
            if group.negatable and self._negated(doc, start, cues):
                result.suppressed.append(f"{group_name}: '{phrase}' negated")
                continue
            if (group_name, phrase) in seen:
                continue
            seen.add((group_name, phrase))
            self._add(result, Hit(group_name, phrase, weight))
        text = doc.text
        for group in self.rules.groups.values():
            for weight, pattern in group.patterns:
                match = pattern.search(text)
                if match and (group.name, match.group()) not in seen:
                    seen.add((group.name, match.group()))
                    self._add(result, Hit(group.name, match.group(), weight))
        return result

    def _negated(self, doc: Doc, start: int, cues: list[tuple[int, int, str]]) -> bool:
        for cue_start, cue_end, lang in cues:
            settings = self.rules.negation[lang]
            if cue_end <= start and start - cue_end <= settings.window and cue_start < start:
                between = doc[cue_end:start]
                if not any(token.text in settings.breakers for token in between):
                    return True
        return False

    @staticmethod
    def _add(result: RuleResult, hit: Hit) -> None:
        result.hits.setdefault(hit.group, []).append(hit)
        result.scores[hit.group] = result.scores.get(hit.group, 0.0) + hit.weight

    def fired(self, result: RuleResult, group: str) -> bool:
        spec = self.rules.groups.get(group)
        return spec is not None and result.score(group) >= spec.threshold
